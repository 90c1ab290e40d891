#include "proxy/core/transport.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace baton::core {

namespace {
// Reads start small (a request head fits, and a small buffer stays in the allocator's thread
// cache) and grow while reads fill them, up to 64 KiB for bodies.
constexpr size_t kMinReadChunk = 4 * 1024;
constexpr size_t kMaxReadChunk = 64 * 1024;
// TLS writes go out one full record at a time: fewer records = less framing and fewer MACs.
constexpr size_t kTlsRecordBytes = 16 * 1024;
}  // namespace

namespace {
thread_local BufferAccount* t_account = nullptr;
}  // namespace

// ---- Source address ---------------------------------------------------------------------------

namespace {
struct SourceAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;  // 0 = the kernel's choice
};
std::mutex g_source_mutex;
SourceAddress g_source;  // guarded by g_source_mutex
std::atomic<uint64_t> g_source_version{0};
thread_local uint64_t t_source_version = 0;
thread_local SourceAddress t_source;

const SourceAddress& currentSource() {
  const uint64_t version = g_source_version.load(std::memory_order_acquire);
  if (version != t_source_version) {
    std::lock_guard lock(g_source_mutex);
    t_source = g_source;
    t_source_version = g_source_version.load(std::memory_order_relaxed);
  }
  return t_source;
}

// Binds `fd` (about to connect to a `family` address) to the source address, if one is set.
Result<void> bindSource(int fd, int family) {
  const SourceAddress& source = currentSource();
  if (source.len == 0 || source.addr.ss_family != family) return {};
  int one = 1;
  // Best effort: without it (old kernels) bind() picks the port, which still works.
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source.addr), source.len) != 0) {
    const int err = errno;
    return fail(
        Error::upstream(ErrorCode::UpstreamConnectFailed, true,
                        "bind to source address " + connectSource() + ": " + std::strerror(err)));
  }
  return {};
}
}  // namespace

Result<void> setConnectSource(std::string_view ip) {
  SourceAddress next;
  if (!ip.empty()) {
    const std::string text(ip);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&next.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&next.addr);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      next.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      next.len = sizeof(sockaddr_in6);
    } else {
      return fail(Error::config("source address \"" + text + "\": not a numeric IP address"));
    }
  }
  std::lock_guard lock(g_source_mutex);
  g_source = next;
  g_source_version.fetch_add(1, std::memory_order_release);
  return {};
}

std::string connectSource() {
  SourceAddress source;
  {
    std::lock_guard lock(g_source_mutex);
    source = g_source;
  }
  if (source.len == 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      source.addr.ss_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&source.addr)->sin_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(&source.addr)->sin6_addr);
  inet_ntop(source.addr.ss_family, raw, text, sizeof(text));
  return text;
}

BufferAccount::~BufferAccount() {
  // Whatever this thread still published leaves the shared total with it.
  total_.fetch_sub(published_steps_ * kStep, std::memory_order_relaxed);
}

void BufferAccount::publish(int64_t steps) {
  total_.fetch_add((steps - published_steps_) * kStep, std::memory_order_relaxed);
  published_steps_ = steps;
}

BufferAccount* BufferAccount::current() {
  return t_account;
}

void BufferAccount::setCurrent(BufferAccount* account) {
  t_account = account;
}

Transport::Transport(EventLoop& loop, int fd, Handler* handler, size_t read_high_watermark)
    : Transport(loop, fd, handler, read_high_watermark, true) {}

Transport::Transport(EventLoop& loop, int fd, Handler* handler, size_t read_high_watermark,
                     bool connected)
    : loop_(loop),
      fd_(fd),
      handler_(handler),
      input_(evbuffer_new()),
      output_(evbuffer_new()),
      read_high_watermark_(read_high_watermark),
      write_low_watermark_(read_high_watermark / 2),
      connected_(connected) {
  attachAccount();
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  read_event_ = event_new(loop.base(), fd_, EV_READ | EV_PERSIST, &Transport::onReadEvent, this);
  write_event_ = event_new(loop.base(), fd_, EV_WRITE, &Transport::onWriteEvent, this);
  if (connected_) {
    updateReadInterest();
  } else {
    event_add(write_event_, nullptr);  // writable = connect finished (or failed)
    write_armed_ = true;
  }
}

