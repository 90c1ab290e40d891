// Helpers shared by the upstream unit tests: build ClusterSpecs and Clusters from short lists.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "upstream/cluster.h"
#include "upstream/load_balancer.h"

namespace baton::upstream::testing {

inline conf::ClusterSpec makeSpec(conf::LbPolicyKind policy,
                                  const std::vector<std::pair<std::string, uint32_t>>& hosts) {
  conf::ClusterSpec spec;
  spec.loc = {"test.toml", 7};
  spec.name = "web";
  spec.policy = policy;
  uint32_t line = 8;
  for (const auto& [address, weight] : hosts) {
    spec.hosts.push_back(conf::HostSpec{line++, address, weight});
  }
  return spec;
}

// Weights -> hosts 10.0.0.1:80, 10.0.0.2:80, ...
inline std::shared_ptr<const Cluster> makeCluster(conf::LbPolicyKind policy,
                                                  const std::vector<uint32_t>& weights) {
  std::vector<std::pair<std::string, uint32_t>> hosts;
  for (size_t i = 0; i < weights.size(); ++i) {
    hosts.emplace_back("10.0.0." + std::to_string(i + 1) + ":80", weights[i]);
  }
  auto cluster = Cluster::create(makeSpec(policy, hosts));
  EXPECT_TRUE(cluster.has_value()) << (cluster ? "" : cluster.error().detail);
  return cluster ? *cluster : nullptr;
}

// Picks `n` times with no load feedback; returns the picked indexes (-1 for nullptr).
inline std::vector<int> pickSequence(LoadBalancer& lb, int n, const TriedHosts& tried = {}) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    const Host* h = lb.pick(tried);
    out.push_back(h ? static_cast<int>(h->index) : -1);
  }
  return out;
}

inline std::map<int, int> countPicks(LoadBalancer& lb, int n, const TriedHosts& tried = {}) {
  std::map<int, int> counts;
  for (int i : pickSequence(lb, n, tried)) ++counts[i];
  return counts;
}

}  // namespace baton::upstream::testing
