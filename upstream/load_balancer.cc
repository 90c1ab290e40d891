#include "upstream/load_balancer.h"

#include "upstream/least_request.h"
#include "upstream/power_of_two.h"
#include "upstream/round_robin.h"

namespace baton::upstream {

std::unique_ptr<LoadBalancer> createLoadBalancer(std::shared_ptr<const Cluster> cluster,
                                                 uint64_t seed) {
  switch (cluster->policy()) {
    case conf::LbPolicyKind::RoundRobin:
      return std::make_unique<RoundRobinLoadBalancer>(std::move(cluster));
    case conf::LbPolicyKind::LeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(std::move(cluster));
    case conf::LbPolicyKind::PowerOfTwo:
      return std::make_unique<PowerOfTwoLoadBalancer>(std::move(cluster), seed);
    case conf::LbPolicyKind::SourceHash:
      break;  // source_hash.cc is being written; round-robin until then
  }
  // Unreachable with a valid enum; round-robin is the safe default.
  return std::make_unique<RoundRobinLoadBalancer>(std::move(cluster));
}

}  // namespace baton::upstream
