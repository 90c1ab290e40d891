// Cluster construction: validation of a conf::ClusterSpec and numeric address resolution.
// Runs on the control thread (load / reload); never on an event loop, but it still does no DNS
// so that a reload cannot stall on a resolver.
#include "upstream/cluster.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "conf/value_syntax.h"

namespace baton::upstream {
namespace {

constexpr uint32_t kMinWeight = 1;
constexpr uint32_t kMaxWeight = 256;

core::Error addressError(std::string_view text, std::string_view why) {
  std::string d = "invalid address \"";
  d.append(text);
  d.append("\": ");
  d.append(why);
  return core::Error::config(std::move(d));
}

// Decimal port 1..65535; digits only (no sign, no spaces).
core::Result<uint16_t> parsePort(std::string_view text, std::string_view port, PortRule rule) {
  const uint32_t min = rule == PortRule::ZeroAllowed ? 0 : 1;
  const char* range =
      rule == PortRule::ZeroAllowed ? "port out of range 0..65535" : "port out of range 1..65535";
  if (port.empty()) return core::fail(addressError(text, "missing port"));
  if (port.size() > 5) return core::fail(addressError(text, range));
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return core::fail(addressError(text, "port is not a decimal number"));
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value < min || value > 65535) return core::fail(addressError(text, range));
  return static_cast<uint16_t>(value);
}

using Parsed = std::pair<sockaddr_storage, socklen_t>;

core::Result<Parsed> parseV6(std::string_view text, PortRule rule) {
  size_t close = text.find(']');
  if (close == std::string_view::npos) return core::fail(addressError(text, "missing ']'"));
  std::string_view ip = text.substr(1, close - 1);
  std::string_view rest = text.substr(close + 1);
  if (rest.empty() || rest[0] != ':') return core::fail(addressError(text, "missing port"));
  auto port = parsePort(text, rest.substr(1), rule);
  if (!port) return core::fail(port.error());
  Parsed out{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.first);
  const auto v6 = conf::parseIpv6(ip);
  if (!v6) return core::fail(addressError(text, "not a numeric IPv6 address"));
  std::memcpy(&sin6->sin6_addr, v6->data(), v6->size());
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(*port);
  out.second = sizeof(sockaddr_in6);
  return out;
}

core::Result<Parsed> parseV4(std::string_view text, PortRule rule) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return core::fail(addressError(text, "missing port"));
  std::string_view ip = text.substr(0, colon);
  if (ip.find(':') != std::string_view::npos) {
    return core::fail(addressError(text, "IPv6 addresses must be written as [addr]:port"));
  }
  if (ip.empty()) return core::fail(addressError(text, "missing IP address"));
  auto port = parsePort(text, text.substr(colon + 1), rule);
  if (!port) return core::fail(port.error());
  Parsed out{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&out.first);
  const auto v4 = conf::parseIpv4(ip);
  if (!v4) {
    return core::fail(
        addressError(text, "not a numeric IPv4 address (host names are not resolved)"));
  }
  std::memcpy(&sin->sin_addr, v4->data(), v4->size());
  sin->sin_family = AF_INET;
  sin->sin_port = htons(*port);
  out.second = sizeof(sockaddr_in);
  return out;
}

// "file:line: key: message", the format every config error uses.
core::Error specError(const conf::SourceLoc& loc, std::string_view key, std::string_view msg) {
  std::string d = loc.file;
  d.append(":").append(std::to_string(loc.line)).append(": ");
  d.append(key).append(": ").append(msg);
  return core::Error::config(std::move(d));
}

std::string hostKey(const conf::ClusterSpec& spec, size_t i, std::string_view field) {
  std::string k = "clusters.";
  k.append(spec.name).append(".hosts[").append(std::to_string(i)).append("].").append(field);
  return k;
}

// Host specs carry their own location; fall back to the cluster's when the loader had none.
conf::SourceLoc locOf(const conf::ClusterSpec& spec, const conf::HostSpec& host) {
  return host.line != 0 ? conf::SourceLoc{spec.loc.file, host.line} : spec.loc;
}

