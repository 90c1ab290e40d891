#include "proxy/snapshot.h"

#include "proxy/core/two_threads.h"
#include "proxy/tls/context_builder.h"

#include <string_view>
#include <unordered_map>

namespace baton::proxy {

namespace {

bool sameAccessLogSpec(const conf::AccessLogSpec& a, const conf::AccessLogSpec& b) {
  return a.path == b.path && a.format == b.format;
}

core::Result<std::shared_ptr<AccessLog>> accessLogFor(const conf::ConfigSpec& config,
                                                      const ProxySnapshot* previous,
                                                      uint32_t workers) {
  if (previous != nullptr && previous->access_log &&
      sameAccessLogSpec(previous->config->server.access_log, config.server.access_log)) {
    return previous->access_log;
  }
  return AccessLog::create(config.server.access_log, workers);
}

// A cluster whose spec did not change is shared with the previous snapshot: discovery rebuilds
// on every Marathon change, and an unchanged cluster keeps its load-balancer state in workers
// (which key balancers by cluster object) and costs nothing to rebuild.
// Clusters to create in one snapshot holding this many hosts or more are created on two threads
// (every app of a 100,000-task Marathon cluster redeployed); below it a thread costs more than
// it saves. Cluster::create is pure.
constexpr size_t kParallelClusterHosts = 20000;

using ClusterResult = core::Result<std::shared_ptr<const upstream::Cluster>>;

core::Result<std::vector<std::shared_ptr<const upstream::Cluster>>> buildClusters(
    const conf::ConfigSpec& config, const ProxySnapshot* previous) {
  std::unordered_map<std::string_view, size_t> reusable;
  if (previous != nullptr && previous->config) {
    const auto& old_specs = previous->config->clusters;
    for (size_t i = 0; i < old_specs.size() && i < previous->clusters.size(); ++i) {
      reusable.emplace(old_specs[i].name, i);
    }
  }
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters(config.clusters.size());
  std::vector<size_t> to_create;  // indices into config.clusters
  std::vector<std::shared_ptr<upstream::ClusterLoad>> loads;
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    const conf::ClusterSpec& cluster_spec = config.clusters[i];
    auto same = reusable.find(cluster_spec.name);
    if (same != reusable.end() && previous->config->clusters[same->second] == cluster_spec) {
      // Equal by value: the cluster is kept, and with it the host list its hosts view
      // (upstream/cluster.h). When translate built an equal list anew (an app object changed,
      // its tasks did not), that old list lives on beside the new config's copy until the
      // cluster is next rebuilt: at most one extra list per cluster, never a growing chain.
      clusters[i] = previous->clusters[same->second];
      continue;
    }
    // A changed cluster keeps counting what its predecessor has in flight (circuit breaking).
    to_create.push_back(i);
    loads.push_back(same != reusable.end() ? previous->clusters[same->second]->load() : nullptr);
  }
  std::vector<ClusterResult> created(to_create.size());
  core::forEachOnTwoThreads(
      to_create.size(), kParallelClusterHosts,
      [&](size_t k) { return config.clusters[to_create[k]].hosts.size(); },
      [&](size_t k) {
        created[k] = upstream::Cluster::create(config.clusters[to_create[k]], std::move(loads[k]));
      });
  for (size_t k = 0; k < to_create.size(); ++k) {  // the first error in cluster order
    if (!created[k]) return core::fail(std::move(created[k].error()));
    clusters[to_create[k]] = std::move(*created[k]);
  }
  return clusters;
}

// The previous snapshot's route table when it was built from the same inputs: most Marathon
// resyncs change hosts only (tasks replaced, health), and rebuilding 10,000 vhosts' routes cost
// more than comparing them. Null when anything differs.
std::shared_ptr<const routing::RouteTable> sameRoutes(const conf::ConfigSpec& config,
                                                      const ProxySnapshot* previous) {
  if (previous == nullptr || !previous->config || !previous->routes) return nullptr;
  const conf::ConfigSpec& old = *previous->config;
  if (old.limits.body_bytes != config.limits.body_bytes || !(old.pinning == config.pinning) ||
      old.clusters.size() != config.clusters.size()) {
    return nullptr;
  }
  // Routes hold cluster indices: the same names in the same order.
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    if (old.clusters[i].name != config.clusters[i].name) return nullptr;
  }
  if (!(old.vhosts == config.vhosts)) return nullptr;
  return previous->routes;
}

