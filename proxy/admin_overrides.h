// Operator overrides of host states and weights (admin socket, dashboard): the control thread's
// record of "an operator said so", applied on top of every snapshot the server builds, so a
// drained host stays drained across Marathon resyncs and reloads until an operator sets it back.
//
// Keyed by cluster name and host name (not address or index: those change with the config).
// Effective state = the stricter of the host's own (discovery: task killing, old deployment
// colour), the host override and the cluster override (Maintenance > Draining > Active).
//
// Threading: control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/string_keyed.h"
#include "upstream/cluster.h"

namespace baton::proxy {

struct ProxySnapshot;

class AdminOverrides {
 public:
  struct HostOverride {
    std::optional<upstream::AdminState> state;  // unset = ready (no operator state)
    std::optional<uint32_t> weight;             // unset = the configured weight
  };

  // Active clears the operator's state. Each returns false when nothing changed (commands are
  // idempotent: a repeated drain publishes nothing).
  bool setHostState(const std::string& cluster, const std::string& host,
                    upstream::AdminState state);
  bool setHostWeight(const std::string& cluster, const std::string& host, uint32_t weight);
  bool setClusterState(const std::string& cluster, upstream::AdminState state);

  HostOverride host(std::string_view cluster, std::string_view host) const;
  upstream::AdminState clusterState(std::string_view cluster) const;
  bool empty() const { return clusters_.empty(); }

  // The operator's record as text, handed to the new process by a binary upgrade
  // (proxy/upgrade): one line per cluster state and per host override. parse() reads it back;
  // malformed text is an error naming the line.
  std::string serialize() const;
  static core::Result<AdminOverrides> parse(std::string_view text);

  // Each cluster with the overrides applied (the cluster itself when none applies). Memoised
  // per cluster object until the overrides change, so an unchanged cluster keeps one adjusted
  // object (and its load-balancer state) across publishes.
  std::vector<std::shared_ptr<const upstream::Cluster>> applyAll(
      const std::vector<std::shared_ptr<const upstream::Cluster>>& clusters) const;

 private:
  struct ClusterOverride {
    upstream::AdminState state = upstream::AdminState::Active;
    core::StringMap<HostOverride> hosts;
  };
  const ClusterOverride* find(std::string_view cluster) const;
  void changed() { memo_.clear(); }

  std::unordered_map<std::string, ClusterOverride> clusters_;
  struct Memo {
    std::shared_ptr<const upstream::Cluster> base;  // held: its address stays unique
    std::shared_ptr<const upstream::Cluster> adjusted;
  };
  // The last applyAll's results (entries of clusters no longer present are dropped each time).
  mutable std::unordered_map<const upstream::Cluster*, Memo> memo_;
};

// The stricter of two states (Maintenance > Draining > Active).
upstream::AdminState stricterState(upstream::AdminState a, upstream::AdminState b);

// A copy of `base` whose clusters carry the overrides (shares everything else). Returns `base`
// itself when there are none.
std::shared_ptr<const ProxySnapshot> applyOverrides(std::shared_ptr<const ProxySnapshot> base,
                                                    const AdminOverrides& overrides,
                                                    uint64_t generation);

}  // namespace baton::proxy