Transport::Transport(EventLoop& loop, int fd, std::unique_ptr<SecureLayer> layer, Handler* handler,
                     size_t read_high_watermark)
    : Transport(loop, fd, handler, read_high_watermark, true) {
  attachSecure(std::move(layer));
}

Result<std::unique_ptr<Transport>> Transport::connect(EventLoop& loop, const sockaddr* addr,
                                                      socklen_t len,
                                                      const SecureLayerFactory& make_layer,
                                                      Handler* handler,
                                                      size_t read_high_watermark) {
  auto transport = connect(loop, addr, len, handler, read_high_watermark);
  if (!transport) return transport;
  auto layer = make_layer((*transport)->fd());
  if (!layer) return fail(std::move(layer.error()));
  (*transport)->attachSecure(std::move(*layer));
  return transport;
}

Result<std::unique_ptr<Transport>> Transport::connect(EventLoop& loop, const sockaddr* addr,
                                                      socklen_t len, Handler* handler,
                                                      size_t read_high_watermark) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(Error::upstream(ErrorCode::UpstreamConnectFailed, true,
                                std::string("socket: ") + std::strerror(errno)));
  }
  if (auto bound = bindSource(fd, addr->sa_family); !bound) {
    ::close(fd);
    return fail(std::move(bound.error()));
  }
  if (::connect(fd, addr, len) != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return fail(Error::upstream(ErrorCode::UpstreamConnectFailed, true,
                                std::string("connect: ") + std::strerror(err)));
  }
  return std::unique_ptr<Transport>(new Transport(loop, fd, handler, read_high_watermark, false));
}

Transport::~Transport() {
  detachAccount();
  loop_.cancelFlush(this);
  event_free(read_event_);
  event_free(write_event_);
  if (pending_event_ != nullptr) event_free(pending_event_);
  secure_.reset();  // before the descriptor it uses goes away
  evbuffer_free(input_);
  evbuffer_free(output_);
  if (fd_ >= 0) ::close(fd_);
}

// ---- Buffer accounting -----------------------------------------------------------------------

// evbuffer callbacks see every change, including drains and moves made by the handler on
// input() directly, so the count cannot drift from the buffers' real sizes.
void Transport::attachAccount() {
  account_ = BufferAccount::current();
  if (account_ == nullptr) return;
  input_cb_ = evbuffer_add_cb(input_, &Transport::onBufferChanged, this);
  output_cb_ = evbuffer_add_cb(output_, &Transport::onBufferChanged, this);
}

void Transport::detachAccount() {
  if (account_ == nullptr) return;
  evbuffer_remove_cb_entry(input_, input_cb_);
  evbuffer_remove_cb_entry(output_, output_cb_);
  account_->add(-static_cast<int64_t>(evbuffer_get_length(input_) + evbuffer_get_length(output_)));
  account_ = nullptr;
}

void Transport::onBufferChanged(evbuffer*, const evbuffer_cb_info* info, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  self->account_->add(static_cast<int64_t>(info->n_added) - static_cast<int64_t>(info->n_deleted));
}

// ---- Reading ---------------------------------------------------------------------------------

void Transport::onReadEvent(int, short, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  EventLoop::CallbackScope scope(self->loop_);
  self->readOnce();
}

