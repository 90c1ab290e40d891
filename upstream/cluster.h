// Immutable clusters of upstream hosts, built from conf::ClusterSpec on the control thread and
// shared read-only with every worker inside a snapshot (std::shared_ptr<const Cluster>).
// Addresses are resolved at build time (numeric only: no DNS on any event loop).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/borrowed_string.h"
#include "proxy/core/error.h"
#include "upstream/circuit_breaker.h"

namespace baton::upstream {

enum class AdminState : uint8_t { Active, Draining, Maintenance };

// A host's numeric IPv4 or IPv6 socket address in 28 bytes: a sockaddr_storage is 128, and a
// Marathon-scale snapshot carries 100,000 hosts (10 MB of zeros, twice while a publish swaps
// snapshots). `&host.sockaddr` casts to `const sockaddr*` as the sockaddr_storage did (the IPv6
// member comes first so that value-initialisation zeroes all 28 bytes); Host::sockaddr_len says
// which member is in use.
union HostSockaddr {
  sockaddr_in6 v6;
  sockaddr_in v4;
  sockaddr sa;
  const sockaddr* get() const { return &sa; }
};
static_assert(sizeof(HostSockaddr) == sizeof(sockaddr_in6));

// A host's sticky cookie value: marathon-lb's 10 hex digits inline, or none. 11 bytes where a
// std::string took 32 (100,000 hosts a snapshot). Reads as a std::string_view.
class StickyValue {
 public:
  static constexpr size_t kMaxSize = 10;
  StickyValue() = default;
  // Keeps at most kMaxSize characters (stickyValueFor makes exactly 10).
  explicit StickyValue(std::string_view value) : size_(std::min(value.size(), kMaxSize)) {
    value.copy(chars_, size_);
  }
  std::string_view view() const { return {chars_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: reads as a string
  bool empty() const { return size_ == 0; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  char chars_[kMaxSize] = {};
  uint8_t size_ = 0;
};

// Fields ordered so that nothing pads: 100,000 of them per snapshot at Marathon scale.
struct Host {
  uint32_t index = 0;  // position in Cluster::hosts(); stable for this snapshot
  uint32_t weight = 1;
  // The three strings are views of the conf::HostSpec the host was built from, which its
  // cluster keeps alive (Cluster::create): at Marathon scale a resync built 100,000 hosts, and
  // copying their strings was 300,000 allocations on the control thread and as many frees.
  // BorrowedString: assigning a temporary std::string to one is a compile error.
  core::BorrowedString address;  // as configured, "ip:port" / "[v6]:port"; the pool's key
  // Stats / admin / hashing name (marathon-lb's svname); the address when none was given.
  // Source hashing keys on it, so it must not depend on the host's position in the cluster.
  core::BorrowedString name;
  core::BorrowedString task_id;  // Marathon task id, "" for configured hosts
  // Cookie value naming this host for cluster stickiness: the first 10 hex digits of
  // SHA-1(name), exactly marathon-lb's `cookie <sha1(servername)[:10]>`, so a client's cookie
  // survives a move from marathon-lb to baton and between baton instances. Empty in a cluster
  // without a sticky cookie (nothing reads it there; SHA-1 of 100,000 hosts costs a resync).
  StickyValue sticky_value;
  HostSockaddr sockaddr{};
  socklen_t sockaddr_len = 0;
  AdminState admin_state = AdminState::Active;  // only Active hosts get new requests
  // baton's own active health check (proxy/health) lets it serve: false once the check failed
  // unhealthy_threshold times in a row. Always true without a check, and for every host of a
  // cluster in panic (no Active host healthy). Set on the control thread in the copy of the
  // cluster a snapshot carries; every pick path reads it through routable().
  bool healthy = true;
  // Passive outlier ejection (proxy/health/outlier_detector) took it out for a while: set on
  // the control thread like `healthy`; never set in a cluster routing to all (panic).
  bool ejected = false;
  // Ejected before and back now: the workers report its next success once, which lets the
  // detector forget its past ejections (the next one starts again from the base time).
  bool outlier_recovering = false;
  // Asset pinning: index into the cluster's pin versions (conf::PinGroupSpec::versions), or
  // kNoVersion (an unpinned cluster, or a host whose version the spec does not list).
  uint16_t version = kNoVersion;
  static constexpr uint16_t kNoVersion = 0xFFFF;
  // May get a new request: Active, healthy and not ejected.
  bool routable() const { return admin_state == AdminState::Active && healthy && !ejected; }
};

class Cluster {
 public:
  // Errors name file:line:key (unparseable address, weight out of 1..256, duplicate endpoint,
  // no hosts in a configured cluster). A discovered cluster (origin != "config") may be empty:
  // a Marathon app with no running task still routes, and its requests get 503 NoHealthyHost.
  // HostSpec::draining becomes AdminState::Draining.
  // `load`: the circuit-breaking counters of the cluster this one replaces (same name), so
  // what is in flight stays counted; null starts at zero.
  static core::Result<std::shared_ptr<const Cluster>> create(
      const conf::ClusterSpec& spec, std::shared_ptr<ClusterLoad> load = nullptr);

  // A copy of this cluster with host `index` set to `state` (admin drain / maintenance, and
  // tests). Builds a new snapshot; this one is untouched. Out-of-range index: unchanged copy.
  std::shared_ptr<const Cluster> withAdminState(uint32_t index, AdminState state) const;
  // A copy with `adjust` applied to every host (operator states and weights from the admin
  // socket). `adjust` must not change a host's index, address or name.
  std::shared_ptr<const Cluster> withAdjustedHosts(const std::function<void(Host&)>& adjust) const;

  const std::string& name() const { return name_; }
  conf::LbPolicyKind policy() const { return policy_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  uint32_t maxIdleConnections() const { return max_idle_connections_; }
  uint32_t connectAttempts() const { return connect_attempts_; }
  // "" = no cookie stickiness; else the cookie name (HAProxy `cookie NAME insert indirect
  // nocache`).
  const std::string& stickyCookie() const { return sticky_cookie_; }
  // Per-cluster overrides of [timeouts]; unset fields use the global value.
  const conf::TimeoutOverrides& timeouts() const { return timeouts_; }
  // Backend protocol (http1, h2c, h2) and, for h2, certificate verification.
  conf::UpstreamProtocol protocol() const { return protocol_; }
  bool tlsVerify() const { return tls_verify_; }
  const std::string& tlsCaFile() const { return tls_ca_file_; }
  const std::string& tlsServerName() const { return tls_server_name_; }  // "" = the address
  // Active health checking (read by proxy/health on the control thread): unset = none.
  const std::optional<conf::HealthCheckSpec>& healthCheck() const { return health_check_; }
  bool panic() const { return panic_; }
  // Retries of requests that reached a host (a route may override the policy), their budget,
  // and circuit breaking: the limits and the counters all workers share (circuit_breaker.h).
  const conf::RetryPolicySpec& retryPolicy() const { return retry_; }
  const conf::RetryBudgetSpec& retryBudget() const { return retry_budget_; }
  const conf::CircuitLimitsSpec& limits() const { return limits_; }
  const std::shared_ptr<ClusterLoad>& load() const { return load_; }
  // Passive outlier ejection settings (read by the workers' streak counters and the detector).
  const conf::OutlierSpec& outlier() const { return outlier_; }
  // The routable (Active, healthy) host whose sticky_value is `value`, else nullptr (unknown,
  // draining, gone).
  const Host* findActiveBySticky(std::string_view value) const;
  // Asset pinning: the group's versions (null for an unpinned cluster, or pin mode off).
  const std::shared_ptr<const conf::PinGroupSpec>& pin() const { return pin_; }
  // A healthy Draining host of `version` not in `tried`, rotating from `start` (a pinned request
  // whose version has no Active host left: the draining build still serves its own files).
  const Host* findDrainingOfVersion(uint16_t version, std::span<const uint32_t> tried,
                                    uint64_t start) const;

 private:
  Cluster() = default;
  std::string name_;
  conf::LbPolicyKind policy_ = conf::LbPolicyKind::RoundRobin;
  std::vector<Host> hosts_;
  // What the hosts' strings view: the spec's host list, shared (never written while shared:
  // conf::SharedList copies before a write).
  std::shared_ptr<const std::vector<conf::HostSpec>> host_specs_;
  uint32_t max_idle_connections_ = 1024;
  uint32_t connect_attempts_ = 3;
  std::string sticky_cookie_;
  conf::TimeoutOverrides timeouts_;
  conf::UpstreamProtocol protocol_ = conf::UpstreamProtocol::Http1;
  bool tls_verify_ = true;
  std::string tls_ca_file_;
  std::string tls_server_name_;
  std::shared_ptr<const conf::PinGroupSpec> pin_;
  std::optional<conf::HealthCheckSpec> health_check_;
  bool panic_ = true;
  conf::RetryPolicySpec retry_;
  conf::RetryBudgetSpec retry_budget_;
  conf::CircuitLimitsSpec limits_;
  std::shared_ptr<ClusterLoad> load_;
  conf::OutlierSpec outlier_;
};

// First 10 lower-case hex digits of SHA-1(`name`) (marathon-lb's sticky cookie value).
std::string stickyValueFor(std::string_view name);

// Port 0 means "the kernel picks": valid for a listening socket, never for a host to connect to.
enum class PortRule : uint8_t { NonZero, ZeroAllowed };

// Parses "1.2.3.4:80", "[::1]:80" (numeric only). Error detail says what is wrong.
core::Result<std::pair<sockaddr_storage, socklen_t>> parseSocketAddress(
    std::string_view text, PortRule rule = PortRule::NonZero);

}  // namespace baton::upstream
