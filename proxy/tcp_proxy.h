// One TCP-mode connection (marathon-lb's `HAPROXY_{n}_MODE=tcp`): a client socket spliced to one
// upstream host, bytes copied both ways untouched.
//
//   connect  pick a host from the listener's cluster (load balancer, skipping draining hosts),
//            connect with the cluster's connect timeout; on refusal or timeout try another host,
//            up to the cluster's connect_attempts distinct hosts; none left -> close the client.
//            The client is not read while connecting (its bytes wait in the kernel).
//   splice   each side's input is queued on the other side's output; a side stops being read
//            while the other's output is above the high watermark and resumes when it drains
//            (memory per connection stays about 2 x high watermark).
//   close    EOF from one side -> shutdown(SHUT_WR) on the other once its output is flushed
//            (half-close is propagated, the other direction keeps flowing); done when both
//            directions ended and everything is flushed. A reset on one side ends both.
//   idle     no byte in either direction for `idle_timeout` -> both closed. Default 1 h: HAProxy's
//            `timeout tunnel 3600s` in marathon-lb's defaults; per cluster `timeouts.tunnel_idle`.
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
  uint64_t bytesFromClient() const { return bytes_from_client_; }
  uint64_t bytesFromUpstream() const { return bytes_from_upstream_; }
  // Why it ended ("" while running): "no host", "connect failed", "idle timeout", "reset", "eof",
  // "closed" (forceClose). For logs and tests.
  const std::string& endReason() const { return end_reason_; }

  // Worker drain deadline or teardown: close both sides now (on_closed is called).
  void forceClose();

 private:
  // Splices one direction; `in` is the side this handler hears about.
  struct Side : core::Transport::Handler {
    TcpProxy* proxy = nullptr;
    bool upstream = false;
    void onTransportReadable() override;
    void onTransportDrained() override;
    void onTransportConnected() override;
    void onTransportClosed(bool error, int err) override;
  };

  void connectNext();
  void connectFailed();
  void onConnected();
  void onReadable(bool from_upstream);
  void onDrained(bool upstream_side);
  void onClosed(bool upstream_side, bool error);
  void maybeFinish();
  void finish(const char* reason);
  void releaseHost();
  void discardUpstream();
  void touch();

  core::Transport& side(bool upstream) { return upstream ? *upstream_ : *client_; }

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
  core::Timer idle_timer_;
  uint64_t bytes_from_client_ = 0;
  uint64_t bytes_from_upstream_ = 0;
  uint32_t attempts_ = 0;
  bool upstream_connected_ = false;
  bool client_eof_ = false;    // client sent FIN: upstream's write side is (being) shut
  bool upstream_eof_ = false;  // upstream sent FIN: client's write side is (being) shut
  bool client_dead_ = false;   // reset: no more I/O on the client
  bool upstream_dead_ = false;
  bool finished_ = false;
  std::string end_reason_;
};

}  // namespace baton::proxy
