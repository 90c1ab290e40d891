// A worker: one thread, one event loop, its own SO_REUSEPORT listening sockets, its own
// downstream connections, upstream keep-alive pool and load-balancer state. Nothing here is
// shared mutable with another thread; the control thread talks to a worker only by posting
// tasks (reconfigure, drain) to its loop.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxy/core/event_loop.h"
#include "proxy/core/reclaimer.h"
#include "proxy/core/transport.h"
#include "proxy/health/outlier_reporter.h"
#include "proxy/held_snapshot.h"
#include "proxy/request_id.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker_stats.h"
#include "upstream/load_balancer.h"

struct evconnlistener;

namespace baton::proxy {

class ClientConnection;
class TcpProxy;

// A listening socket handed to a worker. Its settings are the listener's spec, immutable and
// shared by every socket of that listener, the server's record of it and each connection that
// was accepted on it (ConnectionStart keeps a copy): with marathon-lb's one listener per service
// port, 10,000 ports x 2 workers each held a private copy of six strings and an ALPN list.
// Freed by whichever thread lets go of it last (it owns no thread-bound state).
struct WorkerListener {
  int fd = -1;
  uint16_t port = 0;
  std::shared_ptr<const conf::ListenerSpec> spec;  // never null
};

// Listener changes a reload hands to one worker, applied together with the new snapshot.
struct ListenerChanges {
  std::vector<WorkerListener> add;
  std::vector<int> remove_fds;         // sockets to stop accepting on (and close)
  std::vector<WorkerListener> update;  // same socket, new settings (matched by fd)
};

class Worker {
 public:
  // `reclaimer` (the server's, outliving the worker) frees the snapshots this worker replaces.
  Worker(uint32_t index, std::vector<WorkerListener> listeners, SnapshotPtr snapshot,
         core::Reclaimer& reclaimer);
  ~Worker();

  // Control thread: start the thread; begin graceful drain (stop accepting,
  // close idle connections, let in-flight requests finish, force-close at the deadline);
  // `on_stopped` runs on the worker thread when its loop has no connections left.
  void start();
  // A reload: new snapshot plus listener changes, applied in one task on the worker's loop.
  void reconfigure(SnapshotPtr snapshot, ListenerChanges changes);
  void drain(std::function<void()> on_stopped);
  void join();
  // Binary upgrade, new process (proxy/upgrade): the listeners stay disabled until
  // startAccepting(), so nothing is accepted before the process is fully initialised (first
  // Marathon sync). holdAccepting() is called before start(); startAccepting() any time after.
  void holdAccepting();
  void startAccepting();

  // Worker thread only.
  uint32_t index() const { return index_; }
  core::EventLoop& loop() { return loop_; }
  const SnapshotPtr& snapshot() const { return snapshot_; }
  // Worker thread: lets go of a snapshot reference a stream or a connection kept. The last one
  // goes to the reclaimer, so that a long-lived stream (a WebSocket, a TCP tunnel) that outlived
  // a resync does not free 100,000 hosts here. use_count() is a hint: in the rare race with
  // another owner letting go at the same moment, that one frees it.
  void releaseSnapshot(SnapshotPtr snapshot);
  UpstreamPool& pool() { return pool_; }
  RequestIdGenerator& requestIds() { return request_ids_; }
  bool draining() const { return draining_; }
  // The load balancer for `cluster` in this worker; created on first use, kept while the
  // cluster is in the current snapshot or a stream still holds it.
  std::shared_ptr<upstream::LoadBalancer> loadBalancerFor(
      const std::shared_ptr<const upstream::Cluster>& cluster);
  void onConnectionClosed(ClientConnection* conn);
  // A ConnectionStart finished: `next` (HTTP/1 or HTTP/2) takes its place; `old` is deleted
  // after the current callback. The connection slot taken at accept stays taken.
  void replaceConnection(ClientConnection* old, std::unique_ptr<ClientConnection> next);
  // Worker thread: the process is over [limits] buffer_budget (as this worker last saw it,
  // polled every kOverloadPoll): new request heads are shed with 503.
  bool overloaded() const { return overloaded_; }
  // Worker thread: the connections call these when they shed work over the budget.
  void noteShedRequest() { ++shedding_.requests; }
  void noteIdleClosedOnOverload() { ++shedding_.idle_closed; }

  // Any thread: process-wide figures behind [limits] max_connections_total and buffer_budget
  // (downstream connections of every worker; bytes buffered, exact to BufferAccount::kStep per
  // worker).
  static uint64_t processConnections();
  static int64_t processBufferedBytes();

  // Passive outlier ejection: streams record each request's result here (worker thread); the
  // server sets the sink, which posts reports to its loop, before start().
  health::OutlierReporter& outliers() { return outliers_; }
  void setOutlierSink(health::OutlierReporter::Sink sink) { outliers_.setSink(std::move(sink)); }

  // Worker thread: TCP-mode connections refused because the cluster is unknown or has no host.
  uint64_t tcpRefused() const { return tcp_refused_; }

  // Control thread: copies this worker's counters on its loop, then posts `reply` with them to
  // `reply_to`. Never replies if the worker's loop has already stopped.
  void collectStats(core::EventLoop& reply_to, std::function<void(WorkerReport)> reply);

