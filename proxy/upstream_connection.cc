#include "proxy/upstream_connection.h"

#include <event2/buffer.h>

#include <cstring>

namespace baton::proxy {

std::unique_ptr<UpstreamConnection> UpstreamConnection::connect(core::EventLoop& loop,
                                                                const upstream::Host& host,
                                                                size_t high_watermark,
                                                                Handler* handler) {
  std::unique_ptr<UpstreamConnection> conn(new UpstreamConnection(std::string(host.address)));
  conn->handler_ = handler;
  auto transport = core::Transport::connect(loop, reinterpret_cast<const sockaddr*>(&host.sockaddr),
                                            host.sockaddr_len, conn.get(), high_watermark);
  if (!transport) {
    conn->dead_ = true;  // the caller sees dead() and treats it as a connect failure
    return conn;
  }
  conn->transport_ = std::move(*transport);
  return conn;
}

UpstreamConnection::UpstreamConnection(std::string pool_key)
    : pool_key_(std::move(pool_key)), codec_(*this) {}

UpstreamConnection::~UpstreamConnection() = default;

void UpstreamConnection::startRequest(bool head_request, size_t high_watermark) {
  if (transport_) transport_->setHighWatermark(high_watermark);
  codec_.expectResponse(head_request);
  awaiting_response_ = true;
  response_keep_alive_ = false;
  ++requests_;
}

void UpstreamConnection::send(const char* data, size_t len) {
  if (transport_) transport_->write(data, len);
}

void UpstreamConnection::sendWhole(std::string_view bytes) {
  if (transport_) transport_->writeNow(bytes.data(), bytes.size());
}

size_t UpstreamConnection::pendingOutput() const {
  return transport_ ? transport_->pendingOutput() : 0;
}

void UpstreamConnection::pauseReading() {
  reading_paused_ = true;
  if (transport_) transport_->pauseReading();
}

void UpstreamConnection::resumeReading() {
  if (!reading_paused_ || dead_) return;
  reading_paused_ = false;
  transport_->resumeReading();
  // Bytes may already be buffered; parse them now rather than wait for the socket.
  if (eof_seen_) {
    handleEof();
  } else {
    readInput();
  }
}

bool UpstreamConnection::reusable() const {
  return connected_ && !dead_ && !awaiting_response_ && response_keep_alive_ &&
         !codec_.extraBytesAfterResponse() && pendingOutput() == 0;
}

void UpstreamConnection::parkIdle(std::function<void()> on_dead) {
  handler_ = nullptr;
  on_dead_ = std::move(on_dead);
  if (reading_paused_) {
    reading_paused_ = false;
    transport_->resumeReading();
  }
}

void UpstreamConnection::onTransportReadable() {
  readInput();
}

void UpstreamConnection::readInput() {
  evbuffer* in = transport_->input();
  while (!dead_ && !reading_paused_ && evbuffer_get_length(in) > 0) {
    if (handler_ == nullptr || !awaiting_response_) {
      // Bytes nobody asked for: an idle pooled connection must never be reused after this.
      fail(core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false,
                                 "bytes from upstream with no request outstanding"));
      return;
    }
    evbuffer_iovec chunk{};
    evbuffer_peek(in, -1, nullptr, &chunk, 1);
    auto consumed = codec_.feed(static_cast<const char*>(chunk.iov_base), chunk.iov_len);
    if (!consumed) {
      fail(std::move(consumed.error()));
      return;
    }
    evbuffer_drain(in, *consumed);
    if (codec_.upgraded()) {
      onUpgraded();
      return;
    }
    // The codec stops at the end of a response. Bytes left over then are checked at the top
    // of the loop: with no request outstanding they condemn the connection (never pooled).
    if (*consumed < chunk.iov_len && awaiting_response_) break;
  }
  if (!dead_) transport_->inputConsumed();
}

// A 101 went to the handler: it either kept it (and takes the socket now) or detached, in which
// case nothing else may ever be read from this connection.
void UpstreamConnection::onUpgraded() {
  if (handler_ == nullptr) {
    fail(core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false,
                               "101 nobody switched to"));
    return;
  }
  handler_->onUpstreamUpgraded();
}

UpstreamConnection::Upgraded UpstreamConnection::takeTransport() {
  Upgraded out{std::move(transport_), eof_seen_};
  dead_ = true;
  awaiting_response_ = false;
  handler_ = nullptr;
  return out;
}

void UpstreamConnection::onTransportDrained() {
  if (handler_ != nullptr && connected_) handler_->onUpstreamDrained();
}

void UpstreamConnection::onTransportConnected() {
  connected_ = true;
  if (handler_ != nullptr) handler_->onUpstreamConnected();
}

void UpstreamConnection::onTransportClosed(bool error, int err) {
  if (!error) {
    eof_seen_ = true;
    handleEof();
    return;
  }
  bool retryable = !connected_;
  auto code = connected_ ? core::ErrorCode::UpstreamReset : core::ErrorCode::UpstreamConnectFailed;
  fail(core::Error::upstream(code, retryable, std::strerror(err)));
}

void UpstreamConnection::handleEof() {
  // Parse what is buffered first: a close-delimited body ends here. If the stream paused us
  // (slow client), finish when it resumes, or a complete response would look truncated.
  readInput();
  if (dead_ || reading_paused_ || codec_.upgraded() || evbuffer_get_length(transport_->input()) > 0)
    return;
  if (awaiting_response_ && handler_ != nullptr) {
    auto done = codec_.onEof();
    if (!done) {
      fail(std::move(done.error()));
      return;
    }
  }
  fail(core::Error::upstream(core::ErrorCode::UpstreamReset, false, "upstream closed"));
}

void UpstreamConnection::fail(core::Error error) {
  if (dead_) return;
  dead_ = true;
  awaiting_response_ = false;
  if (transport_) transport_->stop();
  if (handler_ != nullptr) {
    Handler* handler = handler_;
    handler_ = nullptr;
    handler->onUpstreamError(std::move(error));
  } else if (on_dead_) {
    auto on_dead = std::move(on_dead_);
    on_dead();
  }
}

void UpstreamConnection::onInformational(http1::ResponseHead&& head) {
  if (handler_ != nullptr) handler_->onUpstreamInformational(std::move(head));
}

void UpstreamConnection::onResponseHead(http1::ResponseHead&& head) {
  response_keep_alive_ = head.keep_alive;
  if (handler_ != nullptr) handler_->onUpstreamHead(std::move(head));
}

void UpstreamConnection::onResponseBody(const char* data, size_t len) {
  if (handler_ != nullptr) handler_->onUpstreamBody(data, len);
}

void UpstreamConnection::onResponseTrailers(http1::HeaderList&& trailers) {
  if (handler_ != nullptr) handler_->onUpstreamTrailers(std::move(trailers));
}

void UpstreamConnection::onResponseComplete() {
  awaiting_response_ = false;
  if (handler_ != nullptr) handler_->onUpstreamComplete();
}

}  // namespace baton::proxy
