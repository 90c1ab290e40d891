#include "upstream/load_balancer.h"

#include <netinet/in.h>

#include <cstring>
#include <string_view>

#include "upstream/least_request.h"
#include "upstream/power_of_two.h"
#include "upstream/round_robin.h"
#include "upstream/source_hash.h"

namespace baton::upstream {

uint64_t hashClientAddress(const sockaddr* addr) {
  if (addr == nullptr) return 0;
  if (addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr);
    return stableHash(std::string_view(reinterpret_cast<const char*>(&sin->sin_addr), 4));
  }
  if (addr->sa_family != AF_INET6) return 0;
  const auto* bytes = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
  static constexpr unsigned char kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kV4Mapped, sizeof kV4Mapped) == 0) {
    return stableHash(std::string_view(reinterpret_cast<const char*>(bytes) + 12, 4));
  }
  return stableHash(std::string_view(reinterpret_cast<const char*>(bytes), 16));
}

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
      return std::make_unique<SourceHashLoadBalancer>(std::move(cluster));
  }
  // Unreachable with a valid enum; round-robin is the safe default.
  return std::make_unique<RoundRobinLoadBalancer>(std::move(cluster));
}

}  // namespace baton::upstream
