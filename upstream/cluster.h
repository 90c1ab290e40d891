// Immutable clusters of upstream hosts, built from conf::ClusterSpec on the control thread and
// shared read-only with every worker inside a snapshot (std::shared_ptr<const Cluster>).
// Addresses are resolved at build time (numeric only: no DNS on any event loop).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"

namespace baton::upstream {

enum class AdminState : uint8_t { Active, Draining, Maintenance };

struct Host {
  uint32_t index = 0;   // position in Cluster::hosts(); stable for this snapshot
  std::string address;  // as configured, "ip:port" / "[v6]:port"; also the log/metrics name
  sockaddr_storage sockaddr{};
  socklen_t sockaddr_len = 0;
  uint32_t weight = 1;
  AdminState admin_state = AdminState::Active;  // only Active hosts get new requests
};

class Cluster {
 public:
  // Errors name file:line:key (unparseable address, weight out of 1..256, no hosts).
  static core::Result<std::shared_ptr<const Cluster>> create(const conf::ClusterSpec& spec);

  // A copy of this cluster with host `index` set to `state` (admin drain / maintenance, and
  // tests). Builds a new snapshot; this one is untouched. Out-of-range index: unchanged copy.
  std::shared_ptr<const Cluster> withAdminState(uint32_t index, AdminState state) const;

  const std::string& name() const { return name_; }
  conf::LbPolicyKind policy() const { return policy_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  uint32_t maxIdleConnections() const { return max_idle_connections_; }
  uint32_t connectAttempts() const { return connect_attempts_; }

 private:
  Cluster() = default;
  std::string name_;
  conf::LbPolicyKind policy_ = conf::LbPolicyKind::RoundRobin;
  std::vector<Host> hosts_;
  uint32_t max_idle_connections_ = 64;
  uint32_t connect_attempts_ = 3;
};

// Port 0 means "the kernel picks": valid for a listening socket, never for a host to connect to.
enum class PortRule : uint8_t { NonZero, ZeroAllowed };

// Parses "1.2.3.4:80", "[::1]:80" (numeric only). Error detail says what is wrong.
core::Result<std::pair<sockaddr_storage, socklen_t>> parseSocketAddress(
    std::string_view text, PortRule rule = PortRule::NonZero);

}  // namespace baton::upstream
