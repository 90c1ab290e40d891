#include "proxy/health/outlier_detector.h"

#include <algorithm>
#include <unordered_set>

#include "proxy/core/log.h"

namespace baton::proxy::health {

namespace {

const char* signalText(OutlierSignal signal) {
  switch (signal) {
    case OutlierSignal::ConsecutiveFailures:
      return "consecutive failures (connect failures, resets, 502/503/504)";
    case OutlierSignal::Consecutive5xx:
      return "consecutive 5xx";
    case OutlierSignal::Success:
      return "successes";
  }
  return "failures";
}

uint32_t thresholdOf(const conf::OutlierSpec& spec, OutlierSignal signal) {
  return signal == OutlierSignal::Consecutive5xx ? spec.consecutive_5xx : spec.consecutive_failures;
}

bool anyMarked(const upstream::Cluster& cluster) {
  return std::any_of(cluster.hosts().begin(), cluster.hosts().end(),
                     [](const upstream::Host& h) { return h.ejected || h.outlier_recovering; });
}

}  // namespace

conf::Duration ejectionTime(const conf::OutlierSpec& spec, uint32_t ejections) {
  const int64_t n = std::max<uint32_t>(ejections, 1);
  const int64_t base = spec.base_ejection.count();
  // base x n without overflow: once it passes max it stays there.
  if (base > 0 && n > spec.max_ejection.count() / base) return spec.max_ejection;
  return std::min(conf::Duration(base * n), spec.max_ejection);
}

size_t maxEjected(const conf::OutlierSpec& spec, size_t hosts) {
  return hosts * spec.max_ejected_percent / 100;
}

bool OutlierDetector::ClusterState::marks() const {
  return std::any_of(hosts.begin(), hosts.end(), [](const auto& entry) {
    return entry.second.ejected || entry.second.recovering;
  });
}

void OutlierDetector::sync(const Clusters& clusters) {
  // In place, the clusters gone or no longer detecting swept at the end: 10,000 Marathon
  // clusters per publish were each copied by name into a new map before.
  ++sync_round_;
  for (const auto& cluster : clusters) {
    if (!cluster->outlier().enabled()) continue;
    auto found = clusters_.find(cluster->name());
    if (found == clusters_.end()) found = clusters_.emplace(cluster->name(), ClusterState()).first;
    ClusterState& state = found->second;
    state.synced = sync_round_;
    state.spec = cluster->outlier();
    state.host_count = cluster->hosts().size();
    state.cluster = cluster;
    if (!state.hosts.empty()) {
      // Most clusters have no host state: the address set is built only for those that do.
      std::unordered_set<std::string_view> present;
      for (const upstream::Host& host : cluster->hosts()) present.insert(host.address);
      const size_t before = state.hosts.size();
      std::erase_if(state.hosts,
                    [&present](const auto& entry) { return !present.contains(entry.first); });
      if (state.hosts.size() != before) ++state.epoch;
    }
  }
  std::erase_if(clusters_,
                [this](const auto& entry) { return entry.second.synced != sync_round_; });
}

bool OutlierDetector::onReport(const OutlierReport& report, Clock::time_point now) {
  auto found = clusters_.find(report.cluster);
  if (found == clusters_.end()) return false;  // gone, or detection turned off meanwhile
  ClusterState& cluster = found->second;
  if (report.signal == OutlierSignal::Success) {
    auto host = cluster.hosts.find(report.address);
    if (host == cluster.hosts.end() || !host->second.recovering) return false;
    // Recovered: the next ejection starts again from the base time. Clearing the published
    // recovering flag can wait for the next publish (a stale flag costs one more report).
    const uint64_t total = host->second.ejections_total;
    host->second = HostState{};
    host->second.ejections_total = total;
    ++cluster.epoch;
    return false;
  }
  return eject(found->first, cluster, report.address, report.signal, now);
}

bool OutlierDetector::eject(const std::string& name, ClusterState& cluster,
                            const std::string& address, OutlierSignal signal,
                            Clock::time_point now) {
  auto existing = cluster.hosts.find(address);
  if (existing != cluster.hosts.end() && existing->second.ejected) return false;  // in flight
  const auto& hosts = cluster.cluster->hosts();
  if (std::none_of(hosts.begin(), hosts.end(),
                   [&address](const upstream::Host& h) { return h.address == address; })) {
    return false;  // left the cluster since the report was posted
  }
  const size_t ejected =
      static_cast<size_t>(std::count_if(cluster.hosts.begin(), cluster.hosts.end(),
                                        [](const auto& entry) { return entry.second.ejected; }));
  if (ejected + 1 > maxEjected(cluster.spec, cluster.host_count)) {
    if (cluster.capped++ == 0) {
      core::logf(core::LogLevel::Warn,
                 "outlier: %s: host %s not ejected: max_ejected_percent (%u%%) of %zu "
                 "hosts reached",
                 name.c_str(), address.c_str(), cluster.spec.max_ejected_percent,
                 cluster.host_count);
    }
    return false;
  }
  HostState& host = cluster.hosts[address];  // a host of a synced cluster (else: forgotten)
  ++host.ejections;
  ++host.ejections_total;
  host.ejected = true;
  host.recovering = false;
  const conf::Duration time = ejectionTime(cluster.spec, host.ejections);
  host.until = now + time;
  ++cluster.epoch;
  core::logf(core::LogLevel::Warn, "outlier: %s: host %s ejected for %.3gs after %u %s",
             name.c_str(), address.c_str(), static_cast<double>(time.count()) / 1000.0,
             thresholdOf(cluster.spec, signal), signalText(signal));
  return true;
}

bool OutlierDetector::expire(Clock::time_point now) {
  bool any = false;
  for (auto& [name, cluster] : clusters_) {
    for (auto& [address, host] : cluster.hosts) {
      if (!host.ejected || host.until > now) continue;
      host.ejected = false;
      host.recovering = true;
      ++cluster.epoch;
      any = true;
      core::logf(core::LogLevel::Info, "outlier: %s: host %s back after ejection %u", name.c_str(),
                 address.c_str(), host.ejections);
    }
  }
  return any;
}

std::optional<OutlierDetector::Clock::time_point> OutlierDetector::nextExpiry() const {
  std::optional<Clock::time_point> next;
  for (const auto& [name, cluster] : clusters_) {
    for (const auto& [address, host] : cluster.hosts) {
      if (host.ejected && (!next || host.until < *next)) next = host.until;
    }
  }
  return next;
}

std::shared_ptr<const upstream::Cluster> OutlierDetector::adjusted(
    ClusterState& state, const upstream::Cluster& cluster) const {
  const auto stateOf = [&state](const upstream::Host& host) -> const HostState* {
    auto found = state.hosts.find(host.address);
    return found == state.hosts.end() ? nullptr : &found->second;
  };
  bool any_active = false;
  bool any_routable = false;
  for (const upstream::Host& host : cluster.hosts()) {
    if (host.admin_state != upstream::AdminState::Active) continue;
    any_active = true;
    const HostState* s = stateOf(host);
    any_routable = any_routable || (host.healthy && (s == nullptr || !s->ejected));
  }
  const bool panic = cluster.panic() && any_active && !any_routable;
  if (panic && !state.panic) {
    core::logf(core::LogLevel::Warn,
               "outlier: %s: every host unhealthy or ejected, routing to all (panic)",
               cluster.name().c_str());
  }
  state.panic = panic;
  return cluster.withAdjustedHosts([&](upstream::Host& host) {
    const HostState* s = stateOf(host);
    host.ejected = !panic && s != nullptr && s->ejected;
    host.outlier_recovering = s != nullptr && s->recovering;
    if (panic) host.healthy = true;
  });
}

OutlierDetector::Clusters OutlierDetector::apply(const Clusters& clusters) {
  Clusters out;
  out.reserve(clusters.size());
  std::unordered_map<const upstream::Cluster*, Memo> next;
  for (const auto& cluster : clusters) {
    auto found = clusters_.find(cluster->name());
    if (found == clusters_.end() || !found->second.marks()) {
      if (found != clusters_.end()) found->second.panic = false;
      // A copy published earlier (a republish of the current snapshot) may still carry marks.
      out.push_back(anyMarked(*cluster) ? cluster->withAdjustedHosts([](upstream::Host& host) {
        host.ejected = false;
        host.outlier_recovering = false;
      })
                                        : cluster);
      continue;
    }
    ClusterState& state = found->second;
    if (auto memo = memo_.find(cluster.get());
        memo != memo_.end() && memo->second.epoch == state.epoch) {
      out.push_back(memo->second.adjusted);
      next.emplace(memo->second.base.get(), memo->second);
      next.emplace(memo->second.adjusted.get(), memo->second);
      continue;
    }
    auto copy = adjusted(state, *cluster);
    out.push_back(copy);
    Memo memo{cluster, copy, state.epoch};
    next.emplace(cluster.get(), memo);
    next.emplace(copy.get(), memo);  // re-applying to a published copy returns it unchanged
  }
  memo_ = std::move(next);
  return out;
}

void OutlierDetector::fillStatus(admin::EdgeStatus& status, Clock::time_point now) const {
  for (admin::ClusterStatus& cluster : status.clusters) {
    auto found = clusters_.find(cluster.name);
    if (found == clusters_.end()) continue;
    const ClusterState& state = found->second;
    cluster.outlier_enabled = true;
    cluster.outlier_capped = state.capped;
    cluster.outlier_panic = state.panic;
    for (admin::HostStatus& host : cluster.hosts) {
      auto h = state.hosts.find(host.address);
      if (h == state.hosts.end()) continue;
      host.ejected = h->second.ejected;
      if (host.ejected) {
        ++cluster.outlier_ejected;
        host.ejected_remaining_ms = std::max<int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(h->second.until - now).count(),
            0);
      }
      host.ejections = h->second.ejections;
      host.ejections_total = h->second.ejections_total;
    }
  }
}

const OutlierDetector::HostState* OutlierDetector::find(const std::string& cluster,
                                                        const std::string& address) const {
  auto c = clusters_.find(cluster);
  if (c == clusters_.end()) return nullptr;
  auto h = c->second.hosts.find(address);
  return h == c->second.hosts.end() ? nullptr : &h->second;
}

}  // namespace baton::proxy::health