core::Result<Host> buildHost(const conf::ClusterSpec& spec, size_t i) {
  const conf::HostSpec& hs = spec.hosts[i];
  auto addr = parseSocketAddress(hs.address);
  if (!addr)
    return core::fail(specError(locOf(spec, hs), hostKey(spec, i, "address"), addr.error().detail));
  if (hs.weight < kMinWeight || hs.weight > kMaxWeight) {
    return core::fail(specError(locOf(spec, hs), hostKey(spec, i, "weight"),
                                "must be in 1..256, got " + std::to_string(hs.weight)));
  }
  Host h;
  h.index = static_cast<uint32_t>(i);
  h.address = hs.address;
  // parseSocketAddress zero-fills the storage: the bytes past a sockaddr_in are zeros too.
  static_assert(sizeof(h.sockaddr) <= sizeof(addr->first));
  std::memcpy(&h.sockaddr, &addr->first, sizeof(h.sockaddr));
  h.sockaddr_len = addr->second;
  h.weight = hs.weight;
  h.name = hs.name.empty() ? hs.address : hs.name;
  h.task_id = hs.task_id;
  if (!spec.sticky_cookie.empty()) h.sticky_value = StickyValue(stickyValueFor(h.name));
  if (hs.draining) h.admin_state = AdminState::Draining;
  if (spec.pin && !hs.version.empty()) {
    const auto& versions = spec.pin->versions;
    for (size_t v = 0; v < versions.size() && v < Host::kNoVersion; ++v) {
      if (versions[v].id == hs.version) h.version = static_cast<uint16_t>(v);
    }
  }
  return h;
}

// Two spellings of one endpoint ("[::1]:80", "[0::1]:80") are the same host: compare the
// binary socket address, which parseSocketAddress zero-fills outside the used fields.
std::string endpointKey(const Host& h) {
  return std::string(reinterpret_cast<const char*>(&h.sockaddr), h.sockaddr_len);
}

// Index of the earlier host with `host`'s endpoint, if any. Small clusters (a Marathon app's
// few tasks, 100,000 hosts in 10,000 clusters) compare directly: a hash map per cluster cost
// more than the rest of the build. `seen` takes over from kSmallCluster hosts on.
constexpr size_t kSmallCluster = 32;

bool sameEndpoint(const Host& a, const Host& b) {
  return a.sockaddr_len == b.sockaddr_len &&
         std::memcmp(&a.sockaddr, &b.sockaddr, a.sockaddr_len) == 0;
}

std::optional<size_t> firstSame(const std::vector<Host>& earlier, const Host& host,
                                std::unordered_map<std::string, size_t>& seen) {
  if (earlier.size() < kSmallCluster) {
    for (size_t j = 0; j < earlier.size(); ++j) {
      if (sameEndpoint(earlier[j], host)) return j;
    }
    return std::nullopt;
  }
  if (seen.empty()) {
    for (size_t j = 0; j < earlier.size(); ++j) seen.emplace(endpointKey(earlier[j]), j);
  }
  auto [it, fresh] = seen.emplace(endpointKey(host), earlier.size());
  if (fresh) return std::nullopt;
  return it->second;
}

}  // namespace

core::Result<Parsed> parseSocketAddress(std::string_view text, PortRule rule) {
  if (text.empty()) return core::fail(core::Error::config("empty address"));
  if (text.front() == '[') return parseV6(text, rule);
  return parseV4(text, rule);
}

