#include "conf/value_syntax.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
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

std::optional<IpBytes> parseIp(std::string_view text) {
  IpBytes ip;
  if (const auto v4 = parseIpv4(text)) {
    std::copy(v4->begin(), v4->end(), ip.bytes.begin());
    return ip;
  }
  const auto v6 = parseIpv6(text);
  if (!v6) return std::nullopt;
  ip.family = AF_INET6;
  ip.bytes = *v6;
  return ip;
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

bool isVisibleAscii(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}

bool isPrintableAscii(unsigned char c) {
  return c >= 0x20 && c < 0x7f;
}

bool allOf(std::string_view text, bool (*pred)(unsigned char)) {
  for (unsigned char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

bool isTokenByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isCryptByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("./$=,-").find(static_cast<char>(c)) != std::string_view::npos;
}

// "host[:port]" where host is a DNS name, an IPv4 address or "[ipv6]"; the port is optional and
// 1..65535. `what` names the value in the message.
core::Result<void> checkNameAndPort(std::string_view text, std::string_view what) {
  const std::string why = "invalid " + std::string(what) + " " + quoted(text) +
                          ": expected \"name\", \"name:port\", \"ip:port\" or \"[ipv6]:port\"";
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto parts = splitHostPort(text);
    const bool bare = text.ends_with(']');
    if (bare) {
      host = text.substr(1, text.size() - 2);
    } else if (parts) {
      host = parts->host;
      port = parts->port;
    } else {
      return bad(why);
    }
    const auto ip = parseIp(host);
    if (!ip || ip->family != AF_INET6) return bad(why);
    if (bare) return {};
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) return bad(why);  // unbracketed IPv6
    }
    if (!normaliseDnsName(host)) return bad(why);
    if (colon == std::string_view::npos) return {};
  }
  const auto number = parseDecimal(port, 5);
  if (!number || *number < 1 || *number > 65535) {
    return bad("invalid port in " + quoted(text) + ": must be 1..65535");
  }
  return {};
}

}  // namespace

std::optional<std::array<uint8_t, 16>> parseIpv6(std::string_view text) {
  // inet_pton needs a NUL-terminated string: a bounded stack copy (no allocation).
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;  // longer than any form
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> out{};
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

bool isNumericIp(std::string_view text) {
  return parseIpv4(text).has_value() || parseIpv6(text).has_value();
}

// Part by part rather than byte by byte with a state: a Marathon resync checks every task's
// address here (twice: as an endpoint, then as a host of its cluster), 200,000 calls.
std::optional<std::array<uint8_t, 4>> parseIpv4(std::string_view text) {
  std::array<uint8_t, 4> out{};
  const char* at = text.data();
  const char* const end = at + text.size();
  const auto digit = [&](const char* p) { return p != end && *p >= '0' && *p <= '9'; };
  for (size_t part = 0; part < 4; ++part) {
    if (part > 0) {
      if (at == end || *at != '.') return std::nullopt;
      ++at;
    }
    if (!digit(at)) return std::nullopt;
    unsigned value = static_cast<unsigned>(*at++ - '0');
    // At most three digits, and no leading zero ("01"): a 0 ends its part.
    for (int more = 0; value != 0 && more < 2 && digit(at); ++more) {
      value = value * 10 + static_cast<unsigned>(*at++ - '0');
    }
    if (value > 255 || digit(at)) return std::nullopt;
    out[part] = static_cast<uint8_t>(value);
  }
  if (at != end) return std::nullopt;
  return out;
}

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

core::Result<std::string> normaliseSourceAddress(std::string_view address) {
  const auto ip = parseIp(address);
  if (!ip) {
    return bad("invalid source address " + quoted(address) +
               ": expected a numeric IPv4 or IPv6 address, without port or brackets");
  }
  const auto& b = ip->bytes;
  if (std::all_of(b.begin(), b.begin() + ip->bits() / 8, [](uint8_t x) { return x == 0; })) {
    return bad("invalid source address " + quoted(address) +
               ": the unspecified address means the kernel's choice; leave the key out");
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip->family, b.data(), text, sizeof(text));
  return std::string(text);
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

core::Result<std::string> normaliseAppId(std::string_view app_id) {
  std::string out;
  out.reserve(app_id.size());
  for (char c : app_id) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  bool ok = out.size() > 1 && out.size() <= 512 && out.front() == '/' && !out.ends_with('/') &&
            out.find("//") == std::string::npos;
  for (char c : out) ok = ok && (c == '/' || c == '.' || isDomainByte(c));
  if (!ok) {
    return bad("invalid app id " + quoted(app_id) +
               ": expected \"/group/app\" (letters, digits, '-', '.', '_' between slashes)");
  }
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

core::Result<void> checkRedirectPath(std::string_view path) {
  if (!path.starts_with('/')) return bad("path " + quoted(path) + " must start with \"/\"");
  for (unsigned char c : path) {
    if (!isVisibleAscii(c) || c == '?' || c == '#') {
      return bad("path " + quoted(path) +
                 " must be visible ASCII without space, '?' or '#' (percent-encode other bytes)");
    }
  }
  return {};
}

core::Result<void> checkHostHeader(std::string_view host) {
  return checkNameAndPort(host, "host");
}

core::Result<void> checkCookieName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !allOf(name, isTokenByte)) {
    return bad("invalid cookie name " + quoted(name) +
               ": expected 1..64 of letters, digits and !#$%&'*+-.^_`|~");
  }
  return {};
}

core::Result<void> checkAuthRealm(std::string_view realm) {
  const bool ok = !realm.empty() && realm.size() <= 128 && allOf(realm, isPrintableAscii) &&
                  realm.find_first_of("\"\\") == std::string_view::npos;
  if (!ok) {
    return bad("invalid realm " + quoted(realm) +
               ": expected 1..128 printable ASCII characters without '\"' or '\\'");
  }
  return {};
}

core::Result<void> checkAuthUser(std::string_view user) {
  const bool ok = !user.empty() && user.size() <= 128 && allOf(user, isPrintableAscii) &&
                  user.find(':') == std::string_view::npos;
  if (!ok) {
    return bad("invalid user " + quoted(user) +
               ": expected 1..128 printable ASCII characters without ':'");
  }
  return {};
}

core::Result<void> checkCryptHash(std::string_view hash) {
  // The hash itself is never echoed: a misplaced plain-text password must not reach the logs.
  if (!hash.starts_with('$')) {
    return bad(
        "not a crypt(3) hash (plain-text passwords are refused; make one with "
        "`mkpasswd -m sha-512` or `openssl passwd -6`)");
  }
  // "$id$" then at least one more non-empty '$'-separated field.
  const size_t id_end = hash.find('$', 1);
  const bool ok = allOf(hash, isCryptByte) && id_end != std::string_view::npos && id_end > 1 &&
                  id_end + 1 < hash.size() && !hash.ends_with('$') &&
                  hash.find("$$") == std::string_view::npos;
  if (!ok) {
    return bad(
        "not a crypt(3) hash: expected \"$id$salt$hash\" (e.g. \"$6$...\") of "
        "[A-Za-z0-9./$=,-]");
  }
  return {};
}

core::Result<void> checkMarathonUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return bad("invalid URL " + quoted(url) +
               ": expected \"http://host:port[/path]\", \"https://...\" or \"file:PATH\"");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return bad("invalid URL " + quoted(url) +
               ": no user info in the URL (use marathon.username / marathon.password)");
  }
  if (auto host = checkNameAndPort(authority, "URL host"); !host) return host;
  for (unsigned char c : path) {
    if (!isVisibleAscii(c) || c == '?' || c == '#') {
      return bad("invalid URL " + quoted(url) +
                 ": the path must be visible ASCII without space, '?' or '#'");
    }
  }
  return {};
}

