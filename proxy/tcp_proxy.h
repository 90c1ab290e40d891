// One TCP-mode connection (marathon-lb's `HAPROXY_{n}_MODE=tcp`): a client socket spliced to one
// upstream host, bytes copied both ways untouched.
//
//   connect  pick a host from the listener's cluster (load balancer, skipping draining hosts),
//            connect with the cluster's connect timeout; on refusal or timeout try another host,
//            up to the cluster's connect_attempts distinct hosts; none left -> close the client.
//            The client is not read while connecting (its bytes wait in the kernel).
//   splice   once connected, a Tunnel (proxy/tunnel.h, shared with WebSocket upgrades) copies
//            bytes both ways with watermark backpressure, propagates half-closes, ends both
//            sides on a reset, and closes both after `idle_timeout` without a byte. Default 1 h:
//            HAProxy's `timeout tunnel 3600s` in marathon-lb's defaults; per cluster
//            `timeouts.tunnel_idle`.
//
// The connection counts as one outstanding request on the host in the load balancer from the
// start of its connect to its end, so least-request policies and the admin stats see it.
//
// Threading: created, used and destroyed on its worker's thread only. `on_closed` is called once,
// from a loop callback, when the proxy is finished; the owner then defers its deletion.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/tunnel.h"
#include "upstream/cluster.h"
#include "upstream/load_balancer.h"

namespace baton::proxy {

// marathon-lb's `timeout tunnel 3600s`.
inline constexpr std::chrono::milliseconds kDefaultTunnelIdle{3'600'000};

struct TcpProxySettings {
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds idle_timeout{kDefaultTunnelIdle};
  size_t high_watermark = 256 * 1024;
  // upstream::hashClientAddress() of the client (source-hash balancing).
  uint64_t client_hash = 0;
  // Each connect's outcome for a host (passive outlier ejection; may be empty).
  std::function<void(const upstream::Host&, bool connected)> on_connect_result;
};

class TcpProxy : public core::Deletable {
 public:
  // Takes ownership of the accepted, non-blocking `client_fd`. `lb` must balance `cluster`.
  TcpProxy(core::EventLoop& loop, int client_fd, std::shared_ptr<const upstream::Cluster> cluster,
           std::shared_ptr<upstream::LoadBalancer> lb, TcpProxySettings settings,
           std::function<void(TcpProxy*)> on_closed);
  ~TcpProxy() override;
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Picks a host and starts connecting. Separate from the constructor because it may end the
  // proxy at once (no host): on_closed must find the proxy already stored by its owner.
  void start();

  // The host currently connected or being connected to; nullptr before a pick and after the end.
  const upstream::Host* host() const { return host_; }
  const upstream::Cluster& cluster() const { return *cluster_; }
  const upstream::LoadBalancer* loadBalancer() const { return lb_.get(); }
  bool connected() const { return upstream_connected_; }
  uint64_t bytesFromClient() const { return tunnel_ ? tunnel_->bytesFromDownstream() : 0; }
  uint64_t bytesFromUpstream() const { return tunnel_ ? tunnel_->bytesFromUpstream() : 0; }
  // Why it ended ("" while running): "no host", "connect failed", "idle timeout", "reset", "eof",
  // "closed" (forceClose). For logs and tests.
  const std::string& endReason() const { return end_reason_; }

  // Worker drain deadline or teardown: close both sides now (on_closed is called).
  void forceClose();

 private:
  // Until connected: the client is paused and only its close matters; the upstream side hears
  // the connect. Then the tunnel takes both transports over.
  struct Side : core::Transport::Handler {
    TcpProxy* proxy = nullptr;
    bool upstream = false;
    void onTransportReadable() override {}
    void onTransportDrained() override {}
    void onTransportConnected() override;
    void onTransportClosed(bool error, int err) override;
  };

  void connectNext();
  void connectFailed();
  void onConnected();
  void onClosedWhileConnecting(bool upstream_side, bool error);
  void onTunnelEnd(Tunnel::End end);
  void finish(const char* reason);
  void releaseHost();
  void discardUpstream();

  core::EventLoop& loop_;
  std::shared_ptr<const upstream::Cluster> cluster_;
  std::shared_ptr<upstream::LoadBalancer> lb_;
  TcpProxySettings settings_;
  std::function<void(TcpProxy*)> on_closed_;
  Side client_side_;
  Side upstream_side_;
  std::unique_ptr<core::Transport> client_;
  std::unique_ptr<core::Transport> upstream_;
  upstream::TriedHosts tried_;
  const upstream::Host* host_ = nullptr;
  core::Timer connect_timer_;
  std::unique_ptr<Tunnel> tunnel_;  // once connected
  uint32_t attempts_ = 0;
  bool upstream_connected_ = false;
  bool finished_ = false;
  std::string end_reason_;
};

}  // namespace baton::proxy
