#include "proxy/worker_stats.h"

#include <chrono>

#include "proxy/snapshot.h"

namespace baton::proxy {

namespace {

constexpr size_t kRejectedRing = 64;

template <typename Map>
void markAbsent(Map& map) {
  for (auto& [name, runtime] : map) runtime->present = false;
}

template <typename Map>
void eraseUnused(Map& map) {
  std::erase_if(
      map, [](const auto& entry) { return !entry.second->present && entry.second->refs == 0; });
}

}  // namespace

std::string routeId(const std::string& vhost, const std::string& prefix) {
  return vhost + "|" + prefix;
}

std::string escapeExcerpt(std::string_view bytes, size_t max) {
  std::string out;
  const size_t n = std::min(bytes.size(), max);
  out.reserve(n + 8);
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

SnapshotPtr WorkerStats::attach(SnapshotPtr snapshot, std::vector<HostRuntime*>& left_active) {
  markAbsent(clusters_);
  markAbsent(routes_);
  for (auto& [name, cluster] : clusters_) markAbsent(cluster->hosts);
  const auto now = std::chrono::steady_clock::now();

  // The last attach's tables by cluster object: an unchanged cluster (shared between snapshots)
  // keeps its table, which matters with thousands of Marathon apps. attached_ still holds the
  // last snapshot, so no object of it can share an address with one of the new snapshot.
  std::unordered_map<const upstream::Cluster*, ClusterTable*> last;
  last.reserve(tables_.size());
  for (ClusterTable& table : tables_) last.emplace(table.cluster, &table);
  std::vector<ClusterTable> tables;
  tables.reserve(snapshot->clusters.size());
  for (const auto& cluster : snapshot->clusters) {
    auto same = last.find(cluster.get());
    tables.push_back(
        tableFor(*cluster, same == last.end() ? nullptr : same->second, now, left_active));
  }
  tables_ = std::move(tables);
  SnapshotPtr replaced = std::exchange(attached_, std::move(snapshot));

  const ProxySnapshot& current = *attached_;
  if (replaced != nullptr && replaced->routes == current.routes) {
    // The very same route table (a resync where only hosts changed): the same runtimes by index,
    // without building and hashing 10,000 route names on this worker's thread per resync.
    for (RouteRuntime* runtime : routes_by_index_) {
      if (runtime != nullptr) runtime->present = true;
    }
    prune();
    return replaced;
  }
  // A new table: the runtimes this worker has (routes it served) follow their id; the others
  // wait for their first use (route()).
  routes_by_index_.assign(current.routes ? current.routes->routeCount() : 0, nullptr);
  for (size_t r = 0; r < routes_by_index_.size() && !routes_.empty(); ++r) {
    const routing::Route& route = current.routes->route(r);
    auto found = routes_.find(routeId(route.vhost_name, route.prefix));
    if (found == routes_.end()) continue;
    found->second->present = true;
    routes_by_index_[r] = found->second.get();
  }
  prune();
  return replaced;
}

RouteRuntime* WorkerStats::firstRouteUse(size_t route_index) {
  const routing::Route& route = attached_->routes->route(route_index);
  auto& runtime = routes_[routeId(route.vhost_name, route.prefix)];
  if (!runtime) runtime = std::make_unique<RouteRuntime>();
  runtime->present = true;
  routes_by_index_[route_index] = runtime.get();
  return runtime.get();
}

WorkerStats::ClusterTable WorkerStats::tableFor(const upstream::Cluster& cluster,
                                                ClusterTable* last,
                                                std::chrono::steady_clock::time_point now,
                                                std::vector<HostRuntime*>& left_active) {
  // The cluster's counters if this worker has them (made on first use, like its hosts').
  ClusterRuntime* runtime = nullptr;
  if (auto found = clusters_.find(cluster.name()); found != clusters_.end()) {
    runtime = found->second.get();
    runtime->present = true;
  }
  if (last != nullptr) {
    // The very same cluster object: same hosts, same states, same outlier settings.
    for (HostRuntime* host : last->hosts) {
      if (host != nullptr) host->present = true;
    }
    ClusterTable kept = std::move(*last);
    kept.runtime = runtime;
    return kept;
  }
  ClusterTable table{&cluster, runtime, std::vector<HostRuntime*>(cluster.hosts().size())};
  for (const upstream::Host& host : cluster.hosts()) {
    // Runtimes this worker already has (hosts it used, hosts out of service) follow their name;
    // a host out of service gets one now (see attach); the others wait for their first use.
    const bool known =
        runtime != nullptr && !runtime->hosts.empty() && runtime->hosts.contains(host.name);
    if (known || host.admin_state != upstream::AdminState::Active) {
      if (table.runtime == nullptr) table.runtime = clusterNamed(cluster.name());
      table.hosts[host.index] = track(*table.runtime, cluster, host, now, &left_active);
    }
  }
  return table;
}

ClusterRuntime* WorkerStats::firstClusterUse(uint32_t cluster_index) {
  ClusterTable& table = tables_[cluster_index];
  table.runtime = clusterNamed(table.cluster->name());
  return table.runtime;
}

ClusterRuntime* WorkerStats::clusterNamed(const std::string& name) {
  auto& runtime = clusters_[name];
  if (!runtime) runtime = std::make_unique<ClusterRuntime>();
  runtime->present = true;
  return runtime.get();
}

HostRuntime* WorkerStats::firstUse(uint32_t cluster_index, uint32_t host_index) {
  ClusterTable& table = tables_[cluster_index];
  const upstream::Host& host = table.cluster->hosts()[host_index];
  // Not Active hosts got theirs in attach: this one is Active, it cannot be leaving service.
  HostRuntime* runtime = track(*cluster(cluster_index), *table.cluster, host,
                               std::chrono::steady_clock::now(), nullptr);
  table.hosts[host_index] = runtime;
  return runtime;
}

HostRuntime* WorkerStats::track(ClusterRuntime& runtime, const upstream::Cluster& cluster,
                                const upstream::Host& host,
                                std::chrono::steady_clock::time_point now,
                                std::vector<HostRuntime*>* left_active) {
  auto& h = core::slotFor(runtime.hosts, host.name);
  if (!h) {
    h = std::make_unique<HostRuntime>();
    h->name = host.name;
    h->cluster = cluster.name();
  }
  h->present = true;
  h->address = host.address;
  if (host.admin_state != upstream::AdminState::Active &&
      h->state == upstream::AdminState::Active) {
    h->left_active_at = now;
    if (left_active != nullptr) left_active->push_back(h.get());
  }
  h->state = host.admin_state;
  // The cluster's thresholds and the host's recovering flag; the streak itself is kept.
  h->outlier.configure(cluster.outlier(), host.outlier_recovering);
  return h.get();
}

void WorkerStats::prune() {
  eraseUnused(routes_);
  for (auto& [name, cluster] : clusters_) eraseUnused(cluster->hosts);
  std::erase_if(clusters_, [](const auto& entry) {
    return !entry.second->present && entry.second->refs == 0 && entry.second->hosts.empty();
  });
  eraseUnused(listeners_);
}

ListenerRuntime* WorkerStats::listener(const std::string& name) {
  auto& runtime = listeners_[name];
  if (!runtime) {
    runtime = std::make_unique<ListenerRuntime>();
    runtime->name = name;
  }
  // Not marked present here: a connection of a listener removed meanwhile must not bring its
  // counters back for good (listenerAdded does, when the listener itself comes back).
  return runtime.get();
}

ClusterRuntime* WorkerStats::findCluster(const std::string& name) const {
  auto found = clusters_.find(name);
  return found == clusters_.end() ? nullptr : found->second.get();
}

HostRuntime* WorkerStats::findHost(const std::string& cluster, std::string_view host) const {
  ClusterRuntime* c = findCluster(cluster);
  if (c == nullptr) return nullptr;
  auto found = c->hosts.find(host);
  return found == c->hosts.end() ? nullptr : found->second.get();
}

RouteRuntime* WorkerStats::findRoute(const std::string& id) const {
  auto found = routes_.find(id);
  return found == routes_.end() ? nullptr : found->second.get();
}

void WorkerStats::listenerAdded(const std::string& name) {
  auto found = listeners_.find(name);
  if (found != listeners_.end()) found->second->present = true;
}

void WorkerStats::listenerGone(const std::string& name) {
  auto found = listeners_.find(name);
  if (found == listeners_.end()) return;
  found->second->present = false;
  eraseUnused(listeners_);
}

void WorkerStats::noteRejected(RejectedEntry entry) {
  if (rejected_.size() < kRejectedRing) {
    rejected_.push_back(std::move(entry));
    return;
  }
  rejected_[rejected_next_] = std::move(entry);
  rejected_next_ = (rejected_next_ + 1) % kRejectedRing;
}

WorkerReport WorkerStats::report() const {
  WorkerReport out;
  for (const auto& [name, runtime] : listeners_) {
    out.listeners.push_back(NamedTraffic{name, runtime->present, runtime->traffic,
                                         runtime->accepted, runtime->active, runtime->tls,
                                         runtime->h2_connections, runtime->h2});
  }
  for (const auto& [name, runtime] : routes_) {
    out.routes.push_back(NamedTraffic{name, runtime->present, runtime->traffic, 0, 0, {}, 0, {}});
  }
  out.clusters.reserve(clusters_.size());
  for (const auto& [name, runtime] : clusters_) {
    ClusterReport cluster{name,
                          runtime->present,
                          runtime->traffic,
                          runtime->no_host,
                          runtime->retries,
                          runtime->resilience,
                          {}};
    cluster.hosts.reserve(runtime->hosts.size());
    for (const auto& [host_name, host] : runtime->hosts) {
      HostReport h;
      h.name = host_name;
      h.address = host->address;
      h.present = host->present;
      if (const TrafficCounters* traffic = host->trafficIfAny()) h.traffic = *traffic;
      h.in_flight = host->in_flight;
      h.connect_failures = host->connect_failures;
      h.drain_cut = host->drain_cut;
      cluster.hosts.push_back(std::move(h));
    }
    out.clusters.push_back(std::move(cluster));
  }
  // Ring -> oldest first.
  for (size_t i = 0; i < rejected_.size(); ++i) {
    out.rejected.push_back(rejected_[(rejected_next_ + i) % rejected_.size()]);
  }
  return out;
}

}  // namespace baton::proxy
