// The process: the control thread's loop (signals, reload), the listening sockets and the
// workers. Reload is all-or-nothing: load the file, validate, build a complete snapshot, then
// post it to every worker; on any error the running snapshot stays and the error is reported.
//
// Created and run on the main thread, which becomes the control thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/manager.h"
#include "proxy/admin/service.h"
#include "proxy/admin/socket_server.h"
#include "proxy/admin_http.h"
#include "proxy/admin_overrides.h"
#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/reclaimer.h"
#include "proxy/health/health_service.h"
#include "proxy/health/outlier_detector.h"
#include "proxy/listen_socket.h"
#include "proxy/peers/peer_monitor.h"
#include "proxy/pin_manifests.h"
#include "proxy/pin_tracker.h"
#include "proxy/snapshot.h"
#include "proxy/tls_manager.h"
#include "proxy/upgrade/upgrade_handoff.h"
#include "proxy/worker.h"

struct event;

namespace baton::proxy {

struct ServerOptions {
  std::string config_path;          // "" = no file: defaults plus the command line's settings
  std::optional<uint32_t> workers;  // --workers overrides [server] workers
  // JSON lines: ready / reloaded / reload_failed / discovery / discovery_failed / listeners
  // (a retry of listeners left out) / stopped.
  int ready_fd = -1;
  // Command-line settings (marathon-lb flags), applied on top of the file at start and on
  // every reload, so a reload never loses them.
  std::function<void(conf::ConfigSpec&)> overrides;
  std::string self_app_id;  // Marathon app id baton runs as (never exposed); "" = none
  // Binary upgrade (proxy/upgrade): the binary resolved at start (/proc/self/exe, so a new
  // binary installed at the same path is what an upgrade runs), the arguments to run it with
  // (argv[1..] without --upgrade-fd), and --upgrade-fd: set, this process is the new one of an
  // upgrade and takes its sockets and operator state from the old one over that descriptor.
  std::string binary;
  std::vector<std::string> args;
  int upgrade_fd = -1;
};

class Server : public admin::AdminService {
 public:
  // Loads the config, opens every listener (reporting the real port for port 0) and builds the
  // first snapshot. Errors name file:line:key or the listener that could not be opened.
  static core::Result<std::unique_ptr<Server>> create(const ServerOptions& options);
  ~Server();

  // Starts the workers and runs the control loop until SIGTERM/SIGINT and the drain complete.
  // Returns the process exit code.
  int run();

  // The file's spec (or the defaults without a file) with the command line applied, validated.
  // Also `baton --check`.
  static core::Result<std::shared_ptr<const conf::ConfigSpec>> loadFileConfig(
      const ServerOptions& options);

