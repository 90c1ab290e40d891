#include "routing/cidr_set.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace baton::routing {
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
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

core::Error badEntry(std::string_view entry, std::string_view why) {
  std::string d = "invalid CIDR \"";
  d.append(entry).append("\": ").append(why);
  return core::Error::config(std::move(d));
}

// "/n" after the address, or -1 when absent; -2 when malformed.
int parsePrefix(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return -1;
  const std::string_view p = text.substr(slash + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || p.size() > 3 || ec != std::errc() || end != p.data() + p.size()) return -2;
  return static_cast<int>(value);
}

}  // namespace

core::Result<CidrSet> CidrSet::create(const std::vector<std::string>& cidrs) {
  CidrSet out;
  for (const std::string& entry : cidrs) {
    if (auto ok = out.add(entry); !ok) return core::fail(std::move(ok.error()));
  }
  return out;
}

core::Result<void> CidrSet::add(std::string_view entry) {
  int prefix = parsePrefix(entry);
  if (prefix == -2) return core::fail(badEntry(entry, "bad prefix length"));
  const std::string addr(entry.substr(0, entry.find('/')));  // inet_pton wants a C string
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return core::fail(badEntry(entry, "prefix longer than 32"));
    const uint32_t value = ntohl(a4.s_addr);
    const uint32_t mask = v4Mask(static_cast<unsigned>(prefix));
    if ((value & ~mask) != 0) return core::fail(badEntry(entry, "host bits set after prefix"));
    v4_.push_back({value, mask});
    return {};
  }
  if (inet_pton(AF_INET6, addr.c_str(), &a6) != 1) {
    return core::fail(badEntry(entry, "not an IPv4 or IPv6 address"));
  }
  if (prefix < 0) prefix = 128;
  if (prefix > 128) return core::fail(badEntry(entry, "prefix longer than 128"));
  V6Range r{};
  std::memcpy(r.network.data(), a6.s6_addr, 16);
  r.prefix = static_cast<uint8_t>(prefix);
  // Host bits set <=> some bit past the prefix differs from an all-zero address.
  for (unsigned bit = static_cast<unsigned>(prefix); bit < 128; ++bit) {
    if (r.network[bit / 8] & (0x80 >> (bit % 8))) {
      return core::fail(badEntry(entry, "host bits set after prefix"));
    }
  }
  if (prefix >= 96 && isV4Mapped(r.network.data())) {
    v4_.push_back({loadV4(r.network.data() + 12), v4Mask(static_cast<unsigned>(prefix - 96))});
  } else {
    v6_.push_back(r);
  }
  return {};
}

bool CidrSet::contains(const sockaddr* addr) const {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof sin);
    const uint32_t a = ntohl(sin.sin_addr.s_addr);
    for (const V4Range& r : v4_) {
      if ((a & r.mask) == r.network) return true;
    }
    return false;
  }
  if (addr->sa_family != AF_INET6) return false;
  sockaddr_in6 sin6;
  std::memcpy(&sin6, addr, sizeof sin6);
  const uint8_t* a = sin6.sin6_addr.s6_addr;
  if (isV4Mapped(a)) {
    const uint32_t v4 = loadV4(a + 12);
    for (const V4Range& r : v4_) {
      if ((v4 & r.mask) == r.network) return true;
    }
    return false;
  }
  for (const V6Range& r : v6_) {
    if (samePrefix(a, r.network.data(), r.prefix)) return true;
  }
  return false;
}

}  // namespace baton::routing
