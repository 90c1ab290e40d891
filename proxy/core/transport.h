// A non-blocking TCP socket with an input and an output evbuffer, driven by one EventLoop.
//
// Why not libevent's bufferevent: a bufferevent asks the kernel how much is readable (an ioctl)
// before every read and only ever writes from the loop, toggling write interest with two
// epoll_ctl calls per response. A proxy moves every byte through two sockets, so those syscalls
// dominated a 16 KiB response (measured: 6 ioctl + 8 epoll_ctl per proxied request). Transport
// reads into reserved buffer space with readv, and writes inline: output queued during a
// callback is flushed once when the callback returns (EventLoop's flush scope), and write
// interest is registered only when the kernel refuses bytes.
//
// TLS: with a SecureLayer (proxy/tls/ makes them), the Transport first runs the handshake by
// itself (arming read/write interest as the layer asks), calls onTransportSecured(), then behaves
// exactly as a plain one, encrypting on flush and decrypting on read. Without one, the only cost
// is a null-pointer branch on read and flush.
//
// Threading: used only on its loop's thread. The handler is called from loop callbacks (never
// from inside write()), and may pause, write or schedule its own destruction from any of them.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/secure_layer.h"

struct event;
struct evbuffer;
struct evbuffer_cb_entry;
struct evbuffer_cb_info;

namespace baton::core {

// Bytes buffered by one thread's transports (input + output evbuffers), rolled up into a
// process-wide total for [limits] buffer_budget without a lock: the thread keeps its exact count
// in a plain integer and moves the shared relaxed atomic only when its count crosses a
// kStep boundary, so the total is exact to within kStep per thread and a busy connection costs
// no shared write per read or write.
//
// Threading: add() on the owning thread only; total() from any thread.
class BufferAccount {
 public:
  static constexpr int64_t kStep = 16 * 1024;

  explicit BufferAccount(std::atomic<int64_t>& total) : total_(total) {}
  ~BufferAccount();
  BufferAccount(const BufferAccount&) = delete;
  BufferAccount& operator=(const BufferAccount&) = delete;

  void add(int64_t delta) {
    bytes_ += delta;
    const int64_t steps = bytes_ / kStep;
    if (steps != published_steps_) publish(steps);
  }
  int64_t bytes() const { return bytes_; }
  int64_t total() const { return total_.load(std::memory_order_relaxed); }

  // The account of the calling thread's transports (a worker installs its own when its thread
  // starts); nullptr = not counted. Transport reads it when constructed.
  static BufferAccount* current();
  static void setCurrent(BufferAccount* account);

 private:
  void publish(int64_t steps);

  std::atomic<int64_t>& total_;
  int64_t bytes_ = 0;
  int64_t published_steps_ = 0;
};

// The local address of every outgoing connection Transport::connect makes ([upstream]
// source_address; HAProxy `source`, nginx `proxy_bind`): backends, their health endpoints and
// firewalls see which instance is talking. Bound before connect() with IP_BIND_ADDRESS_NO_PORT,
// so the kernel still picks the port at connect time, per destination (a port per bind() would
// exhaust the ephemeral range at ~28k concurrent connections). A destination of the other family
// is connected from the kernel's choice (an IPv4 source cannot reach an IPv6 backend).
// Process-wide: the control thread sets it at start and on every reload (`ip` numeric, "" = the
// kernel's choice); any thread's next connect uses it (one atomic load per connect; a changed
// value is copied under a mutex once per thread). Returns an error for a non-numeric `ip`.
Result<void> setConnectSource(std::string_view ip);
// The address set, canonical ("" = none): for logs and tests.
std::string connectSource();

class Transport : private Flushable {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // New bytes were appended to input().
    virtual void onTransportReadable() = 0;
    // Pending output fell to the low watermark or below (after having been above it).
    virtual void onTransportDrained() = 0;
    // A connect() completed.
    virtual void onTransportConnected() = 0;
    // The peer closed (`error` false: EOF — its write side only, we may still write; true:
    // reset/refused/other, errno in `err`, the socket is dead).
    virtual void onTransportClosed(bool error, int err) = 0;
    // TLS only: the handshake completed (alpn()/serverName() are known); before it, nothing is
    // read and queued writes wait. A failed handshake is onTransportClosed(true, EPROTO or the
    // socket errno) with handshakeDone() false and closeReason() saying why.
    virtual void onTransportSecured() {}
  };

  // Makes the client-side SecureLayer for a socket connect() just created (TLS to a backend).
  using SecureLayerFactory = std::function<Result<std::unique_ptr<SecureLayer>>(int fd)>;