 private:
  explicit Server(ServerOptions options);
  // One configured listener: a socket per worker on the same address (SO_REUSEPORT).
  struct OpenListener {
    std::shared_ptr<const conf::ListenerSpec> spec;  // shared with the workers' sockets
    std::string bound;                               // "ip:port" actually bound (port 0 resolved)
    std::vector<WorkerListener> per_worker;
  };
  // `extra_sockets` false: an upgrade's inherited sockets are adopted as they are, with none
  // opened for workers the old process did not have (they would not fit the descriptor budget).
  core::Result<OpenListener> openListener(std::shared_ptr<const conf::ListenerSpec> spec,
                                          bool extra_sockets = true);
  // New process of an upgrade: the old process's sockets of that listener (the same kernel
  // sockets, so their accept queues carry over); a socket is opened for each worker beyond them,
  // and a socket beyond the worker count is kept and served by worker (index % workers).
  core::Result<OpenListener> adoptListener(std::shared_ptr<const conf::ListenerSpec> spec,
                                           std::vector<upgrade::SocketRecord> taken,
                                           bool extra_sockets);
  // Opens sockets on `listener`'s bound address for the workers it has none for (an upgrade to
  // more workers); "" when it has one per worker now, else why the next could not be opened.
  std::string addWorkerSockets(OpenListener& listener);
  static void closeSockets(const OpenListener& listener);
  std::string listenersJson() const;
  // Diffs the running listeners against `next`: opens added ones (all or nothing), and fills
  // per-worker changes. On error nothing is left open and the running set is untouched.
  // Discovered listeners left out (a port in use, the descriptor budget) are appended to
  // `issues`: shown in the status and /_haproxy_getconfig, logged once, retried each publish.
  core::Result<std::vector<OpenListener>> planListeners(const conf::ConfigSpec& next,
                                                        std::vector<ListenerChanges>& changes,
                                                        std::vector<conf::DiscoveryIssue>& issues);
  // What planListeners carries from one listener to the next.
  struct ListenerPlan {
    uint32_t fd_reserve = 0;  // [limits]
    // Measured only when a service port is to be opened (listing /proc/self/fd of a process
    // holding 20,000 sockets is not free).
    std::optional<ListenerFdBudget> budget;
    std::vector<conf::DiscoveryIssue>& issues;
    size_t opened_sockets = 0;  // by this plan so far (a floor should /proc be unreadable)
  };
  // planListeners: a listener the running set does not have, opened (or adopted from an
  // upgrade) within the descriptor budget for Marathon service ports (listen_socket.h).
  // nullopt: a discovered listener left out for now (an issue in plan.issues).
  core::Result<std::optional<OpenListener>> openWithinBudget(const conf::ListenerSpec& spec,
                                                             ListenerPlan& plan);
  // planListeners: a running listener with fewer sockets than workers (an upgrade to more
  // workers adopted it on its inherited sockets only: the budget was short, or a socket failed
  // to open) gets sockets for the others, within the budget; until then it is an issue in
  // plan.issues, retried on each publish. New sockets go to `changes` and `opened`.
  void topUpSockets(OpenListener& listener, ListenerPlan& plan,
                    std::vector<ListenerChanges>& changes, std::vector<OpenListener>& opened);
  // Whether `sockets` more sockets of a service port fit the budget, measuring it on first use
  // (a refusal is an issue in plan.issues).
  bool serviceListenerFits(const conf::ListenerSpec& spec, size_t sockets, ListenerPlan& plan,
                           bool adopting);
  // One path for reloads and discovery updates: merge, build, plan listeners, publish. On any
  // error nothing changes and the error is returned.
  core::Result<void> publish(std::shared_ptr<const conf::ConfigSpec> file,
                             std::shared_ptr<const conf::DiscoveredSpec> found,
                             std::string event_name);
  void reloadFromSignal();  // SIGHUP, /_mlb_signal/usr1: reports the outcome on the ready fd
  core::Result<void> reloadNow();
  void reloadFailed(const std::string& why);
  void onDiscovered(std::shared_ptr<const conf::DiscoveredSpec> found);
  void startDiscovery();
  core::Result<void> startAdmin();
  core::Result<void> startAdminSocket();
  // Publishes the current base snapshot with the operator overrides as a new generation (no
  // listener changes).
  void publishOverrides();
  // publish() with the current file config and discovery (certificate files changed).
  // Publishes again with the current inputs (certificates, listeners retried). Returns why it
  // was refused ("" = published or nothing to do); the refusal is logged too.
  std::string republish(std::string event_name);
  // Sends `snapshot` (and listener changes) to every worker and queues the applied report.
  void sendToWorkers(std::vector<ListenerChanges> changes, std::string event_name,
                     bool listeners_changed, double build_ms);
  SnapshotPtr withPins(const SnapshotPtr& snapshot);
  // The snapshot as sent, part 1: the health checker adopts its clusters (new hosts probed,
  // gone ones forgotten) and the checked clusters carry the verdicts (Host::healthy).
  SnapshotPtr withHealth(const SnapshotPtr& snapshot);
  // A verdict flipped: the base snapshot with the operator overrides and the new verdicts, as a
  // new generation (coalesced: several flips in one loop pass publish once).
  void publishHealth();
  // Health verdicts and outlier ejections share one coalesced publish ("health").
  void requestHealthPublish();
  // A worker's outlier report (posted to the loop); the timer ending ejections.
  void onOutlierReport(const health::OutlierReport& report);
  void expireOutliers();
  void armOutlierTimer();
  void publishPins();
  void gatherReports(std::function<void(std::vector<WorkerReport>)> done);
  // The cluster named `cluster` in the effective snapshot and the canonical name of its host
  // `host` (a name or an address); a "notfound" error otherwise.
  std::expected<std::pair<std::string, std::string>, admin::CommandError> resolveHost(
      std::string_view cluster, std::string_view host) const;
  const upstream::Cluster* findCluster(std::string_view name) const;
  void fillProcessStatus(admin::EdgeStatus& status) const;
  // AdminService (admin socket, dashboard), control thread.
  void status(std::function<void(admin::EdgeStatus)> done) override;
  admin::CommandResult setHostState(std::string_view cluster, std::string_view host,
                                    upstream::AdminState state) override;
  admin::CommandResult setClusterState(std::string_view cluster,
                                       upstream::AdminState state) override;
  admin::CommandResult setHostWeight(std::string_view cluster, std::string_view host,
                                     uint32_t weight) override;
  void waitHostIdle(std::string_view cluster, std::string_view host,
                    std::chrono::milliseconds timeout,
                    std::function<void(admin::CommandResult)> done) override;
  admin::CommandResult reload() override;
  void resync() override;
  admin::CommandResult reloadCertificates() override;
  std::string configText() override;
  admin::CommandResult setLogLevel(std::string_view level) override;
  admin::CommandResult setGroupCdnVersion(std::string_view group, std::string_view id) override;
  void whenApplied(std::function<void()> then) override;
  // Several instances (README "Several instances"): GET /instance, and the digest of the routing
  // state applied from Marathon that instances compare (proxy/peers/state_digest.h).
  admin::InstanceFacts instanceFacts() override;
  // After a published discovery: the digest of discovered_ is computed on digest_worker_ and
  // applied (applyMarathonState, control thread) when done.
  void noteMarathonState();
  void applyMarathonState(std::string digest, int64_t published_unix_ms);
  // ---- Binary upgrade (README "Upgrading the binary"), control thread ----
  // Old process: `batonctl upgrade`, SIGUSR2. Starts the new process and answers once it
  // serves (then this one drains) or has failed (then this one keeps serving).
  void upgrade(std::string_view binary, std::function<void(admin::CommandResult)> done) override;
  void onUpgradeReady(pid_t pid);
  void onUpgradeFailed(const std::string& why);
  void finishUpgrade(const admin::CommandResult& result);
  std::vector<upgrade::SocketRecord> socketsToHand() const;
  // New process: the first Marathon sync is served (or kFirstSyncWait passed): accept, tell the
  // old process; onGo() when it has let go of the admin endpoints.
  void goLive();
  void onGo();
  void shutdown();
  void onWorkerStopped();
  void onWorkerApplied(uint32_t worker, uint64_t generation);
  void report(const std::string& json_line);
  static void onSignal(int signo, short what, void* arg);

