// Least outstanding requests, weighted: picks the eligible host with the smallest
// (outstanding + 1) / weight, compared in integers as (o_a + 1) * w_b < (o_b + 1) * w_a.
// Ties go to the first host at or after a rotating start index (one past the last pick), so
// equally loaded hosts are used in turn rather than always the lowest index.
// Created by createLoadBalancer(); used only on the owning worker's event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "upstream/load_balancer.h"

namespace baton::upstream {

class LeastRequestLoadBalancer : public LoadBalancer {
 public:
  explicit LeastRequestLoadBalancer(std::shared_ptr<const Cluster> cluster);

 private:
  const Host* choose(const TriedHosts& tried, const PickContext& ctx) override;
  bool lessLoaded(size_t a, size_t b) const;
  // Per-host weight, 0 when not Active: a dense array the scan walks instead of the Hosts
  // (the cluster is immutable, so admin state is folded in once).
  std::vector<uint32_t> weights_;
  size_t start_ = 0;  // where the next scan begins; advances past each pick
};

}  // namespace baton::upstream
