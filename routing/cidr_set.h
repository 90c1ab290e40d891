// CidrSet: a short list of IPv4/IPv6 ranges and the test "is this peer in one of them", for a
// route's allowed_sources (marathon-lb's BACKEND_NETWORK_ALLOWED_ACL).
//
// Built on the control thread with the route table, then immutable and read by every worker
// (contains() is const, lock-free, allocation-free). Lists are short: a linear scan.
// Also the trusted-proxy list (proxy/trusted_proxies.h).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"

namespace baton::routing {

class CidrSet {
 public:
  // Accepts "10.0.0.0/8", "::1/128", bare addresses (= /32, /128); a v4-mapped v6 range is
  // stored as its v4 range. Refuses bad addresses, prefixes and set host bits: the error
  // detail names the entry.
  static core::Result<CidrSet> create(const std::vector<std::string>& cidrs);

  CidrSet() = default;

  // AF_INET, AF_INET6, v4-mapped v6 (matches v4 ranges). nullptr or another family: false.
  bool contains(const sockaddr* addr) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  struct V4Range {
    uint32_t network;  // host byte order
    uint32_t mask;
  };
  struct V6Range {
    std::array<uint8_t, 16> network;
    uint8_t prefix;
  };
  core::Result<void> add(std::string_view entry);

  std::vector<V4Range> v4_;
  std::vector<V6Range> v6_;
};

}  // namespace baton::routing
