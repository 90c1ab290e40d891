// Smooth weighted round-robin (nginx's algorithm): each pick adds every eligible host's weight
// to its running score, takes the highest score and subtracts the total from it. Weights 5,1,1
// give a a b a c a a: heavy hosts are interleaved, not picked in bursts.
// Created by createLoadBalancer(); used only on the owning worker's event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "upstream/load_balancer.h"

namespace baton::upstream {

class RoundRobinLoadBalancer : public LoadBalancer {
 public:
  explicit RoundRobinLoadBalancer(std::shared_ptr<const Cluster> cluster);

 private:
  const Host* choose(const TriedHosts& tried, const PickContext& ctx) override;
  // Dense per-host state, same indexing as hosts(): a pick walks 16 bytes per host instead
  // of the whole Host. The cluster is immutable, so admin state is folded in once.
  struct Slot {
    int64_t current = 0;  // running score
    int64_t weight = 0;   // 0 when the host is not Active
  };
  std::vector<Slot> slots_;
};

}  // namespace baton::upstream
