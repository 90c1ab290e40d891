// Source hashing (marathon-lb's `balance source`): the client address picks the host, so one
// client keeps landing on the same host while the host set is unchanged.
//
// Weighted rendezvous (highest random weight) hashing: each eligible host scores
// weight / -ln(u), u in (0,1) drawn from hash(client, host name); the highest score wins. The
// score of a host depends only on the client and that host, so taking a host out (draining,
// gone, tried) moves only the clients it had, and adding one takes only the clients it now
// wins; hosts are keyed by name, never by index, so every worker and every baton instance that
// sees the same hosts agrees. Weights hold in expectation (P(host) = w / total).
// Created by createLoadBalancer(); used only on the owning worker's event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "upstream/load_balancer.h"

namespace baton::upstream {

class SourceHashLoadBalancer : public LoadBalancer {
 public:
  explicit SourceHashLoadBalancer(std::shared_ptr<const Cluster> cluster);

 private:
  const Host* choose(const TriedHosts& tried, const PickContext& ctx) override;

  std::vector<uint64_t> name_hashes_;  // per host, same indexing as hosts()
};

// The rendezvous score of a host for a client (exposed for tests): higher wins.
double rendezvousScore(uint64_t client_hash, uint64_t host_hash, uint32_t weight);

// A stable 64-bit hash of bytes (FNV-1a then a splitmix64 finaliser): the same on every
// platform and process, unlike std::hash.
uint64_t stableHash(std::string_view bytes);

}  // namespace baton::upstream
