#include "proxy/upstream_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

namespace baton::proxy {

std::unique_ptr<UpstreamConnection> UpstreamConnection::connect(core::EventLoop& loop,
                                                                const upstream::Host& host,
                                                                size_t high_watermark,
                                                                Handler* handler) {
  std::unique_ptr<UpstreamConnection> conn(
      new UpstreamConnection(loop, host.address, high_watermark));
  conn->handler_ = handler;
  auto* addr = reinterpret_cast<const sockaddr*>(&host.sockaddr);
  if (bufferevent_socket_connect(conn->bev_, addr, static_cast<int>(host.sockaddr_len)) != 0) {
    // Immediate failure (e.g. no route): report asynchronously-equivalent through the handler
    // after returning, so the caller's state machine sees one path.
    conn->dead_ = true;
  }
  return conn;
}

UpstreamConnection::UpstreamConnection(core::EventLoop& loop, std::string pool_key,
                                       size_t high_watermark)
    : loop_(loop), pool_key_(std::move(pool_key)), high_watermark_(high_watermark), codec_(*this) {
  bev_ = bufferevent_socket_new(loop.base(), -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev_, &UpstreamConnection::onRead, &UpstreamConnection::onWrite,
                    &UpstreamConnection::onEvent, this);
  // Stop reading from the upstream socket once this much response is buffered unparsed.
  bufferevent_setwatermark(bev_, EV_READ, 0, high_watermark_);
  // Write callback fires when queued request bytes drop to half the high watermark.
  bufferevent_setwatermark(bev_, EV_WRITE, high_watermark_ / 2, 0);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

UpstreamConnection::~UpstreamConnection() {
  if (bev_ != nullptr) bufferevent_free(bev_);
}

void UpstreamConnection::startRequest(bool head_request) {
  codec_.expectResponse(head_request);
  awaiting_response_ = true;
  response_keep_alive_ = false;
  ++requests_;
}

void UpstreamConnection::send(const char* data, size_t len) {
  bufferevent_write(bev_, data, len);
}

size_t UpstreamConnection::pendingOutput() const {
  return evbuffer_get_length(bufferevent_get_output(bev_));
}

void UpstreamConnection::pauseReading() {
  reading_paused_ = true;
  bufferevent_disable(bev_, EV_READ);
}

void UpstreamConnection::resumeReading() {
  if (!reading_paused_ || dead_) return;
  reading_paused_ = false;
  bufferevent_enable(bev_, EV_READ);
  // Bytes may already be buffered; parse them now rather than wait for the socket.
  readInput();
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
    bufferevent_enable(bev_, EV_READ);
  }
}

void UpstreamConnection::onRead(bufferevent*, void* arg) {
  static_cast<UpstreamConnection*>(arg)->readInput();
}

void UpstreamConnection::readInput() {
  evbuffer* in = bufferevent_get_input(bev_);
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
    // The codec stops at the end of a response. Bytes left over then are checked at the top
    // of the loop: with no request outstanding they condemn the connection (never pooled).
    if (*consumed < chunk.iov_len && awaiting_response_) break;
  }
}

void UpstreamConnection::onWrite(bufferevent*, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->handler_ != nullptr && self->connected_) self->handler_->onUpstreamDrained();
}

void UpstreamConnection::onEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    int one = 1;
    setsockopt(bufferevent_getfd(self->bev_), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (self->handler_ != nullptr) self->handler_->onUpstreamConnected();
    return;
  }
  if (events & BEV_EVENT_EOF) {
    // Parse what is buffered first: a close-delimited body ends here.
    self->readInput();
    if (self->dead_) return;
    if (self->awaiting_response_ && self->handler_ != nullptr) {
      auto done = self->codec_.onEof();
      if (!done) {
        self->fail(std::move(done.error()));
        return;
      }
    }
    self->fail(core::Error::upstream(core::ErrorCode::UpstreamReset, false, "upstream closed"));
    return;
  }
  if (events & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    bool retryable = !self->connected_;
    auto code = self->connected_ ? core::ErrorCode::UpstreamReset
                                 : core::ErrorCode::UpstreamConnectFailed;
    self->fail(core::Error::upstream(code, retryable,
                                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())));
  }
}

void UpstreamConnection::fail(core::Error error) {
  if (dead_) return;
  dead_ = true;
  awaiting_response_ = false;
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
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

void UpstreamConnection::onResponseComplete() {
  awaiting_response_ = false;
  if (handler_ != nullptr) handler_->onUpstreamComplete();
}

}  // namespace baton::proxy