  // Wraps an accepted, non-blocking socket (takes ownership of `fd`).
  Transport(EventLoop& loop, int fd, Handler* handler, size_t read_high_watermark);
  // Same, with TLS: `layer` was made for `fd` (e.g. tls::ServerContexts::newSession); the
  // handshake starts at once.
  Transport(EventLoop& loop, int fd, std::unique_ptr<SecureLayer> layer, Handler* handler,
            size_t read_high_watermark);
  // Creates a socket and starts a non-blocking connect. Returns nullptr-equivalent failures as
  // an error (e.g. no such address family); refusal is reported through onTransportClosed.
  static Result<std::unique_ptr<Transport>> connect(EventLoop& loop, const sockaddr* addr,
                                                    socklen_t len, Handler* handler,
                                                    size_t read_high_watermark);
  // Same, then a TLS handshake (client side) over the connected socket, made by `make_layer`.
  static Result<std::unique_ptr<Transport>> connect(EventLoop& loop, const sockaddr* addr,
                                                    socklen_t len,
                                                    const SecureLayerFactory& make_layer,
                                                    Handler* handler, size_t read_high_watermark);
  ~Transport() override;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void setHandler(Handler* handler) { handler_ = handler; }
  int fd() const { return fd_; }
  bool connected() const { return connected_; }
  // TLS: whether there is a layer, whether its handshake completed (true without TLS), the
  // layer itself (alpn(), serverName()), and why the connection failed ("" = not a TLS failure).
  bool secure() const { return secure_ != nullptr; }
  bool handshakeDone() const { return handshake_done_; }
  const SecureLayer* secureLayer() const { return secure_.get(); }
  const std::string& closeReason() const { return close_reason_; }

  evbuffer* input() const { return input_; }
  // Queue bytes; they are sent when the current loop callback returns.
  void write(const void* data, size_t len);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Same, for bytes nothing else will follow soon (a request head with no body, an HTTP/2
  // pass's only batch of frames): sent with one send() (TLS: one SSL write) right here when the
  // socket is connected (handshake done) and has nothing queued, so they skip the output buffer
  // and the end-of-callback flush. A short write queues the rest as write() does; an error is
  // kept for that flush to report. Call it inside a loop callback (as write(), whose flush
  // outside one is immediate and may call the handler).
  // Not for a burst of writes: each would be a syscall of its own instead of one flush.
  void writeNow(const void* data, size_t len);
  size_t pendingOutput() const;
  void setWriteLowWatermark(size_t bytes) { write_low_watermark_ = bytes; }
  // Adopts a (reloaded) high watermark: reading stops at it, drained fires at half of it. The
  // stream using the transport pauses by the same snapshot's value, so both must agree.
  void setHighWatermark(size_t bytes);
  size_t highWatermark() const { return read_high_watermark_; }

  // Reading stops while paused, and also by itself while input() holds at least the read high
  // watermark; call inputConsumed() after draining input() so it can restart.
  void pauseReading();
  void resumeReading();
  void inputConsumed();
  // A second, independent reason not to read (process overload): reading resumes only when
  // neither pauseReading() nor this holds it.
  void setReadSuspended(bool suspended);

  // Half-close once everything queued has been sent (lingering close).
  void shutdownWriteWhenFlushed();
  // Stop all I/O now (the object is about to be destroyed or parked).
  void stop();

 private:
  Transport(EventLoop& loop, int fd, Handler* handler, size_t read_high_watermark, bool connected);
  static void onReadEvent(int fd, short what, void* arg);
  static void onWriteEvent(int fd, short what, void* arg);
  void readOnce();
  void readRemaining();
  void flush() override;
  void updateReadInterest();
  void finishConnect();
  void reportClosed(bool error, int err);
  // TLS (transport.cc, "TLS" section).
  void attachSecure(std::unique_ptr<SecureLayer> layer);
  bool wantsAppRead() const;
  void advanceHandshake();
  void secureReadOnce();
  void secureFlush();
  void secureWriteNow(const void* data, size_t len);
  void secureFailed(std::string_view what, const SecureLayer::IoResult& r);
  bool secureWantsRead(bool app_wants) const;
  void schedulePendingRead();
  static void onPendingEvent(int fd, short what, void* arg);

  static void onBufferChanged(evbuffer* buffer, const evbuffer_cb_info* info, void* arg);
  void attachAccount();
  void detachAccount();

  EventLoop& loop_;
  BufferAccount* account_ = nullptr;  // counts input_ + output_ while set
  evbuffer_cb_entry* input_cb_ = nullptr;
  evbuffer_cb_entry* output_cb_ = nullptr;
  int fd_;
  Handler* handler_;
  evbuffer* input_;
  evbuffer* output_;
  event* read_event_ = nullptr;
  event* write_event_ = nullptr;
  size_t read_high_watermark_;
  size_t read_chunk_ = 4 * 1024;  // adaptive readv size (see transport.cc)
  size_t write_low_watermark_;
  bool connected_;
  bool reading_paused_ = false;
  bool read_suspended_ = false;
  bool read_armed_ = false;
  int deferred_write_errno_ = 0;  // writeNow's send() failed: flush reports this errno
  bool write_armed_ = false;
  bool shutdown_pending_ = false;
  bool read_eof_ = false;  // peer half-closed: no more reading, writing goes on
  bool closed_ = false;    // error: no more I/O at all
  bool stopped_ = false;
  // TLS state; secure_ == nullptr on the plain path.
  std::unique_ptr<SecureLayer> secure_;
  event* pending_event_ = nullptr;  // delivers bytes buffered inside the layer
  std::string close_reason_;
  size_t retry_write_len_ = 0;  // a write the layer must be given again (same bytes)
  // secureWriteNow's SSL write failed: the flush its queued bytes schedule reports this.
  std::optional<SecureLayer::IoResult> deferred_secure_failure_;
  bool handshake_done_ = true;
  bool handshake_wants_write_ = false;
  bool write_wants_read_ = false;  // the layer's write needs the socket readable first
  bool read_wants_write_ = false;  // the layer's read needs the socket writable first
};

}  // namespace baton::core
