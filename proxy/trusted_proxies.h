// TrustedProxies: the configured CIDR list (server.trusted_proxies) of peers whose
// X-Forwarded-For / Forwarded headers baton appends to instead of overwriting.
//
// Built on the control thread from config (create), then immutable and shared read-only by
// every worker (contains() is const, lock-free and allocation-free). Lists are short, so a
// linear scan beats anything cleverer.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/core/error.h"

namespace baton::proxy {

class TrustedProxies {
 public:
  // Accepts "10.0.0.0/8", "::1/128", "fe80::/10", and bare addresses ("127.0.0.1" = /32,
  // "::1" = /128). A v4-mapped v6 range ("::ffff:10.0.0.0/104") is stored as its v4 range.
  // Refuses empty strings, bad addresses, bad or out-of-range prefixes and ranges with host
  // bits set ("10.0.0.1/8"): the error (ConfigInvalid) names the offending entry.
  static core::Result<TrustedProxies> create(const std::vector<std::string>& cidrs);

  TrustedProxies() = default;

  // AF_INET, AF_INET6 and v4-mapped v6 (::ffff:a.b.c.d matches v4 ranges). nullptr or other
  // families: false.
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

  bool containsV4(uint32_t addr_host_order) const;
  bool containsV6(const uint8_t* addr) const;

  std::vector<V4Range> v4_;
  std::vector<V6Range> v6_;
};

}  // namespace baton::proxy
