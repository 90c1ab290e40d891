#include "proxy/upstream_h2.h"

#include <event2/buffer.h>

#include <algorithm>
#include <cstring>

#include "proxy/tls/client_context.h"

namespace baton::proxy {

namespace {

using core::Error;
using core::ErrorCode;

// Response window per stream: what one paused client can make the backend have sent ahead.
constexpr uint32_t kStreamWindow = 256 * 1024;

// The name a TLS backend is verified against (and sent as SNI): the host part of "ip:port" or
// "[v6]:port". Marathon hosts are addresses; a certificate for them needs an IP SAN (or
// tls_verify = false with a private CA on the network).
std::string hostPart(std::string_view address) {
  if (!address.empty() && address[0] == '[') {
    const size_t end = address.find(']');
    return std::string(end == std::string_view::npos ? address : address.substr(1, end - 1));
  }
  const size_t colon = address.rfind(':');
  return std::string(colon == std::string_view::npos ? address : address.substr(0, colon));
}

}  // namespace

// ---- H2UpstreamStream ------------------------------------------------------------------------

H2UpstreamStream::~H2UpstreamStream() {
  if (conn_ != nullptr) conn_->detach(this);
}

bool H2UpstreamStream::ready() const {
  return conn_ != nullptr && conn_->ready();
}

core::Result<void> H2UpstreamStream::sendHead(std::string_view method, std::string_view authority,
                                              std::string_view path,
                                              const http1::HeaderList& headers, bool head_request,
                                              bool end_stream) {
  if (conn_ == nullptr || !conn_->ready()) {
    return core::fail(Error::upstream(ErrorCode::UpstreamConnectFailed, true, "no connection"));
  }
  http2::ClientSession::Request r;
  r.method = method;
  r.scheme = conn_->options_.tls ? "https" : "http";
  r.authority = authority;
  r.path = path;
  r.headers = &headers;
  r.head_request = head_request;
  r.end_stream = end_stream;
  auto id = conn_->submit(this, r);
  if (!id) return core::fail(std::move(id.error()));
  return {};
}

void H2UpstreamStream::sendBody(const char* data, size_t len) {
  if (conn_ == nullptr || id_ == 0) return;
  conn_->session_->appendBody(id_, data, len);
  conn_->flush();
}

void H2UpstreamStream::endBody(http1::HeaderList trailers) {
  if (conn_ == nullptr || id_ == 0) return;
  conn_->session_->endBody(id_, std::move(trailers));
  conn_->flush();
}

size_t H2UpstreamStream::pendingOutput() const {
  if (conn_ == nullptr || id_ == 0) return 0;
  return conn_->session_->bufferedBytes(id_);
}

void H2UpstreamStream::pauseReading() {
  paused_ = true;
}

void H2UpstreamStream::resumeReading() {
  if (!paused_) return;
  paused_ = false;
  if (conn_ == nullptr || id_ == 0 || unconsumed_ == 0) return;
  conn_->session_->consume(id_, unconsumed_);
  unconsumed_ = 0;
  conn_->flush();
}

// Response bytes reach the handler at once; the window reopens for them only when the handler
// did not pause meanwhile.
void H2UpstreamStream::onData(const uint8_t* data, size_t len) {
  handler_->onUpstreamBody(reinterpret_cast<const char*>(data), len);
}

void H2UpstreamStream::onLost(Error error) {
  conn_ = nullptr;
  handler_->onUpstreamError(std::move(error));
}

// ---- H2Connection: life cycle ------------------------------------------------------------------

H2Connection::H2Connection(H2Pool& pool, core::EventLoop& loop, std::string address,
                           const H2Options& options)
    : pool_(pool),
      loop_(loop),
      address_(std::move(address)),
      options_(options),
      idle_timer_(loop, [this] { retire(); }) {}

H2Connection::~H2Connection() {
  if (transport_) transport_->stop();
  for (H2UpstreamStream* s : waiting_) s->conn_ = nullptr;
  for (auto& [id, s] : streams_) s->conn_ = nullptr;
}

bool H2Connection::start(const upstream::Host& host, const tls::ClientContext* tls) {
  http2::ClientLimits limits;
  limits.initial_window_bytes = kStreamWindow;
  limits.stream_high_watermark = options_.high_watermark;
  auto session = http2::ClientSession::create(limits, *this);
  if (!session) return false;
  session_ = std::move(*session);
  const auto* addr = reinterpret_cast<const sockaddr*>(&host.sockaddr);
  core::Result<std::unique_ptr<core::Transport>> transport =
      tls == nullptr
          ? core::Transport::connect(loop_, addr, host.sockaddr_len, this, options_.high_watermark)
          : core::Transport::connect(
                loop_, addr, host.sockaddr_len,
                [tls, name = options_.server_name.empty() ? std::string(hostPart(host.address))
                                                          : options_.server_name](int fd) {
                  return tls->newSession(fd, name);
                },
                this, options_.high_watermark);
  if (!transport) return false;
  transport_ = std::move(*transport);
  return true;
}

bool H2Connection::hasRoom() const {
  if (dead_ || retired_ || session_->goawayReceived()) return false;
  uint32_t limit = session_->remoteMaxConcurrentStreams();
  if (!session_->settingsReceived()) {
    // A burst on a fresh connection beyond the backend's real limit would be refused.
    const uint32_t known = pool_.knownLimit(address_);
    if (known != 0) limit = std::min(limit, known);
  }
  return streamCount() < limit;
}

void H2Connection::retire() {
  if (dead_) return;
  retired_ = true;
  if (ready_ && !session_->goawayReceived()) session_->submitGoaway();
  flush();
  maybeClose();
}

void H2Connection::attach(H2UpstreamStream* stream) {
  idle_timer_.cancel();
  waiting_.push_back(stream);
}

void H2Connection::detach(H2UpstreamStream* stream) {
  stream->conn_ = nullptr;
  if (auto it = std::find(waiting_.begin(), waiting_.end(), stream); it != waiting_.end()) {
    waiting_.erase(it);
  }
  if (stream->id_ != 0 && streams_.erase(stream->id_) > 0) {
    // Cut before the end (client gone, timeout, error): the backend stops working on it. After
    // a complete response only our request side can still be open: end it without error.
    session_->resetStream(stream->id_,
                          stream->complete_ ? http2::H2Error::NoError : http2::H2Error::Cancel);
  }
  flush();
  maybeClose();
}

core::Result<int32_t> H2Connection::submit(H2UpstreamStream* stream,
                                           const http2::ClientSession::Request& r) {
  auto id = session_->submitRequest(r);
  if (!id) return id;
  std::erase(waiting_, stream);
  streams_[*id] = stream;
  stream->id_ = *id;
  flush();
  return id;
}

// A connection without streams: closed when retired, when the backend is going away, or when
// it never came up (the stream that wanted it gave up); else it waits upstream_idle for more.
void H2Connection::maybeClose() {
  if (dead_ || streamCount() > 0) return;
  const bool finished = retired_ || !ready_ || session_->goawayReceived() || session_->failed() ||
                        (!session_->wantRead() && !session_->wantWrite());
  if (!finished) {
    idle_timer_.arm(options_.idle_timeout);
    return;
  }
  dead_ = true;
  idle_timer_.cancel();
  if (transport_) transport_->stop();
  pool_.remove(this);
}

// Every stream on the connection is lost. Those that never got on the wire (waiting for the
// connection) may be retried elsewhere; the others may have reached the backend.
void H2Connection::fail(Error error) {
  if (dead_) return;
  dead_ = true;
  idle_timer_.cancel();
  if (transport_) transport_->stop();
  std::vector<H2UpstreamStream*> waiting;
  waiting.swap(waiting_);
  std::vector<H2UpstreamStream*> open;
  for (auto& [id, s] : streams_) open.push_back(s);
  streams_.clear();
  for (H2UpstreamStream* s : waiting) s->conn_ = nullptr;
  for (H2UpstreamStream* s : open) s->conn_ = nullptr;
  const Error not_sent = Error::upstream(
      ready_ ? ErrorCode::UpstreamReset : ErrorCode::UpstreamConnectFailed, true, error.detail);
  for (H2UpstreamStream* s : waiting) s->onLost(not_sent);
  for (H2UpstreamStream* s : open) {
    s->onLost(Error::upstream(ErrorCode::UpstreamReset, false, error.detail));
  }
  pool_.remove(this);
}

H2UpstreamStream* H2Connection::find(int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

// ---- H2Connection: I/O ---------------------------------------------------------------------

void H2Connection::onTransportConnected() {
  if (!transport_->secure()) onReady();
}

void H2Connection::onTransportSecured() {
  const core::SecureLayer* layer = transport_->secureLayer();
  if (layer == nullptr || layer->alpn() != "h2") {
    fail(Error::upstream(ErrorCode::UpstreamConnectFailed, true,
                         "TLS backend did not select ALPN h2"));
    return;
  }
  onReady();
}

// The preface and our SETTINGS go out, then every request that waited for the connection.
void H2Connection::onReady() {
  ready_ = true;
  flush();
  std::vector<H2UpstreamStream*> waiting = waiting_;
  for (H2UpstreamStream* s : waiting) {
    if (dead_) return;
    if (std::find(waiting_.begin(), waiting_.end(), s) == waiting_.end()) continue;
    s->handler_->onUpstreamConnected();
  }
}

void H2Connection::onTransportReadable() {
  readInput();
}

void H2Connection::readInput() {
  evbuffer* in = transport_->input();
  ++in_codec_;
  while (!dead_ && evbuffer_get_length(in) > 0) {
    evbuffer_iovec chunk{};
    evbuffer_peek(in, -1, nullptr, &chunk, 1);
    auto consumed = session_->feed(static_cast<const uint8_t*>(chunk.iov_base), chunk.iov_len);
    if (!consumed) {
      --in_codec_;
      flush();  // the GOAWAY nghttp2 queued
      fail(std::move(consumed.error()));
      return;
    }
    evbuffer_drain(in, *consumed);
    if (*consumed < chunk.iov_len) break;
  }
  --in_codec_;
  if (dead_) return;
  if (session_->settingsReceived()) {
    pool_.known_limits_[address_] = session_->remoteMaxConcurrentStreams();
  }
  transport_->inputConsumed();
  flush();
  maybeClose();
}

void H2Connection::flush() {
  if (dead_ || !ready_ || !transport_) return;
  if (in_codec_ > 0) {
    flush_owed_ = true;
    return;
  }
  do {
    flush_owed_ = false;
    ++in_codec_;
    session_->sendTo(*this);
    --in_codec_;
  } while (flush_owed_ && !dead_);
  if (!dead_ && session_->failed()) {
    fail(Error::upstream(ErrorCode::UpstreamProtocolError, false,
                         "HTTP/2 connection error with the backend"));
  }
}

void H2Connection::write(const uint8_t* data, size_t len) {
  transport_->write(data, len);
}

bool H2Connection::full() const {
  return transport_->pendingOutput() > options_.high_watermark;
}

void H2Connection::onTransportDrained() {
  flush();
}

void H2Connection::onTransportClosed(bool error, int err) {
  if (!error) {
    // EOF: parse what is buffered (a GOAWAY, the last frames), then the connection is over.
    readInput();
    if (dead_) return;
    fail(Error::upstream(ErrorCode::UpstreamReset, false, "backend closed the connection"));
    return;
  }
  std::string why = transport_->closeReason();
  if (why.empty()) why = std::strerror(err);
  fail(Error::upstream(ready_ ? ErrorCode::UpstreamReset : ErrorCode::UpstreamConnectFailed,
                       !ready_, why));
}

// ---- H2Connection: codec events ------------------------------------------------------------

void H2Connection::onInformational(int32_t id, http1::ResponseHead&& head) {
  if (H2UpstreamStream* s = find(id)) s->handler_->onUpstreamInformational(std::move(head));
}

void H2Connection::onResponseHead(int32_t id, http1::ResponseHead&& head, bool) {
  if (H2UpstreamStream* s = find(id)) s->handler_->onUpstreamHead(std::move(head));
}

void H2Connection::onResponseData(int32_t id, const uint8_t* data, size_t len) {
  H2UpstreamStream* s = find(id);
  if (s == nullptr) {
    session_->consume(id, len);
    return;
  }
  s->onData(data, len);
  s = find(id);  // the handler may have ended the exchange
  if (s == nullptr) return;
  if (s->paused_) {
    s->unconsumed_ += len;
  } else {
    session_->consume(id, len);
  }
}

void H2Connection::onResponseTrailers(int32_t id, http1::HeaderList&& trailers) {
  if (H2UpstreamStream* s = find(id)) s->handler_->onUpstreamTrailers(std::move(trailers));
}

void H2Connection::onResponseEnd(int32_t id) {
  H2UpstreamStream* s = find(id);
  if (s == nullptr) return;
  s->complete_ = true;
  s->handler_->onUpstreamComplete();
}

void H2Connection::onStreamClose(int32_t id, http2::H2Error error, bool refused) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  H2UpstreamStream* s = it->second;
  streams_.erase(it);
  s->conn_ = nullptr;
  if (s->complete_) return;  // a clean end (or our own NO_ERROR reset after it)
  if (refused) {
    s->onLost(Error::upstream(ErrorCode::UpstreamConnectFailed, true,
                              "backend refused the stream (not processed)"));
    return;
  }
  s->onLost(Error::upstream(ErrorCode::UpstreamReset, false,
                            "backend reset the stream (HTTP/2 error " +
                                std::to_string(static_cast<uint32_t>(error)) + ")"));
}

void H2Connection::onStreamWritable(int32_t id) {
  if (H2UpstreamStream* s = find(id)) s->handler_->onUpstreamDrained();
}

void H2Connection::onGoaway(int32_t, http2::H2Error) {
  retired_ = true;  // no new streams; the open ones at or below its last id finish
}

// ---- H2Pool ----------------------------------------------------------------------------------

H2Pool::~H2Pool() {
  conns_.clear();
}

std::unique_ptr<H2UpstreamStream> H2Pool::open(const upstream::Host& host, const H2Options& options,
                                               UpstreamConnection::Handler* handler) {
  auto& list = core::slotFor(conns_, host.address);
  H2Connection* conn = nullptr;
  for (auto& c : list) {
    // The first with room: streams pack onto few connections (fewer handshakes, warm windows).
    if (c->hasRoom() && c->options_.tls == options.tls && c->options_.verify == options.verify &&
        c->options_.ca_file == options.ca_file && c->options_.server_name == options.server_name) {
      conn = c.get();
      break;
    }
  }
  if (conn == nullptr) {
    const tls::ClientContext* tls = nullptr;
    if (options.tls && (tls = tlsContext(options)) == nullptr) return nullptr;
    auto fresh = std::make_unique<H2Connection>(*this, loop_, std::string(host.address), options);
    if (!fresh->start(host, tls)) {
      loop_.deferDelete(std::move(fresh));
      return nullptr;
    }
    conn = fresh.get();
    list.push_back(std::move(fresh));
  }
  std::unique_ptr<H2UpstreamStream> stream(new H2UpstreamStream(conn, handler));
  conn->attach(stream.get());
  return stream;
}

const tls::ClientContext* H2Pool::tlsContext(const H2Options& options) {
  auto key = std::make_pair(options.verify, options.ca_file);
  auto found = tls_.find(key);
  if (found != tls_.end()) return found->second.get();
  tls::ClientOptions o;
  o.verify = options.verify;
  o.ca_file = options.ca_file;
  o.alpn = {"h2"};
  auto ctx = tls::ClientContext::create(o);
  if (!ctx) return nullptr;
  return tls_.emplace(key, std::move(*ctx)).first->second.get();
}

void H2Pool::remove(H2Connection* conn) {
  auto found = conns_.find(conn->address());
  if (found == conns_.end()) return;
  auto& list = found->second;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->get() != conn) continue;
    // We may be inside the connection's own callback: destroyed after it returns.
    loop_.deferDelete(std::move(*it));
    list.erase(it);
    break;
  }
  if (list.empty()) conns_.erase(found);
}

uint32_t H2Pool::knownLimit(std::string_view address) const {
  auto found = known_limits_.find(address);
  return found == known_limits_.end() ? 0 : found->second;
}

void H2Pool::closeAll() {
  std::vector<H2Connection*> all;
  for (auto& [address, list] : conns_) {
    for (auto& c : list) all.push_back(c.get());
  }
  for (H2Connection* c : all) c->retire();
}

void H2Pool::closeIdle(std::string_view address) {
  if (auto known = known_limits_.find(address); known != known_limits_.end()) {
    known_limits_.erase(known);
  }
  auto found = conns_.find(address);
  if (found == conns_.end()) return;
  std::vector<H2Connection*> all;
  for (auto& c : found->second) all.push_back(c.get());
  for (H2Connection* c : all) c->retire();
}

size_t H2Pool::connectionCount() const {
  size_t n = 0;
  for (const auto& [address, list] : conns_) n += list.size();
  return n;
}

size_t H2Pool::connectionCount(std::string_view address) const {
  auto found = conns_.find(address);
  return found == conns_.end() ? 0 : found->second.size();
}

}  // namespace baton::proxy
