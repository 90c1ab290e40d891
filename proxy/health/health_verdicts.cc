#include "proxy/health/health_verdicts.h"

#include <algorithm>

#include "proxy/core/log.h"

namespace baton::proxy::health {

std::shared_ptr<const upstream::Cluster> VerdictApplier::adjusted(const ClusterVerdict& verdict,
                                                                  const upstream::Cluster& cluster,
                                                                  bool& panic) const {
  const auto healthyOf = [&verdict](const upstream::Host& host) {
    return !verdict.unroutable.contains(host.address);
  };
  bool any_active = false;
  bool any_routable = false;
  for (const upstream::Host& host : cluster.hosts()) {
    if (host.admin_state != upstream::AdminState::Active) continue;
    any_active = true;
    any_routable = any_routable || healthyOf(host);
  }
  panic = cluster.panic() && any_active && !any_routable;
  const auto healthy = [&](const upstream::Host& host) { return panic || healthyOf(host); };
  // Mostly every host passes: the cluster as it is, not a copy (100,000 checked Marathon tasks
  // would otherwise keep a second copy of every host, ~45 MB, while nothing is wrong).
  const auto& hosts = cluster.hosts();
  if (std::all_of(hosts.begin(), hosts.end(),
                  [&](const upstream::Host& host) { return host.healthy == healthy(host); })) {
    return nullptr;
  }
  return cluster.withAdjustedHosts([&](upstream::Host& host) { host.healthy = healthy(host); });
}

VerdictApplier::Clusters VerdictApplier::apply(const Clusters& clusters, const Verdicts& verdicts) {
  Clusters out;
  out.reserve(clusters.size());
  std::unordered_map<const upstream::Cluster*, Memo> next;
  std::unordered_map<std::string, bool> panic_now;
  for (const auto& cluster : clusters) {
    auto found = cluster->healthCheck() ? verdicts.find(cluster->name()) : verdicts.end();
    if (found == verdicts.end()) {
      out.push_back(cluster);
      continue;
    }
    const auto& verdict = found->second;
    bool& panic = panic_now[cluster->name()];
    if (auto memo = memo_.find(cluster.get());
        memo != memo_.end() && memo->second.verdict == verdict) {
      out.push_back(memo->second.adjusted);
      auto was = panic_.find(cluster->name());
      panic = was != panic_.end() && was->second;
      // Both keys again: a later re-apply to the published copy must still find it (a new
      // copy would lose the workers' load-balancer state, keyed by cluster object).
      next.emplace(memo->second.base.get(), memo->second);
      next.emplace(memo->second.adjusted.get(), memo->second);
      continue;
    }
    auto copy = adjusted(*verdict, *cluster, panic);
    if (!copy) copy = cluster;
    if (auto was = panic_.find(cluster->name()); panic && (was == panic_.end() || !was->second)) {
      core::logf(core::LogLevel::Warn, "health: %s: no healthy host, routing to all (panic)",
                 cluster->name().c_str());
    }
    out.push_back(copy);
    Memo memo{cluster, copy, verdict};
    next.emplace(cluster.get(), memo);
    next.emplace(copy.get(), memo);  // re-applying to a published copy returns it unchanged
  }
  memo_ = std::move(next);
  panic_ = std::move(panic_now);
  return out;
}

void VerdictApplier::fillStatus(admin::EdgeStatus& status) const {
  for (admin::ClusterStatus& cluster : status.clusters) {
    auto found = panic_.find(cluster.name);
    if (found != panic_.end()) cluster.health_panic = found->second;
  }
}

}  // namespace baton::proxy::health
