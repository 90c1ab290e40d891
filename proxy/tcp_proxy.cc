#include "proxy/tcp_proxy.h"

#include <event2/buffer.h>

namespace baton::proxy {

namespace {

// A failed upstream attempt is reported from inside its Transport's own callback: the socket is
// released after that callback returns.
struct DeadTransport : core::Deletable {
  explicit DeadTransport(std::unique_ptr<core::Transport> t) : transport(std::move(t)) {}
  std::unique_ptr<core::Transport> transport;
};

}  // namespace

TcpProxy::TcpProxy(core::EventLoop& loop, int client_fd,
                   std::shared_ptr<const upstream::Cluster> cluster,
                   std::shared_ptr<upstream::LoadBalancer> lb, TcpProxySettings settings,
                   std::function<void(TcpProxy*)> on_closed)
    : loop_(loop),
      cluster_(std::move(cluster)),
      lb_(std::move(lb)),
      settings_(std::move(settings)),
      on_closed_(std::move(on_closed)),
      connect_timer_(loop, [this] { connectFailed(); }),
      idle_timer_(loop, [this] { finish("idle timeout"); }) {
  client_side_.proxy = this;
  client_side_.upstream = false;
  upstream_side_.proxy = this;
  upstream_side_.upstream = true;
  client_ =
      std::make_unique<core::Transport>(loop_, client_fd, &client_side_, settings_.high_watermark);
  // Nothing to forward the client's bytes to until the upstream is connected.
  client_->pauseReading();
}

TcpProxy::~TcpProxy() {
  releaseHost();
}

void TcpProxy::start() {
  connectNext();
}

void TcpProxy::connectNext() {
  while (attempts_ < cluster_->connectAttempts()) {
    const upstream::Host* host = lb_->pick(tried_, upstream::PickContext{settings_.client_hash});
    if (host == nullptr) break;
    tried_.add(host->index);
    ++attempts_;
    auto transport =
        core::Transport::connect(loop_, reinterpret_cast<const sockaddr*>(&host->sockaddr),
                                 host->sockaddr_len, &upstream_side_, settings_.high_watermark);
    if (!transport) continue;  // no socket for this address family: try another host
    upstream_ = std::move(*transport);
    host_ = host;
    lb_->onRequestStart(*host_);
    connect_timer_.arm(settings_.connect_timeout);
    return;
  }
  finish(attempts_ == 0 ? "no host" : "connect failed");
}

void TcpProxy::connectFailed() {
  connect_timer_.cancel();
  discardUpstream();
  releaseHost();
  connectNext();
}

void TcpProxy::discardUpstream() {
  if (!upstream_) return;
  upstream_->stop();
  loop_.deferDelete(std::make_unique<DeadTransport>(std::move(upstream_)));
}

void TcpProxy::releaseHost() {
  if (host_ == nullptr) return;
  lb_->onRequestEnd(*host_);
  host_ = nullptr;
}

void TcpProxy::onConnected() {
  connect_timer_.cancel();
  upstream_connected_ = true;
  client_->resumeReading();
  touch();
}

void TcpProxy::touch() {
  idle_timer_.arm(settings_.idle_timeout);
}

void TcpProxy::onReadable(bool from_upstream) {
  core::Transport& in = side(from_upstream);
  core::Transport& out = side(!from_upstream);
  evbuffer* buf = in.input();
  const size_t total = evbuffer_get_length(buf);
  const bool out_dead = from_upstream ? client_dead_ : upstream_dead_;
  if (out_dead) {
    evbuffer_drain(buf, total);  // nowhere to deliver; the proxy is flushing its last bytes
  } else {
    // Copy each contiguous chunk straight from the input buffer (pullup of a chunk's own length
    // does not move bytes).
    for (size_t len = evbuffer_get_contiguous_space(buf); len > 0;
         len = evbuffer_get_contiguous_space(buf)) {
      out.write(evbuffer_pullup(buf, static_cast<ev_ssize_t>(len)), len);
      evbuffer_drain(buf, len);
    }
    if (out.pendingOutput() > settings_.high_watermark) in.pauseReading();
  }
  in.inputConsumed();
  (from_upstream ? bytes_from_upstream_ : bytes_from_client_) += total;
  touch();
}

void TcpProxy::onDrained(bool upstream_side) {
  // `upstream_side`'s output fell to its low watermark: the other side may be read again.
  bool other_dead = upstream_side ? client_dead_ : upstream_dead_;
  if (!other_dead) side(!upstream_side).resumeReading();
  touch();
  maybeFinish();
}

void TcpProxy::onClosed(bool upstream_side, bool error) {
  if (upstream_side && !upstream_connected_) {
    connectFailed();
    return;
  }
  if (!upstream_connected_) {  // the client went away while we were still connecting
    finish(error ? "reset" : "eof");
    return;
  }
  core::Transport& other = side(!upstream_side);
  bool& other_dead = upstream_side ? client_dead_ : upstream_dead_;
  if (error) {
    (upstream_side ? upstream_dead_ : client_dead_) = true;
    side(upstream_side).stop();
    if (!other_dead) {
      // Deliver what the dead side already sent, then end the other side too.
      other.pauseReading();
      other.setWriteLowWatermark(0);
      other.shutdownWriteWhenFlushed();
    }
  } else {
    (upstream_side ? upstream_eof_ : client_eof_) = true;
    if (!other_dead) {
      // Half-close: the FIN goes on once the bytes before it are sent; the low watermark of 0
      // makes the end of that flush observable.
      other.setWriteLowWatermark(0);
      other.shutdownWriteWhenFlushed();
    }
  }
  maybeFinish();
}

void TcpProxy::maybeFinish() {
  if (finished_) return;
  const bool to_upstream_done = client_eof_ || client_dead_ || upstream_dead_;
  const bool to_client_done = upstream_eof_ || upstream_dead_ || client_dead_;
  if (!to_upstream_done || !to_client_done) return;
  if (!client_dead_ && client_->pendingOutput() > 0) return;
  if (!upstream_dead_ && upstream_->pendingOutput() > 0) return;
  finish(client_dead_ || upstream_dead_ ? "reset" : "eof");
}

void TcpProxy::forceClose() {
  finish("closed");
}

void TcpProxy::finish(const char* reason) {
  if (finished_) return;
  finished_ = true;
  end_reason_ = reason;
  connect_timer_.cancel();
  idle_timer_.cancel();
  client_->stop();
  if (upstream_) upstream_->stop();
  releaseHost();
  if (on_closed_) on_closed_(this);
}

void TcpProxy::Side::onTransportReadable() {
  proxy->onReadable(upstream);
}

void TcpProxy::Side::onTransportDrained() {
  proxy->onDrained(upstream);
}

void TcpProxy::Side::onTransportConnected() {
  if (upstream) proxy->onConnected();
}

void TcpProxy::Side::onTransportClosed(bool error, int) {
  proxy->onClosed(upstream, error);
}

}  // namespace baton::proxy