  // Worker thread: the counters a stream records into. `snapshot` is the stream's own: when the
  // worker has moved on to a newer one, runtimes are found by name; a cluster or host this
  // worker never used gets one made in the current snapshot (nullptr when it left it), a route
  // never used has none (nullptr: the stream's counts go uncounted, as for a route gone).
  RouteRuntime* routeRuntime(const ProxySnapshot& snapshot, const routing::Route& route);
  ClusterRuntime* clusterRuntime(const ProxySnapshot& snapshot, uint32_t cluster_index);
  HostRuntime* hostRuntime(const ProxySnapshot& snapshot, uint32_t cluster_index,
                           const upstream::Host& host);
  ListenerRuntime* listenerRuntime(const std::string& name) { return stats_.listener(name); }
  void noteRejected(RejectedEntry entry) { stats_.noteRejected(std::move(entry)); }
  // Worker thread: this worker's learned map for a pinned group (asset pinning). Each worker
  // learns from its own traffic, so the request path takes no lock; a map is cleared when its
  // group starts a new cutover and dropped when pinning ends or the group goes.
  // Shared with the streams using it: a map pruned or replaced while one is in flight stays
  // valid for that stream (which then learns into a map nobody reads any more).
  std::shared_ptr<routing::pin::LearnedMap> learnedMap(const PinGroupState& group);

 private:
  static void onAccept(evconnlistener* listener, int fd, sockaddr* addr, int len, void* arg);
  void accept(const WorkerListener& listener, int fd, const sockaddr* addr);
  // `counters`: the listener's, looked up once by accept().
  void acceptTcp(const WorkerListener& listener, ListenerRuntime& counters, int fd,
                 const sockaddr* peer);
  void acceptTls(const WorkerListener& listener, ListenerRuntime& counters, int fd,
                 const sockaddr* peer);
  void refuseTcp(const WorkerListener& listener, int fd, const char* why);
  void noteTcpRefusal(const WorkerListener& listener, const char* why);
  void onTcpProxyClosed(TcpProxy* proxy);
  size_t openConnections() const { return connections_.size() + tcp_proxies_.size(); }
  void applySnapshot(SnapshotPtr snapshot);
  WorkerReport statsReport() const;
  // Hosts an operator (or discovery) took out of service: their idle pooled connections close
  // at once; requests still running on them are cut at [timeouts] host_drain.
  void onHostsLeftActive(const std::vector<HostRuntime*>& hosts);
  void cutOverdueDrains();
  void addListener(WorkerListener spec);
  void removeListener(int fd);
  void startDrain(std::function<void()> on_stopped);
  void maybeFinishDrain();

  struct ListenerSlot {
    Worker* worker;
    WorkerListener spec;
    evconnlistener* listener = nullptr;
    // Re-enables accepting after EMFILE & co; made on the first such error (thousands of
    // service-port listeners never see one).
    std::unique_ptr<core::Timer> resume_timer;
  };
  static void onAcceptError(evconnlistener* listener, void* arg);
  // Abuse guards (issue 5): process-wide connection limit, descriptor reserve, overload.
  // Why a new connection is refused (nothing when it is admitted: a connection slot is taken).
  std::optional<ShedReason> refusal(int fd);
  void releaseConnectionSlot();
  void refreshFdLimit();
  void shedWaitingClients(int listen_fd);
  void pollOverload();
  void setOverloaded(bool on);
  void setListenersEnabled(bool on);

  uint32_t index_;
  uint64_t seed_;  // per-worker seed for request ids and randomised load balancers
  // Before everything that may release a snapshot into it (the loop's deferred deletes too).
  core::Reclaimer& reclaimer_;
  // Counts the buffers of this worker's transports; declared before everything that owns one
  // (the loop's deferred deletes included), so it outlives them all.
  core::BufferAccount buffer_account_;
  core::EventLoop loop_;
  std::vector<std::unique_ptr<ListenerSlot>> listeners_;
  SnapshotPtr snapshot_;
  UpstreamPool pool_;
  RequestIdGenerator request_ids_;
  std::unordered_map<const upstream::Cluster*, std::shared_ptr<upstream::LoadBalancer>> lbs_;
  struct PinMap {
    uint64_t epoch;
    std::shared_ptr<routing::pin::LearnedMap> map;
  };
  // By the group's runtime (one per pinned cluster for its life).
  std::unordered_map<const PinRuntime*, PinMap> pin_maps_;
  void prunePinMaps();
  // Before the connections: their streams hold references into it.
  WorkerStats stats_;
  std::unordered_map<ClientConnection*, std::unique_ptr<ClientConnection>> connections_;
  struct TcpEntry {
    std::unique_ptr<TcpProxy> proxy;
    StatsRef<ListenerRuntime> listener;
  };
  std::unordered_map<TcpProxy*, TcpEntry> tcp_proxies_;
  std::unique_ptr<core::Timer> host_drain_timer_;
  health::OutlierReporter outliers_;
  uint64_t tcp_refused_ = 0;
  std::unordered_set<std::string> tcp_refusal_logged_;  // log each listener's refusal once
  std::unordered_set<std::string> tls_refusal_logged_;
  std::thread thread_;
  bool draining_ = false;
  bool accepting_held_ = false;  // holdAccepting() until startAccepting()
  std::function<void()> on_stopped_;
  std::unique_ptr<core::Timer> drain_timer_;
  std::unique_ptr<core::Timer> overload_timer_;  // polls the process buffer total
  bool overloaded_ = false;
  uint64_t fd_limit_ = 0;      // RLIMIT_NOFILE soft limit, read at start and on each reload
  int spare_fd_ = -1;          // given up on EMFILE to accept-and-close waiting clients
  SheddingCounters shedding_;  // reported with the other counters (statsReport)
};

}  // namespace baton::proxy
