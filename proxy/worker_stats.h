// A worker's own counters for the admin model: per listener, route, cluster and host. Plain
// integers written only by the worker's thread (no atomics, no locks on the request path); the
// control thread gets copies by posting a task (Worker::collectStats) and merges them.
//
// Counters outlive snapshots: they are keyed by name (listener name, route id, cluster name,
// host name), so a Marathon resync or a reload that keeps a host keeps its counters. A stream
// holds a StatsRef to each runtime it records into; a runtime whose name left the snapshot stays
// until the last ref is gone (and is reported meanwhile with present = false).
//
// Threading: one WorkerStats per worker, used only on that worker's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/core/string_keyed.h"
#include "proxy/health/outlier_streak.h"
#include "proxy/traffic_stats.h"
#include "upstream/cluster.h"
#include "upstream/retry_budget.h"

namespace baton::proxy {

struct ProxySnapshot;
using SnapshotPtr = std::shared_ptr<const ProxySnapshot>;

// Non-atomic reference count: runtimes are shared only within one worker thread.
struct StatsRefCounted {
  uint32_t refs = 0;
  bool present = true;  // named by the worker's current snapshot
};

template <typename T>
class StatsRef {
 public:
  StatsRef() = default;
  explicit StatsRef(T* target) : target_(target) {
    if (target_ != nullptr) ++target_->refs;
  }
  StatsRef(const StatsRef& other) : StatsRef(other.target_) {}
  StatsRef& operator=(const StatsRef& other) {
    StatsRef copy(other);
    std::swap(target_, copy.target_);
    return *this;
  }
  ~StatsRef() {
    if (target_ != nullptr) --target_->refs;
  }
  T* get() const { return target_; }
  T* operator->() const { return target_; }
  explicit operator bool() const { return target_ != nullptr; }

 private:
  T* target_ = nullptr;
};

struct HostRuntime : StatsRefCounted {
  std::string name;
  std::string address;
  // Made on the host's first finished request: of Marathon's 100,000 tasks most see no request
  // on a given worker for long stretches, and the counters (latency histogram included) are
  // ~190 bytes per host per worker (35 MB of a 10,000-app cluster's resident memory).
  TrafficCounters& traffic() {
    if (!traffic_) traffic_ = std::make_unique<TrafficCounters>();
    return *traffic_;
  }
  const TrafficCounters* trafficIfAny() const { return traffic_.get(); }
  uint64_t in_flight = 0;  // HTTP requests between upstream start and end
  uint64_t connect_failures = 0;
  uint64_t drain_cut = 0;
  // What the worker's current snapshot says; streams check it when releasing a connection.
  upstream::AdminState state = upstream::AdminState::Active;
  std::chrono::steady_clock::time_point left_active_at{};  // when it stopped being Active
  // Passive outlier ejection: its cluster's name (reports) and its failed requests in a row.
  std::string cluster;
  health::OutlierStreak outlier;

 private:
  std::unique_ptr<TrafficCounters> traffic_;
};

struct ClusterRuntime : StatsRefCounted {
  TrafficCounters traffic;
  uint64_t no_host = 0;
  uint64_t retries = 0;
  ResilienceCounters resilience;
  upstream::RetryBudget retry_budget;  // this worker's share of the cluster's budget
  core::StringMap<std::unique_ptr<HostRuntime>> hosts;  // by host name
};

struct RouteRuntime : StatsRefCounted {
  TrafficCounters traffic;
};

struct ListenerRuntime : StatsRefCounted {
  std::string name;
  uint64_t accepted = 0;
  uint64_t active = 0;
  TlsCounters tls;
  uint64_t h2_connections = 0;  // connections that spoke HTTP/2 (h2 or h2c)
  Http2Counters h2;             // of those connections, once each has ended
  TrafficCounters traffic;
};

// One host as a worker reports it (copied to the control thread).
struct HostReport {
  std::string name;
  std::string address;
  bool present = true;
  TrafficCounters traffic;
  uint64_t in_flight = 0;
  uint64_t tcp_active = 0;
  uint64_t pooled_idle = 0;
  uint64_t connect_failures = 0;
  uint64_t drain_cut = 0;
};

struct ClusterReport {
  std::string name;
  bool present = true;
  TrafficCounters traffic;
  uint64_t no_host = 0;
  uint64_t retries = 0;
  ResilienceCounters resilience;
  std::vector<HostReport> hosts;
};

struct NamedTraffic {
  std::string name;  // listener name or route id
  bool present = true;
  TrafficCounters traffic;
  uint64_t accepted = 0;        // listeners only
  uint64_t active = 0;          // listeners only
  TlsCounters tls;              // listeners only
  uint64_t h2_connections = 0;  // listeners only
  Http2Counters h2;             // listeners only
};

// A request refused before routing (codec errors, bad targets): the admin `show errors` ring.
struct RejectedEntry {
  int64_t unix_ms = 0;
  std::string listener;
  std::string client_ip;
  uint16_t status = 0;
  std::string reason;
  std::string excerpt;  // already escaped
};

struct WorkerReport {
  uint32_t worker = 0;
  uint64_t generation = 0;  // the snapshot the worker serves
  std::vector<NamedTraffic> listeners;
  std::vector<NamedTraffic> routes;
  std::vector<ClusterReport> clusters;
  std::vector<RejectedEntry> rejected;  // oldest first
  SheddingCounters shedding;
};

// "<vhost>|<prefix>": a route's stable name in stats (bounded by the config, never a request
// path).
std::string routeId(const std::string& vhost, const std::string& prefix);

// Printable-ASCII rendering of raw request bytes for `show errors`: other bytes as \xHH, at most
// `max` input bytes.
std::string escapeExcerpt(std::string_view bytes, size_t max = 96);

class WorkerStats {
 public:
  // Maps the snapshot's clusters and routes to runtimes (new names get fresh counters), marks
  // the others absent and frees absent runtimes nobody refers to. Hosts get a runtime on first
  // use (host()): with Marathon's 100,000 tasks most hosts see no request on a given worker for
  // long stretches, and an entry per host per worker was ~440 bytes (85 MB of a 10,000-app
  // cluster's resident memory). Hosts not Active in this snapshot get one at once, so their
  // drain deadline counts from the snapshot that took them out; those that have just stopped
  // being Active are appended to `left_active` (their pooled connections are closed by the
  // caller). Keeps `snapshot` (the clusters host() reads) until the next attach, and returns the
  // one it kept until now, for the caller to free where it likes (a worker: not on its thread).
  [[nodiscard]] SnapshotPtr attach(SnapshotPtr snapshot, std::vector<HostRuntime*>& left_active);