core::Result<std::string> normaliseDnsName(std::string_view name) {
  if (name.starts_with('*')) return bad("invalid DNS name " + quoted(name) + ": no wildcard");
  auto out = normaliseDomain(name);
  if (!out) {
    return bad("invalid DNS name " + quoted(name) +
               ": expected labels of letters, digits, '-' or '_' separated by dots");
  }
  return out;
}

core::Result<void> checkNumericIp(std::string_view ip) {
  if (!parseIp(ip)) {
    return bad("invalid address " + quoted(ip) +
               ": expected a numeric IPv4 or IPv6 address without port or brackets");
  }
  return {};
}

core::Result<void> checkMarathonGroup(std::string_view group) {
  if (group.empty() || group.size() > 64 || !allOf(group, isVisibleAscii) ||
      group.find(',') != std::string_view::npos) {
    return bad("invalid group " + quoted(group) +
               ": expected \"*\" or 1..64 visible ASCII characters without ','");
  }
  return {};
}

core::Result<void> checkHeaderSafe(std::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return bad("must not contain control characters");
  }
  return {};
}

namespace {

void addStatus(std::vector<uint16_t>& statuses, uint16_t status) {
  const auto at = std::lower_bound(statuses.begin(), statuses.end(), status);
  if (at == statuses.end() || *at != status) statuses.insert(at, status);
}

}  // namespace

core::Result<void> addRetryCondition(std::string_view item, bool& on_reset,
                                     std::vector<uint16_t>& statuses) {
  if (item == "reset") {
    on_reset = true;
    return {};
  }
  if (item == "5xx") {
    for (uint16_t s = 500; s <= 599; ++s) addStatus(statuses, s);
    return {};
  }
  if (item == "gateway-error") {
    for (uint16_t s : {502, 503, 504}) addStatus(statuses, s);
    return {};
  }
  uint16_t status = 0;
  const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), status);
  if (ec != std::errc() || end != item.data() + item.size() || status < 500 || status > 599) {
    return bad("invalid retry condition " + quoted(item) +
               ": expected \"reset\", \"5xx\", \"gateway-error\" or a status 500..599");
  }
  addStatus(statuses, status);
  return {};
}

}  // namespace baton::conf
