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

void WorkerStats::attach(const ProxySnapshot& snapshot, std::vector<HostRuntime*>& left_active) {
  markAbsent(clusters_);
  markAbsent(routes_);
  for (auto& [name, cluster] : clusters_) markAbsent(cluster->hosts);
  const auto now = std::chrono::steady_clock::now();

  std::unordered_map<const upstream::Cluster*, std::vector<HostRuntime*>> hosts_now;
  clusters_by_index_.assign(snapshot.clusters.size(), nullptr);
  hosts_by_index_.assign(snapshot.clusters.size(), {});
  for (size_t c = 0; c < snapshot.clusters.size(); ++c) {
    const upstream::Cluster& cluster = *snapshot.clusters[c];
    auto& runtime = clusters_[cluster.name()];
    if (!runtime) runtime = std::make_unique<ClusterRuntime>();
    runtime->present = true;
    clusters_by_index_[c] = runtime.get();
    std::vector<HostRuntime*> hosts;
    if (auto same = last_hosts_.find(&cluster); same != last_hosts_.end()) {
      hosts = same->second;  // the very same cluster object: same hosts, same states
      for (HostRuntime* host : hosts) host->present = true;
    } else {
      hosts.reserve(cluster.hosts().size());
      for (const upstream::Host& host : cluster.hosts()) {
        auto& h = runtime->hosts[host.name];
        if (!h) {
          h = std::make_unique<HostRuntime>();
          h->name = host.name;
        }
        h->present = true;
        h->address = host.address;
        if (host.admin_state != upstream::AdminState::Active &&
            h->state == upstream::AdminState::Active) {
          h->left_active_at = now;
          left_active.push_back(h.get());
        }
        h->state = host.admin_state;
        hosts.push_back(h.get());
      }
    }
    hosts_by_index_[c] = hosts;
    hosts_now.emplace(&cluster, std::move(hosts));
  }
  last_hosts_ = std::move(hosts_now);

  routes_by_index_.assign(snapshot.routes ? snapshot.routes->routeCount() : 0, nullptr);
  for (size_t r = 0; r < routes_by_index_.size(); ++r) {
    const routing::Route& route = snapshot.routes->route(r);
    auto& runtime = routes_[routeId(route.vhost_name, route.prefix)];
    if (!runtime) runtime = std::make_unique<RouteRuntime>();
    runtime->present = true;
    routes_by_index_[r] = runtime.get();
  }
  prune();
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
  runtime->present = true;
  return runtime.get();
}

ClusterRuntime* WorkerStats::findCluster(const std::string& name) const {
  auto found = clusters_.find(name);
  return found == clusters_.end() ? nullptr : found->second.get();
}

HostRuntime* WorkerStats::findHost(const std::string& cluster, const std::string& host) const {
  ClusterRuntime* c = findCluster(cluster);
  if (c == nullptr) return nullptr;
  auto found = c->hosts.find(host);
  return found == c->hosts.end() ? nullptr : found->second.get();
}

RouteRuntime* WorkerStats::findRoute(const std::string& id) const {
  auto found = routes_.find(id);
  return found == routes_.end() ? nullptr : found->second.get();
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