  // For the snapshot last attached (indices as in that snapshot).
  // Made on first use (a request, a host's runtime): of 10,000 Marathon apps most see no
  // request on a given worker for long stretches (~450 bytes each per worker).
  ClusterRuntime* cluster(uint32_t cluster_index) {
    ClusterRuntime* runtime = tables_[cluster_index].runtime;
    return runtime != nullptr ? runtime : firstClusterUse(cluster_index);
  }
  // Made on first use: never nullptr for a valid index.
  HostRuntime* host(uint32_t cluster_index, uint32_t host_index) {
    HostRuntime* runtime = tables_[cluster_index].hosts[host_index];
    return runtime != nullptr ? runtime : firstUse(cluster_index, host_index);
  }
  // Made on first use, like hosts: most of 10,000 Marathon apps' routes (and a route per
  // service port) see no request on a given worker for long stretches.
  RouteRuntime* route(size_t route_index) {
    RouteRuntime* runtime = routes_by_index_[route_index];
    return runtime != nullptr ? runtime : firstRouteUse(route_index);
  }
  ListenerRuntime* listener(const std::string& name);  // created on first use
  // By name, present or not (nullptr when unknown).
  ClusterRuntime* findCluster(const std::string& name) const;
  HostRuntime* findHost(const std::string& cluster, std::string_view host) const;
  RouteRuntime* findRoute(const std::string& id) const;

  void listenerGone(const std::string& name);  // the listener was removed from the worker
  // The listener was added to the worker: counters it still has (removed and added back while
  // its connections lived on) are present again. None are made (listener() makes them).
  void listenerAdded(const std::string& name);
  void noteRejected(RejectedEntry entry);

  // Every runtime currently known (present or still referenced). Pooled idle and TCP counts are
  // filled by the worker.
  WorkerReport report() const;

  // Hosts not Active now with requests still in flight (for the drain deadline).
  template <typename F>
  void forEachHost(F&& f) const {
    for (const auto& [name, cluster] : clusters_) {
      for (const auto& [host_name, host] : cluster->hosts) f(name, *host);
    }
  }

 private:
  // One cluster of the attached snapshot: its runtime and its hosts' (nullptr until used).
  struct ClusterTable {
    const upstream::Cluster* cluster = nullptr;
    ClusterRuntime* runtime = nullptr;  // nullptr until first use
    std::vector<HostRuntime*> hosts;    // by host index
  };
  ClusterTable tableFor(const upstream::Cluster& cluster, ClusterTable* last,
                        std::chrono::steady_clock::time_point now,
                        std::vector<HostRuntime*>& left_active);
  HostRuntime* firstUse(uint32_t cluster_index, uint32_t host_index);
  RouteRuntime* firstRouteUse(size_t route_index);
  ClusterRuntime* firstClusterUse(uint32_t cluster_index);
  ClusterRuntime* clusterNamed(const std::string& name);  // made if new; present
  // The host's runtime by name (made if new), brought up to date with the snapshot's host.
  HostRuntime* track(ClusterRuntime& runtime, const upstream::Cluster& cluster,
                     const upstream::Host& host, std::chrono::steady_clock::time_point now,
                     std::vector<HostRuntime*>* left_active);
  void prune();

  std::unordered_map<std::string, std::unique_ptr<ClusterRuntime>> clusters_;
  std::unordered_map<std::string, std::unique_ptr<RouteRuntime>> routes_;
  std::unordered_map<std::string, std::unique_ptr<ListenerRuntime>> listeners_;
  SnapshotPtr attached_;
  std::vector<ClusterTable> tables_;            // by cluster index in attached_
  std::vector<RouteRuntime*> routes_by_index_;  // nullptr until first use
  std::vector<RejectedEntry> rejected_;         // ring
  size_t rejected_next_ = 0;
};

}  // namespace baton::proxy
