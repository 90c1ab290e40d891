// The immutable runtime state a worker serves from: routes, clusters, limits, timeouts, trusted
// proxies and the access log. Built and validated on the control thread from a ConfigSpec, then
// handed to every worker (each keeps its own shared_ptr, replaced by a task posted to its loop:
// the request path reads a plain member, no atomics, no locks). A stream keeps the snapshot it
// started with until it ends, so a reload never changes a request mid-way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/access_log.h"
#include "proxy/core/error.h"
#include "proxy/pin_state.h"
#include "proxy/tls/server_contexts.h"
#include "proxy/trusted_proxies.h"
#include "routing/route_table.h"
#include "upstream/cluster.h"

namespace baton::proxy {

struct ProxySnapshot {
  uint64_t generation = 0;
  std::shared_ptr<const conf::ConfigSpec> config;
  std::shared_ptr<const routing::RouteTable> routes;
  // Indexed by routing::Route::cluster_index; clusters[i] was built from config->clusters[i].
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters;
  // The clusters' indices by name (TCP listeners name their cluster). Built once with the
  // snapshot and shared by its copies, rather than by every worker on every snapshot (10,000
  // Marathon clusters: ~9 M instructions a worker a resync).
  std::shared_ptr<const std::unordered_map<std::string, uint32_t>> cluster_index;
  std::optional<uint32_t> clusterIndexOf(const std::string& name) const {
    if (!cluster_index) return std::nullopt;
    auto found = cluster_index->find(name);
    if (found == cluster_index->end()) return std::nullopt;
    return found->second;
  }
  std::optional<TrustedProxies> trusted_proxies;  // always set in a built snapshot
  std::shared_ptr<AccessLog> access_log;
  // Certificates and TLS settings of every TLS listener (null when no listener uses TLS). Built
  // by the server's tls::ContextBuilder, which keeps each certificate's last good load.
  std::shared_ptr<const tls::ServerContexts> tls;
  // Asset pinning: [pinning] as the data path reads it, and per cluster (same indices as
  // `clusters`) its pin state, null for unpinned clusters. Filled by the server's PinTracker
  // just before the snapshot is sent (buildSnapshot leaves `pins` empty: nothing pinned).
  std::shared_ptr<const PinSettings> pin_settings;
  std::vector<std::shared_ptr<const PinGroupState>> pins;
  const PinGroupState* pinOf(uint32_t cluster_index) const {
    return cluster_index < pins.size() ? pins[cluster_index].get() : nullptr;
  }
};

using SnapshotPtr = std::shared_ptr<const ProxySnapshot>;

// Builds a complete snapshot or nothing. `previous` (may be null) lets unchanged parts be reused,
// e.g. the access log writer when its spec did not change.
core::Result<SnapshotPtr> buildSnapshot(std::shared_ptr<const conf::ConfigSpec> config,
                                        uint64_t generation, const ProxySnapshot* previous,
                                        uint32_t workers,
                                        std::shared_ptr<const tls::ServerContexts> tls = nullptr);

// Validates everything buildSnapshot would (clusters, routes, trusted proxies) without starting
// anything: `baton --check`.
core::Result<void> checkConfig(const conf::ConfigSpec& config);

}  // namespace baton::proxy
