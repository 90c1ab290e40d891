#include "upstream/source_hash.h"

#include "proxy/core/stable_hash.h"

namespace baton::upstream {
uint64_t stableHash(std::string_view bytes) {
  return core::stableHash(bytes);
}

double rendezvousScore(uint64_t client_hash, uint64_t host_hash, uint32_t weight) {
  return core::rendezvousScore(client_hash, host_hash, weight);
}

SourceHashLoadBalancer::SourceHashLoadBalancer(std::shared_ptr<const Cluster> cluster)
    : LoadBalancer(std::move(cluster)) {
  name_hashes_.reserve(cluster_->hosts().size());
  for (const Host& h : cluster_->hosts()) name_hashes_.push_back(stableHash(h.name));
}

// O(hosts) per pick: one log per eligible host. Source-hashed clusters are marathon-lb apps
// of a handful of tasks; a cache keyed by client would trade memory per client for little.
const Host* SourceHashLoadBalancer::choose(const TriedHosts& tried, const PickContext& ctx) {
  const std::vector<Host>& hosts = cluster_->hosts();
  const Host* best = nullptr;
  double best_score = 0;
  for (const Host& h : hosts) {
    if (!eligible(h, tried, ctx)) continue;
    const double score = rendezvousScore(ctx.client_hash, name_hashes_[h.index], h.weight);
    if (best == nullptr || score > best_score) {
      best = &h;
      best_score = score;
    }
  }
  return best;
}

}  // namespace baton::upstream
