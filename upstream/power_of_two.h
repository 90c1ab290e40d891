// Power of two choices: draw two distinct hosts at random (weighted by host weight when the
// weights differ), send to the one with fewer outstanding requests. Near least-request
// balance at O(1) per pick, and no herding onto one "least loaded" host.
// When the draws keep landing on tried / non-Active hosts, or fewer than two hosts are
// eligible, a linear scan stands in for the missing draw (least-loaded eligible host).
// Created by createLoadBalancer(); used only on the owning worker's event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "proxy/core/fast_random.h"
#include "upstream/load_balancer.h"

namespace baton::upstream {

class PowerOfTwoLoadBalancer : public LoadBalancer {
 public:
  PowerOfTwoLoadBalancer(std::shared_ptr<const Cluster> cluster, uint64_t seed);

 private:
  const Host* choose(const TriedHosts& tried, const PickContext& ctx) override;
  uint32_t drawIndex();
  const Host* drawEligible(const TriedHosts& tried, const PickContext& ctx, const Host* other);
  const Host* scan(const TriedHosts& tried, const PickContext& ctx, const Host* other);

  void buildAliasTable();

  core::FastRandom random_;
  bool uniform_ = true;  // all weights equal: plain uniform draw, no table
  // Walker/Vose alias table for O(1) weighted draws: pick slot i uniformly, keep it when a
  // 32-bit coin is below keep_[i] (out of 2^32), else take alias_[i].
  std::vector<uint64_t> keep_;
  std::vector<uint32_t> alias_;
};

}  // namespace baton::upstream
