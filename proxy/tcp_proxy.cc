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
      connect_timer_(loop, [this] { connectFailed(); }) {
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
  if (host_ != nullptr && settings_.on_connect_result) settings_.on_connect_result(*host_, false);
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
  if (settings_.on_connect_result) settings_.on_connect_result(*host_, true);
  const Tunnel::Settings settings{settings_.idle_timeout, settings_.high_watermark};
  tunnel_ = std::make_unique<Tunnel>(loop_, *client_, *upstream_, settings,
                                     [this](Tunnel::End end) { onTunnelEnd(end); });
  tunnel_->start(false, false);
}

void TcpProxy::onClosedWhileConnecting(bool upstream_side, bool error) {
  if (upstream_side) {
    connectFailed();
    return;
  }
  finish(error ? "reset" : "eof");  // the client went away while we were still connecting
}

void TcpProxy::onTunnelEnd(Tunnel::End end) {
  switch (end) {
    case Tunnel::End::Eof:
      finish("eof");
      return;
    case Tunnel::End::DownstreamReset:
    case Tunnel::End::UpstreamReset:
      finish("reset");
      return;
    case Tunnel::End::IdleTimeout:
      finish("idle timeout");
      return;
  }
}

void TcpProxy::forceClose() {
  finish("closed");
}

void TcpProxy::finish(const char* reason) {
  if (finished_) return;
  finished_ = true;
  end_reason_ = reason;
  connect_timer_.cancel();
  if (tunnel_) tunnel_->stop();
  client_->stop();
  if (upstream_) upstream_->stop();
  releaseHost();
  if (on_closed_) on_closed_(this);
}

void TcpProxy::Side::onTransportConnected() {
  if (upstream) proxy->onConnected();
}

void TcpProxy::Side::onTransportClosed(bool error, int) {
  proxy->onClosedWhileConnecting(upstream, error);
}

}  // namespace baton::proxy
