#include "proxy/admin_status_builder.h"

#include <algorithm>
#include <unordered_map>

#include "proxy/effective_config.h"

namespace baton::proxy {

namespace {

constexpr size_t kMaxErrors = 64;

void addHostReport(admin::HostStatus& into, const HostReport& from) {
  into.traffic.merge(from.traffic);
  into.in_flight += from.in_flight;
  into.tcp_active += from.tcp_active;
  into.pooled_idle += from.pooled_idle;
  into.connect_failures += from.connect_failures;
  into.drain_cut += from.drain_cut;
}

// Every worker's reports of one cluster, by host name.
struct ClusterSums {
  admin::ClusterStatus totals;  // traffic, no_host, retries
  std::vector<const HostReport*> hosts;
};

admin::HostStatus hostStatus(const upstream::Host& host, const conf::HostSpec* spec,
                             const AdminOverrides::HostOverride& override) {
  admin::HostStatus h;
  h.name = host.name;
  h.address = host.address;
  h.task_id = host.task_id;
  h.weight = host.weight;
  h.configured_weight = spec != nullptr ? spec->weight : host.weight;
  h.weight_overridden = override.weight.has_value();
  h.state = host.admin_state;
  h.admin_state = override.state.value_or(upstream::AdminState::Active);
  h.discovery_draining = spec != nullptr && spec->draining;
  return h;
}

void fillClusters(const ProxySnapshot& snapshot, const AdminOverrides& overrides,
                  const std::vector<WorkerReport>& reports, admin::EdgeStatus& out) {
  std::unordered_map<std::string_view, ClusterSums> sums;
  for (const WorkerReport& report : reports) {
    for (const ClusterReport& cluster : report.clusters) {
      ClusterSums& sum = sums[cluster.name];
      sum.totals.traffic.merge(cluster.traffic);
      sum.totals.no_host += cluster.no_host;
      sum.totals.retries += cluster.retries;
      sum.totals.resilience.merge(cluster.resilience);
      for (const HostReport& host : cluster.hosts) sum.hosts.push_back(&host);
    }
  }
  out.clusters.reserve(snapshot.clusters.size());
  for (size_t c = 0; c < snapshot.clusters.size(); ++c) {
    const upstream::Cluster& cluster = *snapshot.clusters[c];
    const conf::ClusterSpec* spec =
        c < snapshot.config->clusters.size() && snapshot.config->clusters[c].name == cluster.name()
            ? &snapshot.config->clusters[c]
            : nullptr;
    admin::ClusterStatus status;
    status.name = cluster.name();
    status.origin = spec != nullptr ? spec->origin : "config";
    status.policy = policyName(cluster.policy());
    status.sticky_cookie = cluster.stickyCookie();
    status.admin_state = overrides.clusterState(cluster.name());
    status.limits = cluster.limits();
    for (size_t k = 0; k < upstream::kLoadKinds; ++k) {
      status.load[k] = cluster.load()->current(static_cast<upstream::LoadKind>(k));
    }
    std::unordered_map<std::string_view, size_t> by_name;
    for (const upstream::Host& host : cluster.hosts()) {
      const conf::HostSpec* host_spec =
          spec != nullptr && host.index < spec->hosts.size() ? &spec->hosts[host.index] : nullptr;
      by_name.emplace(host.name, status.hosts.size());
      status.hosts.push_back(
          hostStatus(host, host_spec, overrides.host(cluster.name(), host.name)));
    }
    if (auto found = sums.find(cluster.name()); found != sums.end()) {
      status.traffic = found->second.totals.traffic;
      status.no_host = found->second.totals.no_host;
      status.retries = found->second.totals.retries;
      status.resilience = found->second.totals.resilience;
      for (const HostReport* report : found->second.hosts) {
        auto slot = by_name.find(report->name);
        if (slot == by_name.end()) {
          // Gone from the config, still finishing requests on some worker.
          admin::HostStatus gone;
          gone.name = report->name;
          gone.address = report->address;
          gone.present = false;
          gone.state = upstream::AdminState::Draining;
          by_name.emplace(report->name, status.hosts.size());
          status.hosts.push_back(std::move(gone));
          slot = by_name.find(report->name);
        }
        addHostReport(status.hosts[slot->second], *report);
      }
    }
    out.clusters.push_back(std::move(status));
  }
}

void fillRoutes(const ProxySnapshot& snapshot, const std::vector<WorkerReport>& reports,
                admin::EdgeStatus& out) {
  std::unordered_map<std::string_view, TrafficCounters> traffic;
  for (const WorkerReport& report : reports) {
    for (const NamedTraffic& route : report.routes) traffic[route.name].merge(route.traffic);
  }
  std::unordered_map<std::string_view, std::string_view> scopes;
  for (const auto& vhost : snapshot.config->vhosts) scopes.emplace(vhost.name, vhost.scope);
  const size_t n = snapshot.routes ? snapshot.routes->routeCount() : 0;
  out.routes.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const routing::Route& route = snapshot.routes->route(i);
    admin::RouteStatus status;
    status.id = routeId(route.vhost_name, route.prefix);
    if (auto scope = scopes.find(route.vhost_name); scope != scopes.end()) {
      status.scope = scope->second;
    }
    status.vhost = route.vhost_name;
    status.prefix = route.prefix;
    status.cluster = route.cluster_name;
    if (auto found = traffic.find(status.id); found != traffic.end()) {
      status.traffic = found->second;
    }
    out.routes.push_back(std::move(status));
  }
}

void fillListeners(const std::vector<BoundListener>& listeners,
                   const std::vector<WorkerReport>& reports, admin::EdgeStatus& out) {
  std::unordered_map<std::string_view, NamedTraffic> sums;
  for (const WorkerReport& report : reports) {
    for (const NamedTraffic& listener : report.listeners) {
      NamedTraffic& sum = sums[listener.name];
      sum.traffic.merge(listener.traffic);
      sum.accepted += listener.accepted;
      sum.active += listener.active;
      sum.tls.merge(listener.tls);
      sum.h2_connections += listener.h2_connections;
      sum.h2.merge(listener.h2);
    }
  }
  for (const BoundListener& listener : listeners) {
    admin::ListenerStatus status;
    status.name = listener.spec->name;
    status.address = listener.bound;
    status.kind = listener.spec->kind == conf::ListenerKind::Tcp ? "tcp" : "http";
    status.origin = listener.spec->origin == "config" ? "config" : "marathon";
    status.tls = listener.spec->tls;
    if (auto found = sums.find(status.name); found != sums.end()) {
      status.accepted = found->second.accepted;
      status.active_connections = found->second.active;
      status.tls_counters = found->second.tls;
      status.h2_connections = found->second.h2_connections;
      status.h2 = found->second.h2;
      status.traffic = found->second.traffic;
    }
    out.listeners.push_back(std::move(status));
  }
}

void fillErrors(const std::vector<WorkerReport>& reports, admin::EdgeStatus& out) {
  for (const WorkerReport& report : reports) {
    for (const RejectedEntry& entry : report.rejected) {
      out.errors.push_back(admin::RejectedRequest{entry.unix_ms, entry.listener, entry.client_ip,
                                                  entry.status, entry.reason, entry.excerpt});
    }
  }
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const auto& a, const auto& b) { return a.unix_ms > b.unix_ms; });
  if (out.errors.size() > kMaxErrors) out.errors.resize(kMaxErrors);
}

}  // namespace