core::Result<std::shared_ptr<const Cluster>> Cluster::create(const conf::ClusterSpec& spec,
                                                             std::shared_ptr<ClusterLoad> load) {
  std::string prefix = "clusters." + spec.name;
  if (spec.name.empty())
    return core::fail(specError(spec.loc, "clusters.name", "must not be empty"));
  // Only a configured cluster must have hosts (an empty one there is a typo); a discovered app
  // may legitimately have no task right now.
  if (spec.hosts.empty() && spec.origin == "config") {
    return core::fail(specError(spec.loc, prefix + ".hosts", "at least one host is required"));
  }
  if (spec.connect_attempts < 1) {
    return core::fail(specError(spec.loc, prefix + ".connect_attempts", "must be at least 1"));
  }
  std::shared_ptr<Cluster> cluster(new Cluster());
  cluster->name_ = spec.name;
  cluster->policy_ = spec.policy;
  cluster->max_idle_connections_ = spec.max_idle_connections;
  cluster->connect_attempts_ = spec.connect_attempts;
  cluster->sticky_cookie_ = spec.sticky_cookie;
  cluster->timeouts_ = spec.timeouts;
  cluster->protocol_ = spec.protocol;
  cluster->tls_verify_ = spec.tls_verify;
  cluster->tls_ca_file_ = spec.tls_ca_file;
  cluster->tls_server_name_ = spec.tls_server_name;
  cluster->health_check_ = spec.health_check;
  cluster->panic_ = spec.panic;
  cluster->retry_ = spec.retry;
  cluster->retry_budget_ = spec.retry_budget;
  cluster->limits_ = spec.limits;
  cluster->load_ = load != nullptr ? std::move(load) : std::make_shared<ClusterLoad>();
  cluster->outlier_ = spec.outlier;
  if (spec.pin && spec.pin->mode != conf::PinMode::Off) {
    cluster->pin_ = std::make_shared<const conf::PinGroupSpec>(*spec.pin);
  }
  cluster->host_specs_ = spec.hosts.shared();
  cluster->hosts_.reserve(spec.hosts.size());
  std::unordered_map<std::string, size_t> seen;  // only for large clusters, see firstSame
  for (size_t i = 0; i < spec.hosts.size(); ++i) {
    auto host = buildHost(spec, i);
    if (!host) return core::fail(std::move(host.error()));
    const std::optional<size_t> same = firstSame(cluster->hosts_, *host, seen);
    if (same) {
      return core::fail(specError(
          locOf(spec, spec.hosts[i]), hostKey(spec, i, "address"),
          "duplicate of hosts[" + std::to_string(*same) + "] (" + spec.hosts[*same].address + ")"));
    }
    cluster->hosts_.push_back(std::move(*host));
  }
  return std::shared_ptr<const Cluster>(std::move(cluster));
}

// A linear scan: clusters are small and the compare is 10 bytes; only requests that carry the
// cookie of a sticky cluster get here.
const Host* Cluster::findActiveBySticky(std::string_view value) const {
  for (const Host& h : hosts_) {
    if (h.routable() && h.sticky_value == value) return &h;
  }
  return nullptr;
}

const Host* Cluster::findDrainingOfVersion(uint16_t version, std::span<const uint32_t> tried,
                                           uint64_t start) const {
  const size_t n = hosts_.size();
  for (size_t k = 0; k < n; ++k) {
    const Host& h = hosts_[(start + k) % n];
    if (h.version != version || h.admin_state != AdminState::Draining || !h.healthy || h.ejected)
      continue;
    if (std::find(tried.begin(), tried.end(), h.index) == tried.end()) return &h;
  }
  return nullptr;
}

std::string stickyValueFor(std::string_view name) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(10, '0');
  for (size_t i = 0; i < 5; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

std::shared_ptr<const Cluster> Cluster::withAdminState(uint32_t index, AdminState state) const {
  std::shared_ptr<Cluster> copy(new Cluster(*this));
  if (index < copy->hosts_.size()) copy->hosts_[index].admin_state = state;
  return copy;
}

std::shared_ptr<const Cluster> Cluster::withAdjustedHosts(
    const std::function<void(Host&)>& adjust) const {
  std::shared_ptr<Cluster> copy(new Cluster(*this));
  for (Host& host : copy->hosts_) adjust(host);
  return copy;
}

}  // namespace baton::upstream
