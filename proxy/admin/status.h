// The admin model: one plain, self-contained picture of the whole edge (listeners, routes,
// clusters, hosts, Marathon, deployment groups, recent rejected requests) that every admin view
// renders from: the socket's `show` commands (text and --json), /status (JSON), /metrics
// (Prometheus text), the stats CSV and the dashboard.
//
// Built on the control thread by the server (AdminService::status): it merges the counters every
// worker sends back into the current snapshot's structure. Renderers (proxy/admin/render.h) are
// pure functions of it, so they are tested from structs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/traffic_stats.h"
#include "upstream/cluster.h"

namespace baton::proxy::admin {

// "ready" / "drain" / "maint" (HAProxy's `set server state` words).
std::string_view adminStateName(upstream::AdminState state);
std::optional<upstream::AdminState> parseAdminState(std::string_view word);

struct HostStatus {
  std::string name;     // svname (marathon-lb style for Marathon tasks), the address otherwise
  std::string address;  // "ip:port"
  std::string task_id;  // Marathon task id, "" for configured hosts
  uint32_t weight = 1;  // what the balancer uses now
  uint32_t configured_weight = 1;  // from the file or the app's labels
  bool weight_overridden = false;  // an operator set the weight
  // What picks see: the stricter of the operator's state, the cluster's and discovery's.
  upstream::AdminState state = upstream::AdminState::Active;
  upstream::AdminState admin_state = upstream::AdminState::Active;  // set by an operator
  bool discovery_draining = false;  // Marathon: task killing, old deployment colour
  // baton's active health check (proxy/health): "unchecked" (no check, or no result yet),
  // "grace", "healthy", "unhealthy"; the current streak, the last result ("200", "503",
  // "connect refused", "timeout", ...) and when it came (0 = never).
  std::string health = "unchecked";
  uint32_t health_consecutive = 0;
  std::string health_detail;
  int64_t health_checked_unix_ms = 0;
  // Passive outlier ejection (proxy/health/outlier_detector): out now, for how much longer
  // (ms), its ejections in a row (the next lasts base x (n + 1)) and since start.
  bool ejected = false;
  int64_t ejected_remaining_ms = 0;
  uint32_t ejections = 0;
  uint64_t ejections_total = 0;
  bool present = true;       // false: gone from the config, still finishing in-flight requests
  uint64_t in_flight = 0;    // HTTP requests in flight + open TCP-mode connections
  uint64_t tcp_active = 0;   // the TCP-mode part of in_flight
  uint64_t pooled_idle = 0;  // idle keep-alive connections in the workers' pools
  uint64_t connect_failures = 0;
  uint64_t drain_cut = 0;  // requests cut at the host drain deadline
  TrafficCounters traffic;
};

struct ClusterStatus {
  std::string name;
  std::string origin;  // "config" or "marathon:/app/id"
  std::string policy;  // policyName(): "roundrobin", "leastconn", "power_of_two", "source"
  std::string sticky_cookie;
  upstream::AdminState admin_state = upstream::AdminState::Active;  // cluster-wide operator state
  uint64_t no_host = 0;            // requests answered 503: no host left to try
  uint64_t retries = 0;            // connect attempts on another host after a failure
  ResilienceCounters resilience;   // re-sends, budget refusals, circuit-breaker overflows
  conf::CircuitLimitsSpec limits;  // configured (0 = none)
  // Held now across all workers, by limit (connections, pending, requests); counted only for
  // limits that are set.
  std::array<uint32_t, 3> load{};
  // Active health checks: configured, panic (no Active host passes: all serve), and the probe
  // results so far by outcome (passed, bad_status, timeout, refused, error).
  bool health_checked = false;
  bool health_panic = false;
  std::vector<std::pair<std::string, uint64_t>> health_checks;
  // Passive outlier ejection: on for this cluster, hosts out now, ejections refused by
  // max_ejected_percent, and panic (every Active host unhealthy or ejected: all serve).
  bool outlier_enabled = false;
  uint32_t outlier_ejected = 0;
  uint64_t outlier_capped = 0;
  bool outlier_panic = false;
  TrafficCounters traffic;
  std::vector<HostStatus> hosts;
};

struct RouteStatus {
  // Stable, bounded label: "<scope>|<vhost>|<prefix>" ("" scope = shared).
  std::string id;
  std::string scope;
  std::string vhost;
  std::string prefix;
  std::string cluster;
  TrafficCounters traffic;
};

struct ListenerStatus {
  std::string name;
  std::string address;  // bound "ip:port"
  std::string kind;     // "http" or "tcp"
  std::string origin;   // "config" or "marathon"
  uint64_t accepted = 0;
  uint64_t active_connections = 0;
  bool tls = false;
  TlsCounters tls_counters;
  uint64_t h2_connections = 0;
  Http2Counters h2;
  TrafficCounters traffic;  // HTTP requests answered on it (incl. local replies)
};

// A certificate TLS listeners may serve (proxy/tls ContextBuilder's view of it).
struct CertificateView {
  std::string origin;  // "config" or "marathon:/app/id"
  std::string where;   // "baton.toml:12: tls.certificate[0]"
  std::string cert_file;
  std::vector<std::string> names;
  int64_t not_after_unix = 0;
  bool serving = false;
  bool is_default = false;
  bool expired = false;
  std::string last_error;  // "" = the latest load succeeded
  // OCSP stapling: "none" (no response file), "stapled", or why not ("not stapled: ...").
  std::string ocsp;
};

struct DiscoveryView {
  bool enabled = false;
  std::string url;  // the Marathon (or file:) source in use
  size_t apps = 0;
  size_t tasks = 0;
  int64_t sync_age_ms = -1;  // since the last applied document; -1 = none yet
  uint64_t documents_applied = 0;
  uint64_t documents_refused = 0;
  uint64_t starved_resyncs = 0;  // resyncs raised from idle-class after waiting for a core
  std::string last_refusal;
  bool from_state_file = false;
  bool holding = false;  // a suspicious change waits for a confirming resync
  std::vector<std::string> issues;
};

// A deployment group as discovery last saw it, plus whether it is mid-cutover.
// Asset pinning of one cluster of a group (asset-pinning.md §10).
struct PinVersionStatus {
  std::string id;
  std::string app_id;           // "" for configured versions
  std::string colour;           // display only
  uint32_t serving = 0;         // Active hosts
  uint32_t hosts = 0;           // Active + Draining hosts
  int64_t manifest_files = -1;  // files listed by its loaded manifest; -1: none loaded
};
struct PinGroupStatus {
  std::string group;
  std::string cluster;
  std::string mode;  // "off", "assets", "full"
  bool in_cutover = false;
  bool active = false;  // in cutover or in its grace: the pinning rules apply
  bool flip_held = false;
  std::string cdn_version;                 // "" = none
  std::vector<PinVersionStatus> versions;  // oldest first
  uint64_t flips = 0;
  int64_t last_flip_ms = 0;
  int64_t cutover_started_ms = 0;
  int64_t grace_until_ms = 0;
  int64_t cdn_fresh_until_ms = 0;
  uint64_t pinned = 0, retries = 0, retry_hits = 0, all_miss = 0, fallbacks = 0, cache_capped = 0,
           cookies_set = 0;
};

struct DeploymentGroupStatus : conf::DeploymentGroupInfo {
  bool in_cutover = false;              // both colours have tasks
  std::vector<PinGroupStatus> pinning;  // one per pinned cluster of the group (service port)
};

// A request refused before it reached a route (malformed, smuggling attempt, limit): the
// operator's "why did this client get a 400".
struct RejectedRequest {
  int64_t unix_ms = 0;
  std::string listener;
  std::string client_ip;
  uint16_t status = 0;
  std::string reason;   // the error code's stable name ("BadRequestTarget", ...)
  std::string excerpt;  // first bytes of the offending input, escaped (printable ASCII only)
};

// Several baton instances serve one edge (README "Several instances"): what one instance tells
// the others about itself (GET /instance on the admin HTTP listener), and what it knows of them.
struct InstanceFacts {
  std::string instance_id;  // 8 hex, the request-id prefix (proxy/request_id.h)
  std::string task_id;      // $MESOS_TASK_ID, "" when not run by Marathon
  std::string version;
  int64_t pid = 0;
  uint64_t generation = 0;  // this instance's snapshot generation (not comparable across them)
  // What IS comparable across instances: a digest of the routing state applied from Marathon
  // (proxy/peers/state_digest.h; "" = nothing applied yet) and when it last changed here (0 =
  // read back from the state file, not from Marathon).
  std::string marathon_state;
  int64_t marathon_state_since_unix_ms = 0;
  int64_t marathon_sync_age_ms = -1;
  int64_t now_unix_ms = 0;
};

// One baton task of baton's own Marathon app, as this instance's peer monitor last saw it.
struct InstanceStatus {
  std::string task_id;
  std::string address;  // its admin HTTP "host:port"
  bool self = false;    // this process (task id == $MESOS_TASK_ID)
  bool reachable = false;
  std::string error;           // why the last poll failed ("" when reachable)
  int64_t polled_unix_ms = 0;  // its last answer (0 = never)
  InstanceFacts facts;         // from its last answer
  // Its Marathon state differs from the freshest instance's for longer than the threshold.
  bool lagging = false;
  int64_t lag_ms = 0;  // how long the freshest state has been out without it; 0 = in step
};

struct InstancesView {
  bool enabled = false;  // baton's own app id and a Marathon URL are known
  std::string app_id;
  std::string error;  // the last failure listing the app's tasks ("" = fine)
  int64_t listed_unix_ms = 0;
  int64_t lag_threshold_ms = 0;
  std::vector<InstanceStatus> peers;  // by task id; includes this instance
};

struct EdgeStatus {
  std::string version;
  std::string instance_id;
  std::string task_id;
  std::string marathon_state;
  int64_t marathon_state_since_unix_ms = 0;
  int64_t pid = 0;
  int64_t started_unix_ms = 0;
  int64_t now_unix_ms = 0;
  uint32_t workers = 0;
  uint64_t generation = 0;
  uint64_t reloads = 0;
  uint64_t reload_failures = 0;
  std::string last_reload_error;
  std::string log_level;
  std::vector<ListenerStatus> listeners;
  std::vector<RouteStatus> routes;
  std::vector<ClusterStatus> clusters;
  DiscoveryView discovery;
  std::vector<DeploymentGroupStatus> groups;
  std::vector<RejectedRequest> errors;  // newest first, bounded
  std::vector<CertificateView> certificates;
  InstancesView instances;
  // [limits] and load shedding: the workers' counters summed, the process-wide gauges.
  SheddingCounters shedding;
  uint64_t open_connections = 0;       // downstream connections, every worker
  uint64_t max_connections_total = 0;  // 0 = no process-wide limit
  int64_t buffered_bytes = 0;          // bytes held in connection buffers, every worker
  uint64_t buffer_budget = 0;          // 0 = no budget
};

// Lookup helpers shared by the commands and the HTTP actions. `host` matches a host's name or
// its address ("10_0_6_25_31704" or "10.0.6.25:31704").
const ClusterStatus* findCluster(const EdgeStatus& status, std::string_view cluster);
const HostStatus* findHost(const ClusterStatus& cluster, std::string_view host);

}  // namespace baton::proxy::admin
