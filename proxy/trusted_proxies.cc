#include "proxy/trusted_proxies.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <string_view>

namespace baton::proxy {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool isV4Mapped(const uint8_t* a) {
  return std::memcmp(a, kV4MappedPrefix.data(), 12) == 0;
}

uint32_t loadV4(const uint8_t* a) {
  return (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3];
}

uint32_t v4Mask(unsigned prefix) {
  return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
}

// True when `a` and `b` agree on their first `prefix` bits.
bool samePrefix(const uint8_t* a, const uint8_t* b, unsigned prefix) {
  const unsigned full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

core::Error badEntry(std::string_view entry, std::string_view why) {
  std::string d = "server.trusted_proxies: \"";
  d.append(entry);
  d.append("\": ");
  d.append(why);
  return core::Error::config(std::move(d));
}

}  // namespace

core::Result<TrustedProxies> TrustedProxies::create(const std::vector<std::string>& cidrs) {
  TrustedProxies out;
  for (const std::string& entry : cidrs) {
    std::string_view text = entry;
    std::string_view addr_text = text;
    int prefix = -1;  // none given: a single host
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      addr_text = text.substr(0, slash);
      std::string_view p = text.substr(slash + 1);
      unsigned value = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
      if (p.empty() || p.size() > 3 || ec != std::errc() || end != p.data() + p.size()) {
        return core::fail(badEntry(entry, "bad prefix length"));
      }
      prefix = static_cast<int>(value);
    }
    if (addr_text.empty()) return core::fail(badEntry(entry, "empty address"));
    const std::string addr_str(addr_text);  // inet_pton needs a NUL-terminated string
    in_addr a4{};
    in6_addr a6{};
    if (inet_pton(AF_INET, addr_str.c_str(), &a4) == 1) {
      if (prefix < 0) prefix = 32;
      if (prefix > 32) return core::fail(badEntry(entry, "prefix longer than 32"));
      const uint32_t addr = ntohl(a4.s_addr);
      const uint32_t mask = v4Mask(static_cast<unsigned>(prefix));
      if ((addr & ~mask) != 0) return core::fail(badEntry(entry, "host bits set after prefix"));
      out.v4_.push_back({addr, mask});
    } else if (inet_pton(AF_INET6, addr_str.c_str(), &a6) == 1) {
      if (prefix < 0) prefix = 128;
      if (prefix > 128) return core::fail(badEntry(entry, "prefix longer than 128"));
      V6Range r{};
      std::memcpy(r.network.data(), a6.s6_addr, 16);
      r.prefix = static_cast<uint8_t>(prefix);
      // Host bits set <=> the address differs from itself with the host part cleared.
      std::array<uint8_t, 16> masked{};
      for (int bit = 0; bit < prefix; ++bit) {
        masked[bit / 8] |= static_cast<uint8_t>(r.network[bit / 8] & (0x80 >> (bit % 8)));
      }
      if (masked != r.network) return core::fail(badEntry(entry, "host bits set after prefix"));
      if (prefix >= 96 && isV4Mapped(r.network.data())) {
        out.v4_.push_back(
            {loadV4(r.network.data() + 12), v4Mask(static_cast<unsigned>(prefix - 96))});
      } else {
        out.v6_.push_back(r);
      }
    } else {
      return core::fail(badEntry(entry, "not an IPv4 or IPv6 address"));
    }
  }
  return out;
}

bool TrustedProxies::containsV4(uint32_t addr) const {
  for (const V4Range& r : v4_) {
    if ((addr & r.mask) == r.network) return true;
  }
  return false;
}

bool TrustedProxies::containsV6(const uint8_t* addr) const {
  for (const V6Range& r : v6_) {
    if (samePrefix(addr, r.network.data(), r.prefix)) return true;
  }
  return false;
}

bool TrustedProxies::contains(const sockaddr* addr) const {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof sin);
    return containsV4(ntohl(sin.sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, addr, sizeof sin6);
    const uint8_t* a = sin6.sin6_addr.s6_addr;
    if (isV4Mapped(a)) return containsV4(loadV4(a + 12));
    return containsV6(a);
  }
  return false;
}

}  // namespace baton::proxy
