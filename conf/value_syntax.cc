#include "conf/value_syntax.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

namespace baton::conf {
namespace {

std::unexpected<core::Error> bad(std::string message) {
  return core::fail(core::Error::config(std::move(message)));
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// A parsed numeric IP address: 4 or 16 bytes.
struct IpBytes {
  std::array<uint8_t, 16> bytes{};
  int family = AF_INET;
  int bits() const { return family == AF_INET ? 32 : 128; }
};

// inet_pton needs a NUL-terminated string; copies are cheap here (control thread, load time).
std::optional<IpBytes> parseIp(std::string_view text) {
  const std::string s(text);
  IpBytes ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.family = AF_INET6;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

std::optional<uint32_t> parseDecimal(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

struct HostPort {
  std::string_view host;  // without brackets; empty for ":port"
  std::string_view port;
  bool bracketed = false;
};

// Splits "host:port" / "[v6]:port" / ":port" without judging the parts.
std::optional<HostPort> splitHostPort(std::string_view address) {
  HostPort out;
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos || address.substr(close + 1, 1) != ":") return std::nullopt;
    out.host = address.substr(1, close - 1);
    out.port = address.substr(close + 2);
    out.bracketed = true;
    return out;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  out.host = address.substr(0, colon);
  out.port = address.substr(colon + 1);
  return out;
}

core::Result<void> checkAddress(std::string_view address, bool listener) {
  const std::string_view forms =
      listener ? "\"ip:port\", \"[ipv6]:port\" or \":port\"" : "\"ip:port\" or \"[ipv6]:port\"";
  const auto parts = splitHostPort(address);
  if (!parts) return bad("invalid address " + quoted(address) + ": expected " + std::string(forms));
  const auto port = parseDecimal(parts->port, 5);
  const uint32_t min_port = listener ? 0 : 1;
  if (!port || *port < min_port || *port > 65535) {
    return bad("invalid port in " + quoted(address) + ": must be " + std::to_string(min_port) +
               "..65535");
  }
  if (parts->host.empty() && !parts->bracketed && listener) return {};
  const auto ip = parseIp(parts->host);
  const bool v6 = ip && ip->family == AF_INET6;
  if (!ip || v6 != parts->bracketed) {
    return bad("invalid address " + quoted(address) + ": expected " + std::string(forms) +
               " with a numeric IP (names are not resolved)");
  }
  return {};
}

bool isDomainByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

core::Result<void> checkListenerAddress(std::string_view address) {
  return checkAddress(address, true);
}

core::Result<void> checkHostAddress(std::string_view address) {
  return checkAddress(address, false);
}

core::Result<std::string> normaliseCidr(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  const std::string_view addr = cidr.substr(0, slash);
  const auto ip = parseIp(addr);
  if (!ip) return bad("invalid CIDR " + quoted(cidr) + ": expected a numeric IPv4 or IPv6 address");
  int len = ip->bits();
  if (slash != std::string_view::npos) {
    const auto parsed = parseDecimal(cidr.substr(slash + 1), 3);
    if (!parsed || static_cast<int>(*parsed) > ip->bits()) {
      return bad("invalid CIDR " + quoted(cidr) + ": prefix length must be 0.." +
                 std::to_string(ip->bits()));
    }
    len = static_cast<int>(*parsed);
  }
  for (int bit = len; bit < ip->bits(); ++bit) {
    if (ip->bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return bad("invalid CIDR " + quoted(cidr) + ": address has bits set beyond /" +
                 std::to_string(len));
    }
  }
  return std::string(addr) + "/" + std::to_string(len);
}

core::Result<std::string> normaliseDomain(std::string_view domain) {
  if (domain == "*") return std::string(domain);
  std::string out;
  out.reserve(domain.size());
  for (char c : domain) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  std::string_view rest = out;
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  const std::string why = "invalid domain " + quoted(domain) +
                          ": expected \"name.example\", \"*.example\" or \"*\" (no port)";
  if (rest.empty() || rest.size() > 253) return bad(why);
  size_t label = 0;
  for (char c : rest) {
    if (c == '.') {
      if (label == 0) return bad(why);
      label = 0;
    } else if (!isDomainByte(c) || ++label > 63) {
      return bad(why);
    }
  }
  if (label == 0) return bad(why);
  return out;
}

core::Result<void> checkRoutePrefix(std::string_view prefix) {
  if (!prefix.starts_with('/'))
    return bad("route prefix " + quoted(prefix) + " must start with \"/\"");
  for (unsigned char c : prefix) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '?' || c == '#') {
      return bad("route prefix " + quoted(prefix) + " contains a control byte, space, '?' or '#'");
    }
  }
  return {};
}

}  // namespace baton::conf
