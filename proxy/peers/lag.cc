#include "proxy/peers/lag.h"

#include <algorithm>

namespace baton::proxy::peers {

void markLagging(std::vector<admin::InstanceStatus>& peers, int64_t now_unix_ms,
                 int64_t threshold_ms) {
  const admin::InstanceStatus* freshest = nullptr;
  for (const auto& peer : peers) {
    if (!peer.reachable || peer.facts.marathon_state.empty()) continue;
    const auto& f = peer.facts;
    // Ties (same instant) break on the digest so every observer picks the same one.
    if (freshest == nullptr ||
        f.marathon_state_since_unix_ms > freshest->facts.marathon_state_since_unix_ms ||
        (f.marathon_state_since_unix_ms == freshest->facts.marathon_state_since_unix_ms &&
         f.marathon_state > freshest->facts.marathon_state)) {
      freshest = &peer;
    }
  }
  for (auto& peer : peers) {
    peer.lagging = false;
    peer.lag_ms = 0;
    if (freshest == nullptr || !peer.reachable) continue;
    if (peer.facts.marathon_state == freshest->facts.marathon_state) continue;
    peer.lag_ms = std::max<int64_t>(0, now_unix_ms - freshest->facts.marathon_state_since_unix_ms);
    peer.lagging = peer.lag_ms > threshold_ms;
  }
}

}  // namespace baton::proxy::peers
