#include "upstream/source_hash.h"

#include <cmath>

namespace baton::upstream {
namespace {

// splitmix64's finaliser: a bijection that spreads every input bit over the output.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t stableHash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

double rendezvousScore(uint64_t client_hash, uint64_t host_hash, uint32_t weight) {
  const uint64_t h = mix(client_hash ^ mix(host_hash + 0x9e3779b97f4a7c15ULL));
  // 53 random bits, offset by half a step: u is strictly inside (0, 1), so ln(u) < 0 and finite.
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  return static_cast<double>(weight) / -std::log(u);
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
    if (!eligible(h, tried)) continue;
    const double score = rendezvousScore(ctx.client_hash, name_hashes_[h.index], h.weight);
    if (best == nullptr || score > best_score) {
      best = &h;
      best_score = score;
    }
  }
  return best;
}

}  // namespace baton::upstream