void Transport::readOnce() {
  if (secure_ != nullptr) {
    secureReadOnce();
    return;
  }
  evbuffer_iovec vec[2];
  int n_vec = evbuffer_reserve_space(input_, static_cast<ev_ssize_t>(read_chunk_), vec, 2);
  if (n_vec <= 0) return;
  iovec iov[2];
  for (int i = 0; i < n_vec; ++i) iov[i] = {vec[i].iov_base, vec[i].iov_len};
  ssize_t n = ::readv(fd_, iov, n_vec);
  if (n < 0) {
    evbuffer_commit_space(input_, vec, 0);
    if (errno == EAGAIN || errno == EINTR) return;
    reportClosed(true, errno);
    return;
  }
  if (n == 0) {
    evbuffer_commit_space(input_, vec, 0);
    reportClosed(false, 0);
    return;
  }
  if (static_cast<size_t>(n) >= read_chunk_ && read_chunk_ < kMaxReadChunk) {
    read_chunk_ *= 2;
  } else if (static_cast<size_t>(n) < read_chunk_ / 4 && read_chunk_ > kMinReadChunk) {
    read_chunk_ /= 2;
  }
  size_t left = static_cast<size_t>(n);
  for (int i = 0; i < n_vec; ++i) {
    size_t used = left < vec[i].iov_len ? left : vec[i].iov_len;
    vec[i].iov_len = used;
    left -= used;
  }
  evbuffer_commit_space(input_, vec, n_vec);
  updateReadInterest();
  if (handler_ != nullptr) handler_->onTransportReadable();
}

void Transport::readRemaining() {
  while (!closed_ && !stopped_ && !read_eof_) {
    const size_t before = evbuffer_get_length(input_);
    readOnce();
    if (evbuffer_get_length(input_) == before) break;  // EAGAIN, EOF or error
  }
}

void Transport::pauseReading() {
  reading_paused_ = true;
  updateReadInterest();
}

void Transport::resumeReading() {
  reading_paused_ = false;
  updateReadInterest();
}

void Transport::setReadSuspended(bool suspended) {
  read_suspended_ = suspended;
  updateReadInterest();
}

void Transport::inputConsumed() {
  updateReadInterest();
}

void Transport::setHighWatermark(size_t bytes) {
  if (bytes == read_high_watermark_) return;
  read_high_watermark_ = bytes;
  write_low_watermark_ = bytes / 2;
  updateReadInterest();
}

bool Transport::wantsAppRead() const {
  return connected_ && !reading_paused_ && !read_suspended_ && !closed_ && !read_eof_ &&
         !stopped_ && evbuffer_get_length(input_) < read_high_watermark_;
}

void Transport::updateReadInterest() {
  bool want = wantsAppRead();
  if (secure_ != nullptr) {
    // Bytes already decrypted inside the layer will not make the socket readable: fetch them
    // from a loop callback of our own whenever reading is allowed.
    if (want && handshake_done_ && !read_wants_write_ && secure_->hasPending()) {
      schedulePendingRead();
    }
    want = secureWantsRead(want);
  }
  if (want == read_armed_) return;
  read_armed_ = want;
  if (want) {
    event_add(read_event_, nullptr);
  } else {
    event_del(read_event_);
  }
}

// ---- Writing ---------------------------------------------------------------------------------

void Transport::write(const void* data, size_t len) {
  if (len == 0 || stopped_) return;
  const bool was_empty = evbuffer_get_length(output_) == 0;
  evbuffer_add(output_, data, len);
  // A flush is already due, or cannot happen yet (connecting, TLS handshake running).
  if (!was_empty || write_armed_ || !connected_ || !handshake_done_) return;
  if (loop_.inCallback()) {
    loop_.scheduleFlush(this);
  } else {
    flush();
  }
}

void Transport::writeNow(const void* data, size_t len) {
  if (len == 0 || stopped_) return;
  if (secure_ != nullptr) {
    secureWriteNow(data, len);
    return;
  }
  if (connected_ && !closed_ && !write_armed_ && evbuffer_get_length(output_) == 0) {
    const ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(len)) return;
    if (n > 0) {
      data = static_cast<const char*>(data) + n;
      len -= static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      deferred_write_errno_ = errno;  // the socket may now say EPIPE: keep the first reason
    }
  }
  write(data, len);
}

size_t Transport::pendingOutput() const {
  return evbuffer_get_length(output_);
}

