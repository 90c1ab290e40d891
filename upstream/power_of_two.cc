#include "upstream/power_of_two.h"

namespace baton::upstream {
namespace {

// Draws per choice before giving up on randomness. With half the hosts excluded, eight
// misses in a row happen once in 256 picks, and the scan that follows is still correct.
constexpr int kMaxDraws = 8;

}  // namespace

PowerOfTwoLoadBalancer::PowerOfTwoLoadBalancer(std::shared_ptr<const Cluster> cluster,
                                               uint64_t seed)
    : LoadBalancer(std::move(cluster)), random_(seed) {
  for (const Host& h : cluster_->hosts()) {
    if (h.weight != cluster_->hosts().front().weight) uniform_ = false;  // not reached if empty
  }
  if (!uniform_) buildAliasTable();
}

// Vose's method in integers. Each host's share is scaled to weight * n against a bucket size
// of W (total weight): light hosts fill part of their own bucket and lend the rest to a
// heavy one. keep_ is the kept fraction of the bucket in 1/2^32 units.
void PowerOfTwoLoadBalancer::buildAliasTable() {
  const std::vector<Host>& hosts = cluster_->hosts();
  const size_t n = hosts.size();
  uint64_t total = 0;
  std::vector<uint64_t> scaled(n);
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = uint64_t{hosts[i].weight} * n;
    total += hosts[i].weight;
  }
  keep_.assign(n, uint64_t{1} << 32);
  alias_.resize(n);
  for (size_t i = 0; i < n; ++i) alias_[i] = static_cast<uint32_t>(i);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) (scaled[i] < total ? small : large).push_back(uint32_t(i));
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    keep_[s] = (scaled[s] << 32) / total;
    alias_[s] = l;
    scaled[l] -= total - scaled[s];
    if (scaled[l] < total) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are full buckets (exactly W up to rounding): keep_ stays at 2^32.
}

uint32_t PowerOfTwoLoadBalancer::drawIndex() {
  const auto slot = static_cast<uint32_t>(random_.below(cluster_->hosts().size()));
  if (uniform_) return slot;
  return (random_.next() >> 32) < keep_[slot] ? slot : alias_[slot];
}

const Host* PowerOfTwoLoadBalancer::drawEligible(const TriedHosts& tried, const PickContext& ctx,
                                                 const Host* other) {
  const std::vector<Host>& hosts = cluster_->hosts();
  for (int i = 0; i < kMaxDraws; ++i) {
    const Host& h = hosts[drawIndex()];
    if (&h != other && eligible(h, tried, ctx)) return &h;
  }
  return nullptr;
}

// Least outstanding eligible host other than `other`, starting at a random offset so ties do
// not always favour the lowest index.
const Host* PowerOfTwoLoadBalancer::scan(const TriedHosts& tried, const PickContext& ctx,
                                         const Host* other) {
  const std::vector<Host>& hosts = cluster_->hosts();
  const size_t n = hosts.size();
  const Host* best = nullptr;
  size_t i = random_.below(n);
  for (size_t seen = 0; seen < n; ++seen, i = (i + 1 == n) ? 0 : i + 1) {
    const Host& h = hosts[i];
    if (&h == other || !eligible(h, tried, ctx)) continue;
    if (best == nullptr || outstanding_[h.index] < outstanding_[best->index]) best = &h;
  }
  return best;
}

const Host* PowerOfTwoLoadBalancer::choose(const TriedHosts& tried, const PickContext& ctx) {
  if (cluster_->hosts().empty()) return nullptr;  // a discovered app with no task: no draw
  const Host* a = drawEligible(tried, ctx, nullptr);
  if (a == nullptr) return scan(tried, ctx, nullptr);
  const Host* b = drawEligible(tried, ctx, a);
  // Keep the weighted first draw and scan only for its opponent: scanning for the overall
  // winner instead would skew the split towards light hosts (their draws miss less often).
  if (b == nullptr) b = scan(tried, ctx, a);
  if (b == nullptr) return a;  // the only eligible host
  // Raw counts, not count / weight: the weighted draw already sends heavier hosts more
  // candidates. On a tie keep the first draw, which is itself random.
  return outstanding_[b->index] < outstanding_[a->index] ? b : a;
}

}  // namespace baton::upstream
