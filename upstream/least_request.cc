#include "upstream/least_request.h"

namespace baton::upstream {

LeastRequestLoadBalancer::LeastRequestLoadBalancer(std::shared_ptr<const Cluster> cluster)
    : LoadBalancer(std::move(cluster)) {
  weights_.reserve(cluster_->hosts().size());
  for (const Host& h : cluster_->hosts()) {
    weights_.push_back(h.routable() ? h.weight : 0);
  }
}

// (o_a + 1) / w_a < (o_b + 1) / w_b without division or floats. The +1 makes weight count
// even when both are idle: a weight-2 host absorbs two requests per one on a weight-1 host.
// 64-bit products: outstanding < 2^32 and weight <= 256 cannot overflow.
bool LeastRequestLoadBalancer::lessLoaded(size_t a, size_t b) const {
  uint64_t lhs = (uint64_t{outstanding_[a]} + 1) * weights_[b];
  uint64_t rhs = (uint64_t{outstanding_[b]} + 1) * weights_[a];
  return lhs < rhs;
}

const Host* LeastRequestLoadBalancer::choose(const TriedHosts& tried, const PickContext& ctx) {
  const size_t n = weights_.size();
  size_t best = n;
  size_t i = start_;
  for (size_t seen = 0; seen < n; ++seen, i = (i + 1 == n) ? 0 : i + 1) {
    if (weights_[i] == 0 || tried.contains(static_cast<uint32_t>(i))) continue;
    if (!versionMatches(cluster_->hosts()[i], ctx)) continue;
    if (best == n || lessLoaded(i, best)) best = i;
  }
  if (best == n) return nullptr;
  start_ = (best + 1 == n) ? 0 : best + 1;
  return &cluster_->hosts()[best];
}

}  // namespace baton::upstream