std::vector<std::string> clusterNames(const conf::ConfigSpec& config) {
  std::vector<std::string> names;
  for (const auto& cluster_spec : config.clusters) names.push_back(cluster_spec.name);
  return names;
}

// `--check` is strict where a running server is lenient: every configured certificate must load
// (a running server keeps serving the others, and the last good load of a changed one).
core::Result<void> checkCertificates(const conf::ConfigSpec& config) {
  if (config.tls.certificates.empty()) return {};
  tls::ContextBuilder builder;
  auto built = builder.build(config.tls);
  if (!built) return core::fail(std::move(built.error()));
  if (!built->errors.empty()) return core::fail(core::Error::config(built->errors.front()));
  return {};
}

}  // namespace

core::Result<void> checkConfig(const conf::ConfigSpec& config) {
  auto clusters = buildClusters(config, nullptr);
  if (!clusters) return core::fail(std::move(clusters.error()));
  auto routes = routing::RouteTable::create(config.vhosts, clusterNames(config),
                                            config.limits.body_bytes, &config.pinning);
  if (!routes) return core::fail(std::move(routes.error()));
  auto trusted = TrustedProxies::create(config.server.trusted_proxies);
  if (!trusted) return core::fail(std::move(trusted.error()));
  return checkCertificates(config);
}

core::Result<SnapshotPtr> buildSnapshot(std::shared_ptr<const conf::ConfigSpec> config,
                                        uint64_t generation, const ProxySnapshot* previous,
                                        uint32_t workers,
                                        std::shared_ptr<const tls::ServerContexts> tls) {
  auto snapshot = std::make_shared<ProxySnapshot>();
  snapshot->generation = generation;
  snapshot->tls = std::move(tls);

  auto clusters = buildClusters(*config, previous);
  if (!clusters) return core::fail(std::move(clusters.error()));
  snapshot->clusters = std::move(*clusters);
  auto index = std::make_shared<std::unordered_map<std::string, uint32_t>>();
  index->reserve(snapshot->clusters.size());
  for (size_t i = 0; i < snapshot->clusters.size(); ++i) {
    index->emplace(snapshot->clusters[i]->name(), static_cast<uint32_t>(i));
  }
  snapshot->cluster_index = std::move(index);

  snapshot->routes = sameRoutes(*config, previous);
  if (!snapshot->routes) {
    auto routes = routing::RouteTable::create(config->vhosts, clusterNames(*config),
                                              config->limits.body_bytes, &config->pinning);
    if (!routes) return core::fail(std::move(routes.error()));
    snapshot->routes = std::move(*routes);
  }

  auto trusted = TrustedProxies::create(config->server.trusted_proxies);
  if (!trusted) return core::fail(std::move(trusted.error()));
  snapshot->trusted_proxies.emplace(std::move(*trusted));

  auto access_log = accessLogFor(*config, previous, workers);
  if (!access_log) return core::fail(std::move(access_log.error()));
  snapshot->access_log = std::move(*access_log);

  if (previous != nullptr && previous->pin_settings &&
      previous->pin_settings->spec == config->pinning) {
    snapshot->pin_settings = previous->pin_settings;
  } else {
    snapshot->pin_settings = std::make_shared<const PinSettings>(config->pinning);
  }

  snapshot->config = std::move(config);
  return SnapshotPtr(std::move(snapshot));
}

}  // namespace baton::proxy
