#include "discovery/backoff.h"

#include <algorithm>

namespace baton::discovery {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(std::min(initial, max)), max_(max), ceiling_(initial_), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  std::uniform_int_distribution<int64_t> dist(0, ceiling_.count());
  const std::chrono::milliseconds delay{dist(rng_)};
  const auto grown = std::chrono::milliseconds{ceiling_.count() + ceiling_.count() / 2};
  ceiling_ = std::min(std::max(grown, ceiling_ + std::chrono::milliseconds{1}), max_);
  return delay;
}

void Backoff::reset() {
  ceiling_ = initial_;
}

void Backoff::onStreamEnded(std::chrono::milliseconds lived) {
  if (lived > kResetAfter) reset();
}

}  // namespace baton::discovery