void fillEdgeStatus(const ProxySnapshot& snapshot, const AdminOverrides& overrides,
                    const std::vector<BoundListener>& listeners,
                    const std::vector<WorkerReport>& reports, admin::EdgeStatus& out) {
  fillListeners(listeners, reports, out);
  fillRoutes(snapshot, reports, out);
  fillClusters(snapshot, overrides, reports, out);
  fillErrors(reports, out);
  for (const WorkerReport& report : reports) out.shedding.merge(report.shedding);
}

// ---- Asset pinning ---------------------------------------------------------------------------

namespace {

std::string_view pinModeName(conf::PinMode mode) {
  switch (mode) {
    case conf::PinMode::Off:
      return "off";
    case conf::PinMode::Assets:
      return "assets";
    case conf::PinMode::Full:
      return "full";
  }
  return "assets";
}

admin::PinGroupStatus pinStatus(const PinGroupState& state) {
  const routing::pin::GroupView& view = state.view;
  const PinRuntime& rt = *state.runtime;
  admin::PinGroupStatus s;
  s.group = view.group;
  s.cluster = state.cluster;
  s.mode = pinModeName(view.mode);
  s.in_cutover = view.in_cutover;
  s.active = view.active;
  s.flip_held = state.flip_held;
  if (view.cdn_version >= 0) s.cdn_version = view.versions[view.cdn_version].id;
  for (size_t i = 0; i < view.versions.size(); ++i) {
    const conf::PinVersionSpec& spec = state.spec->versions[i];
    const auto& manifest = view.versions[i].manifest;
    s.versions.push_back({view.versions[i].id, spec.app_id, spec.colour, view.versions[i].serving,
                          view.versions[i].hosts,
                          manifest ? static_cast<int64_t>(manifest->size()) : int64_t{-1}});
  }
  s.flips = state.flips;
  s.last_flip_ms = state.last_flip_ms;
  s.cutover_started_ms = state.cutover_started_ms;
  s.grace_until_ms = state.grace_until_ms;
  s.cdn_fresh_until_ms = rt.cdn_fresh_until_ms.load(std::memory_order_relaxed);
  s.pinned = rt.pinned.load(std::memory_order_relaxed);
  s.retries = rt.retries.load(std::memory_order_relaxed);
  s.retry_hits = rt.retry_hits.load(std::memory_order_relaxed);
  s.all_miss = rt.all_miss.load(std::memory_order_relaxed);
  s.fallbacks = rt.fallbacks.load(std::memory_order_relaxed);
  s.cache_capped = rt.cache_capped.load(std::memory_order_relaxed);
  s.cookies_set = rt.cookies_set.load(std::memory_order_relaxed);
  return s;
}

}  // namespace

// Each pinned cluster under its group (a configured group with no Marathon entry gets one).
void addPinStatus(const ProxySnapshot& snapshot,
                  std::vector<admin::DeploymentGroupStatus>& groups) {
  for (const auto& state : snapshot.pins) {
    if (state == nullptr) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.group == state->view.group; });
    if (it == groups.end()) {
      admin::DeploymentGroupStatus added{};
      added.group = state->view.group;
      added.in_cutover = state->view.in_cutover;
      groups.push_back(std::move(added));
      it = groups.end() - 1;
    }
    it->pinning.push_back(pinStatus(*state));
  }
}

}  // namespace baton::proxy
