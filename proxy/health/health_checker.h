// Active health checks of every cluster that has one ([[cluster]] health_check, or a Marathon
// app's healthChecks): one probe timer per (cluster name, host address), jittered; the verdicts
// (host_health.h) applied to the clusters the server publishes, like operator overrides: a copy
// of each affected cluster with Host::healthy set, memoised so that nothing is copied (and no
// balancer state is lost) while nothing flips.
//
// Verdicts are keyed by cluster name + host address, so they survive Marathon resyncs and
// reloads; a host (or a whole cluster, or its check) that disappears is forgotten with its
// timer and any probe in flight. Panic (Cluster::panic()): when no Active host of a cluster
// passes, every host is published as healthy (routing to all beats routing to none); the status
// still shows the real verdicts and the cluster's panic flag.
//
// Threading: control thread only. `on_change` is called (from a probe callback) when a verdict
// flipped; the server then republishes.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/core/event_loop.h"
#include "proxy/health/host_health.h"
#include "proxy/health/prober.h"
#include "upstream/cluster.h"

namespace baton::tls {
class ClientContext;
}

namespace baton::proxy::health {

class HealthChecker {
 public:
  using Clusters = std::vector<std::shared_ptr<const upstream::Cluster>>;

  HealthChecker(core::EventLoop& loop, std::function<void()> on_change);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Adopts the clusters about to be published: starts probing new hosts, forgets gone ones,
  // takes a changed check's new settings (keeping the verdicts).
  void sync(const Clusters& clusters);
  // `clusters` with Host::healthy set from the verdicts (clusters without a check unchanged).
  Clusters apply(const Clusters& clusters);
  // Health of every checked host and the per-cluster probe counters, into `status` (by cluster
  // name and host address).
  void fillStatus(admin::EdgeStatus& status) const;
  // Stops every timer and probe (shutdown).
  void stop();

 private:
  struct Target;
  struct ClusterChecks;
  void schedule(Target& target, conf::Duration delay);
  void startProbe(ClusterChecks& cluster, Target& target);
  void onResult(ClusterChecks& cluster, Target& target, ProbeResult result);
  const tls::ClientContext* tlsContext();
  double unit();  // uniform in [0, 1)
  std::shared_ptr<const upstream::Cluster> adjusted(const ClusterChecks& checks,
                                                    const upstream::Cluster& cluster,
                                                    bool& panic) const;

  core::EventLoop& loop_;
  std::function<void()> on_change_;
  std::unordered_map<std::string, std::unique_ptr<ClusterChecks>> clusters_;
  std::shared_ptr<const tls::ClientContext> tls_;  // https probes (no verification: Marathon's)
  std::mt19937_64 random_;
  struct Memo {
    std::shared_ptr<const upstream::Cluster> base;  // held: its address stays unique
    std::shared_ptr<const upstream::Cluster> adjusted;
    uint64_t epoch = 0;
  };
  std::unordered_map<const upstream::Cluster*, Memo> memo_;
};

}  // namespace baton::proxy::health