void Transport::onWriteEvent(int, short, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  EventLoop::CallbackScope scope(self->loop_);
  self->write_armed_ = false;
  if (!self->connected_) {
    self->finishConnect();
    return;
  }
  if (self->secure_ != nullptr) {
    if (!self->handshake_done_) {
      self->advanceHandshake();
      return;
    }
    if (self->read_wants_write_) {
      self->read_wants_write_ = false;
      self->updateReadInterest();
      self->secureReadOnce();
      if (self->closed_ || self->stopped_) return;
    }
  }
  self->flush();
}

void Transport::finishConnect() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    reportClosed(true, err);
    return;
  }
  connected_ = true;
  updateReadInterest();
  if (handler_ != nullptr) handler_->onTransportConnected();
  if (secure_ != nullptr && !closed_ && !stopped_) {
    advanceHandshake();  // the client speaks first
    return;
  }
  if (evbuffer_get_length(output_) > 0 && !write_armed_) loop_.scheduleFlush(this);
}

void Transport::flush() {
  if (stopped_ || closed_ || !connected_) return;
  if (secure_ != nullptr) {
    secureFlush();
    return;
  }
  const size_t before = evbuffer_get_length(output_);
  if (before > 0) {
    int n = evbuffer_write(output_, fd_);
    const int deferred = std::exchange(deferred_write_errno_, 0);  // this flush's only
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      const int err = deferred != 0 ? deferred : errno;
      // The peer may have answered and closed before reading all we sent (an early 413):
      // hand over what it did send before reporting the failure.
      readRemaining();
      reportClosed(true, err);
      return;
    }
  }
  const size_t after = evbuffer_get_length(output_);
  if (after > 0) {
    if (!write_armed_) {
      event_add(write_event_, nullptr);
      write_armed_ = true;
    }
  } else if (shutdown_pending_) {
    shutdown_pending_ = false;
    ::shutdown(fd_, SHUT_WR);
  }
  if (before > write_low_watermark_ && after <= write_low_watermark_ && handler_ != nullptr) {
    handler_->onTransportDrained();
  }
}

void Transport::shutdownWriteWhenFlushed() {
  if (evbuffer_get_length(output_) == 0 && handshake_done_) {
    if (secure_ != nullptr) secure_->shutdown();  // close_notify first
    ::shutdown(fd_, SHUT_WR);
  } else {
    shutdown_pending_ = true;
  }
}

void Transport::stop() {
  stopped_ = true;
  loop_.cancelFlush(this);
  if (pending_event_ != nullptr) event_del(pending_event_);
  updateReadInterest();
  if (write_armed_) {
    event_del(write_event_);
    write_armed_ = false;
  }
}

void Transport::reportClosed(bool error, int err) {
  if (closed_) return;
  if (!error) {
    if (read_eof_) return;
    read_eof_ = true;
    updateReadInterest();
    if (handler_ != nullptr) handler_->onTransportClosed(false, 0);
    return;
  }
  closed_ = true;
  updateReadInterest();
  if (write_armed_) {
    event_del(write_event_);
    write_armed_ = false;
  }
  if (handler_ != nullptr) handler_->onTransportClosed(error, err);
}

// ---- TLS -------------------------------------------------------------------------------------
//
// The layer does the socket I/O; the Transport only decides when to call it. Three things differ
// from the plain path: (1) nothing is read or written for the application until the handshake
// is done; (2) the layer may hold decrypted bytes the socket will never signal again
// (schedulePendingRead); (3) a read may need the socket writable (a TLS 1.3 KeyUpdate answer)
// and a write may need it readable, so each direction can borrow the other's event.

void Transport::attachSecure(std::unique_ptr<SecureLayer> layer) {
  secure_ = std::move(layer);
  handshake_done_ = false;
  handshake_wants_write_ = !connected_;  // a client writes first (see finishConnect)
  pending_event_ = event_new(loop_.base(), -1, 0, &Transport::onPendingEvent, this);
  updateReadInterest();
}