  ServerOptions options_;
  // First: outlives everything that hands it replaced state (the discovery pipeline, publish,
  // the workers' old snapshots).
  core::Reclaimer reclaimer_;
  uint32_t worker_count_ = 1;
  std::shared_ptr<const conf::ConfigSpec> file_config_;     // file + command line
  std::shared_ptr<const conf::DiscoveredSpec> discovered_;  // last applied discovery
  std::vector<conf::DiscoveryIssue> merge_issues_;          // left out when merging
  std::shared_ptr<const conf::ConfigSpec> config_;          // effective (merged)
  std::unique_ptr<discovery::DiscoveryManager> discovery_;
  // The other baton instances (off without a self app id); the Marathon state digest and when
  // it last changed here.
  std::unique_ptr<peers::PeerMonitor> peers_;
  std::string marathon_state_;
  int64_t marathon_state_since_unix_ms_ = 0;
  std::unique_ptr<AdminHttpServer> admin_;
  SnapshotPtr base_snapshot_;  // built from config_ alone (reused by the next build)
  SnapshotPtr snapshot_;       // base + operator overrides: what the workers serve
  AdminOverrides overrides_;
  std::unique_ptr<admin::AdminSocketServer> admin_socket_;
  // Callers waiting until every worker serves the latest generation (admin answers).
  std::deque<std::pair<uint64_t, std::function<void()>>> applied_waiters_;
  uint64_t reloads_ = 0;
  uint64_t reload_failures_ = 0;
  std::string last_reload_error_;
  int64_t started_unix_ms_ = 0;
  core::EventLoop loop_{core::TimerClock::Precise};  // the control loop: see TimerClock
  // The Marathon state digest hashes every discovered host (~50 ms of CPU at 100,000 tasks): it
  // is computed here, off the control thread, one at a time and in publish order. After the
  // loop: joined before the loop it posts its result to is destroyed.
  std::jthread digest_worker_;
  // After the loop: its timers must go before the loop does.
  std::unique_ptr<TlsManager> tls_;         // certificate contexts, ticket rotation, file watch
  PinTracker pins_;                         // asset pinning: per-group state across snapshots
  std::unique_ptr<core::Timer> pin_timer_;  // the next pinning deadline -> publishPins
  // Listeners left out (a port in use, the descriptor budget) or with fewer sockets than
  // workers: checked every listenerRetryDelay() even when nothing changes, and published again
  // when one may open now (a freed port, descriptors back within the budget), so they are taken
  // up without waiting for a Marathon change. The check costs a bind (no listen) per left-out
  // port, not a publish: a port that can never open (another service's, below 1024 without the
  // capability, the 2,500 ports over a 20,000-descriptor limit) does not rebuild the snapshot every
  // time.
  struct RetryListener {
    std::string address;  // to probe: the spec's for a left-out one, the bound one otherwise
    bool service_port = false;
    size_t sockets = 0;  // it has now (0: left out)
  };
  std::vector<RetryListener> retry_listeners_;
  std::unique_ptr<core::Timer> listener_retry_timer_;
  std::chrono::milliseconds listenerRetryDelay() const;
  void scheduleListenerRetry(const conf::ConfigSpec& config,
                             const std::vector<OpenListener>& planned);
  void retryListeners();
  bool listenerRetryMayOpen() const;
  std::unique_ptr<PinManifests> manifests_;        // BATON_PIN_MANIFEST fetches
  std::unique_ptr<health::HealthService> health_;  // active health checks (own thread)
  bool health_publish_pending_ = false;
  // Binary upgrade. New process: the inherited sockets not yet taken by a listener, whether the
  // workers accept yet, the wait for the first sync and for the old process's go.
  upgrade::InheritedSockets inherited_;
  uint64_t upgrade_generation_ = 0;  // 0: started fresh; n: the n-th process of a chain
  bool live_ = true;
  std::unique_ptr<core::Timer> live_timer_;
  std::unique_ptr<upgrade::FrameWatcher> go_watcher_;
  // Old process: the running upgrade, the admin commands waiting for its outcome, and whether
  // this process is draining because a new one took over.
  std::unique_ptr<upgrade::UpgradeLauncher> launcher_;
  std::vector<std::function<void(admin::CommandResult)>> upgrade_waiters_;
  bool upgraded_away_ = false;
  health::OutlierDetector outliers_;            // passive outlier ejection (control thread)
  std::unique_ptr<core::Timer> outlier_timer_;  // the next ejection's end -> expireOutliers
  std::vector<OpenListener> listeners_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<event*> signal_events_;
  uint32_t workers_stopped_ = 0;
  // A publish is reported once every worker has applied its generation (workers apply posts in
  // order, so acknowledging N covers everything before N).
  struct PendingReport {
    uint64_t generation;
    std::string event_name;
    bool listeners_changed;  // the listener map is sent only then (thousands with discovery)
    double build_ms;         // merge + snapshot + listener plan
  };
  std::vector<uint64_t> worker_applied_;
  std::deque<PendingReport> pending_reports_;
  bool shutting_down_ = false;
};

}  // namespace baton::proxy
