// One HTTP/1.1 connection to an upstream host: a non-blocking socket (core::Transport) plus the
// client codec. Owned by the stream it serves while a request is in flight, and by the worker's
// UpstreamPool while idle. Used only on its worker thread.
//
// Flow control: the owning stream pauses reading when the downstream cannot keep up
// (pauseReading) and is told when the request bytes it queued have drained (onUpstreamDrained).
#pragma once

#include <memory>
#include <string>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/http1/client_codec.h"
#include "upstream/circuit_breaker.h"
#include "upstream/cluster.h"

namespace baton::proxy {

class UpstreamConnection : public core::Deletable,
                           private http1::ClientCodecCallbacks,
                           private core::Transport::Handler {
 public:
  // Events for the stream currently attached. Every call happens on the worker thread, from a
  // libevent callback; the handler may detach or release the connection from inside.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void onUpstreamConnected() = 0;
    virtual void onUpstreamInformational(http1::ResponseHead&& head) = 0;
    virtual void onUpstreamHead(http1::ResponseHead&& head) = 0;
    virtual void onUpstreamBody(const char* data, size_t len) = 0;
    // Response trailers, before onUpstreamComplete: an HTTP/2 upstream's trailing HEADERS
    // (H2UpstreamStream, proxy/upstream_h2.h) or an HTTP/1.1 chunked trailer section (the
    // forwardable fields, http1::trailerForwardable).
    virtual void onUpstreamTrailers(http1::HeaderList&& trailers) { (void)trailers; }
    virtual void onUpstreamComplete() = 0;
    // Connect failure, reset, protocol error; the connection is dead after this.
    virtual void onUpstreamError(core::Error error) = 0;
    // The request bytes queued with send() dropped below the low watermark.
    virtual void onUpstreamDrained() = 0;
    // After onUpstreamHead delivered a 101 the handler kept (stayed attached to): the head is
    // consumed and what follows is the new protocol's. The handler takes the socket with
    // takeTransport() from here (and only from here).
    virtual void onUpstreamUpgraded() = 0;
  };

  // The socket of an upgraded connection, with the bytes already read after the 101 head in its
  // input. The connection is dead afterwards (never pooled); the caller sets a new handler.
  struct Upgraded {
    std::unique_ptr<core::Transport> transport;
    bool eof = false;  // the upstream already half-closed
  };
  Upgraded takeTransport();

  // Starts a non-blocking connect; the handler hears onUpstreamConnected or onUpstreamError.
  static std::unique_ptr<UpstreamConnection> connect(core::EventLoop& loop,
                                                     const upstream::Host& host,
                                                     size_t high_watermark, Handler* handler);
  ~UpstreamConnection() override;

  void attach(Handler* handler) {
    handler_ = handler;
    on_dead_ = nullptr;
  }
  Handler* handler() const { return handler_; }
  const std::string& poolKey() const { return pool_key_; }
  // True when the current request is not the first on this connection (it came from the pool).
  bool reused() const { return requests_ > 1; }

  // Arms the codec for the next response and counts a request on this connection.
  void startRequest(bool head_request, size_t high_watermark);
  // Queues request bytes (copied into the socket buffer).
  void send(const char* data, size_t len);
  void send(std::string_view bytes) { send(bytes.data(), bytes.size()); }
  // The whole of a request (a head with no body): written at once when the socket takes it,
  // skipping the output buffer (core::Transport::writeNow).
  void sendWhole(std::string_view bytes);
  size_t pendingOutput() const;
  void pauseReading();
  void resumeReading();

  // True when the last response ended cleanly and the connection may carry another request.
  bool reusable() const;

  // Pool hooks: while idle nobody is attached; an EOF or stray bytes just mark it dead.
  void parkIdle(std::function<void()> on_dead);
  bool dead() const { return dead_; }

  // Circuit breaking: the cluster's max_connections unit, held while the connection is open
  // (idle in the pool too) and returned when it is destroyed.
  void holdSlot(upstream::LoadSlot slot) { slot_ = std::move(slot); }

 private:
  explicit UpstreamConnection(std::string pool_key);
  void readInput();
  void onUpgraded();
  void handleEof();

  // core::Transport::Handler
  void onTransportReadable() override;
  void onTransportDrained() override;
  void onTransportConnected() override;
  void onTransportClosed(bool error, int err) override;
  void fail(core::Error error);

  // ClientCodecCallbacks
  void onInformational(http1::ResponseHead&& head) override;
  void onResponseHead(http1::ResponseHead&& head) override;
  void onResponseBody(const char* data, size_t len) override;
  void onResponseTrailers(http1::HeaderList&& trailers) override;
  void onResponseComplete() override;

  std::string pool_key_;
  std::unique_ptr<core::Transport> transport_;
  http1::ClientCodec codec_;
  Handler* handler_ = nullptr;
  std::function<void()> on_dead_;
  uint32_t requests_ = 0;
  bool connected_ = false;
  bool awaiting_response_ = false;
  bool response_keep_alive_ = false;
  bool reading_paused_ = false;
  bool eof_seen_ = false;
  bool dead_ = false;
  upstream::LoadSlot slot_;
};

}  // namespace baton::proxy