bool Transport::secureWantsRead(bool app_wants) const {
  if (closed_ || stopped_ || !connected_) return false;
  if (!handshake_done_) return !handshake_wants_write_;
  // While a read waits for writability, a readable socket would only spin on the same answer.
  return (app_wants && !read_wants_write_) || write_wants_read_;
}

void Transport::schedulePendingRead() {
  event_active(pending_event_, EV_READ, 0);  // runs after the current callback, same iteration
}

void Transport::onPendingEvent(int, short, void* arg) {
  auto* self = static_cast<Transport*>(arg);
  EventLoop::CallbackScope scope(self->loop_);
  if (self->wantsAppRead() && self->handshake_done_ && self->secure_->hasPending()) {
    self->secureReadOnce();
  }
}

void Transport::advanceHandshake() {
  const SecureLayer::IoResult r = secure_->handshake();
  switch (r.status) {
    case SecureLayer::Status::Ok:
      handshake_done_ = true;
      handshake_wants_write_ = false;
      if (write_armed_) {
        event_del(write_event_);
        write_armed_ = false;
      }
      updateReadInterest();
      if (handler_ != nullptr) handler_->onTransportSecured();
      if (stopped_ || closed_) return;
      if (evbuffer_get_length(output_) > 0 || shutdown_pending_) {
        if (loop_.inCallback()) {
          loop_.scheduleFlush(this);
        } else {
          flush();
        }
      }
      return;
    case SecureLayer::Status::WantRead:
      handshake_wants_write_ = false;
      if (write_armed_) {
        event_del(write_event_);
        write_armed_ = false;
      }
      updateReadInterest();
      return;
    case SecureLayer::Status::WantWrite:
      handshake_wants_write_ = true;
      updateReadInterest();
      if (!write_armed_) {
        event_add(write_event_, nullptr);
        write_armed_ = true;
      }
      return;
    case SecureLayer::Status::Eof:
    case SecureLayer::Status::Error:
      secureFailed("handshake", r);
      return;
  }
}

void Transport::secureReadOnce() {
  if (closed_ || stopped_) return;
  if (!handshake_done_) {
    advanceHandshake();
    return;
  }
  if (write_wants_read_) {
    write_wants_read_ = false;
    secureFlush();
    if (closed_ || stopped_) return;
    updateReadInterest();
  }
  if (!wantsAppRead() || read_wants_write_) return;
  // One contiguous reservation: the layer decrypts into a single buffer, record by record.
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(input_, static_cast<ev_ssize_t>(read_chunk_), &vec, 1) != 1) return;
  auto* base = static_cast<char*>(vec.iov_base);
  const size_t room = std::min(vec.iov_len, read_chunk_);  // the reservation may be larger
  size_t got = 0;
  SecureLayer::IoResult r;
  while (got < room) {
    r = secure_->read(base + got, room - got);
    if (r.status != SecureLayer::Status::Ok) break;
    got += r.bytes;
    // Nothing left inside the layer: stop, as the plain path stops after one readv. Asking
    // again would only cost a read() that says EAGAIN (one per request with HTTP/2 at one
    // stream per connection); the read event is level-triggered, so bytes that arrive
    // meanwhile still wake us.
    if (!secure_->hasPending()) break;
  }
  vec.iov_len = got;
  evbuffer_commit_space(input_, &vec, 1);
  if (got >= read_chunk_ && read_chunk_ < kMaxReadChunk) {
    read_chunk_ *= 2;
  } else if (got < read_chunk_ / 4 && read_chunk_ > kMinReadChunk) {
    read_chunk_ /= 2;
  }
  if (r.status == SecureLayer::Status::WantWrite) {
    read_wants_write_ = true;
    if (!write_armed_) {
      event_add(write_event_, nullptr);
      write_armed_ = true;
    }
  }
  updateReadInterest();  // also schedules what stayed inside the layer
  if (got > 0 && handler_ != nullptr) handler_->onTransportReadable();
  if (closed_ || stopped_) return;
  if (r.status == SecureLayer::Status::Eof) {
    reportClosed(false, 0);
  } else if (r.status == SecureLayer::Status::Error) {
    secureFailed("read", r);
  }
}

