#include "upstream/round_robin.h"

namespace baton::upstream {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(std::shared_ptr<const Cluster> cluster)
    : LoadBalancer(std::move(cluster)) {
  slots_.reserve(cluster_->hosts().size());
  for (const Host& h : cluster_->hosts()) {
    slots_.push_back(Slot{0, h.routable() ? int64_t{h.weight} : 0});
  }
}

const Host* RoundRobinLoadBalancer::choose(const TriedHosts& tried, const PickContext& ctx) {
  const size_t n = slots_.size();
  size_t best = n;
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    Slot& s = slots_[i];
    // Ineligible hosts keep their score untouched, as in nginx: they neither gain credit
    // while out nor get a burst when they come back within this snapshot.
    if (s.weight == 0 || tried.contains(static_cast<uint32_t>(i))) continue;
    if (!versionMatches(cluster_->hosts()[i], ctx)) continue;
    s.current += s.weight;
    total += s.weight;
    // Strict '>' keeps the first host on ties, which gives nginx's exact order.
    if (best == n || s.current > slots_[best].current) best = i;
  }
  if (best == n) return nullptr;
  slots_[best].current -= total;
  return &cluster_->hosts()[best];
}

}  // namespace baton::upstream