// writeNow over TLS: one SSL_write straight from the caller's bytes when nothing is queued
// (saves the output buffer's chain, the pullup and the end-of-callback flush). Whatever it does
// not take is queued exactly as secureFlush would have left it: the rest after a partial write;
// all of it, to be given again as it was, after WantWrite/WantRead; and a failure is reported by
// the flush that the queued bytes schedule, as if that flush had met it.
void Transport::secureWriteNow(const void* data, size_t len) {
  if (!connected_ || closed_ || !handshake_done_ || write_armed_ || write_wants_read_ ||
      read_wants_write_ || retry_write_len_ != 0 || deferred_secure_failure_ ||
      evbuffer_get_length(output_) != 0) {
    write(data, len);
    return;
  }
  const SecureLayer::IoResult r = secure_->write(data, len);
  switch (r.status) {
    case SecureLayer::Status::Ok:
      if (r.bytes < len) write(static_cast<const char*>(data) + r.bytes, len - r.bytes);
      return;
    case SecureLayer::Status::WantWrite:
      evbuffer_add(output_, data, len);
      retry_write_len_ = len;
      event_add(write_event_, nullptr);
      write_armed_ = true;
      return;
    case SecureLayer::Status::WantRead:
      evbuffer_add(output_, data, len);
      retry_write_len_ = len;
      write_wants_read_ = true;
      updateReadInterest();
      return;
    case SecureLayer::Status::Eof:
    case SecureLayer::Status::Error:
      deferred_secure_failure_ = r;
      write(data, len);
      return;
  }
}

void Transport::secureFlush() {
  if (deferred_secure_failure_) {
    const SecureLayer::IoResult failed = *deferred_secure_failure_;
    deferred_secure_failure_.reset();
    readRemaining();  // as below: what the peer sent before failing is still worth handing over
    secureFailed("write", failed);
    return;
  }
  if (!handshake_done_ || write_wants_read_) return;
  const size_t before = evbuffer_get_length(output_);
  while (evbuffer_get_length(output_) > 0) {
    // After WantRead/WantWrite the layer must be given the same bytes again.
    const size_t len = retry_write_len_ != 0
                           ? retry_write_len_
                           : std::min(evbuffer_get_length(output_), kTlsRecordBytes);
    const unsigned char* data = evbuffer_pullup(output_, static_cast<ev_ssize_t>(len));
    const SecureLayer::IoResult r = secure_->write(data, len);
    if (r.status == SecureLayer::Status::Ok) {
      retry_write_len_ = 0;
      evbuffer_drain(output_, r.bytes);
      continue;
    }
    if (r.status == SecureLayer::Status::WantWrite) {
      retry_write_len_ = len;
      if (!write_armed_) {
        event_add(write_event_, nullptr);
        write_armed_ = true;
      }
      break;
    }
    if (r.status == SecureLayer::Status::WantRead) {
      retry_write_len_ = len;
      write_wants_read_ = true;
      updateReadInterest();
      break;
    }
    readRemaining();  // what the peer sent before failing is still worth handing over
    secureFailed("write", r);
    return;
  }
  const size_t after = evbuffer_get_length(output_);
  if (after == 0 && shutdown_pending_) {
    shutdown_pending_ = false;
    secure_->shutdown();
    ::shutdown(fd_, SHUT_WR);
  }
  if (before > write_low_watermark_ && after <= write_low_watermark_ && handler_ != nullptr) {
    handler_->onTransportDrained();
  }
}

void Transport::secureFailed(std::string_view what, const SecureLayer::IoResult& r) {
  if (closed_) return;
  if (close_reason_.empty()) {
    std::string reason =
        r.status == SecureLayer::Status::Eof ? std::string("peer closed") : secure_->errorReason();
    close_reason_ = std::string("TLS ") + std::string(what) + ": " + reason;
  }
  reportClosed(true, r.sys_errno != 0 ? r.sys_errno : EPROTO);
}

}  // namespace baton::core
