#include "proxy/worker.h"

#include <event2/listener.h>
#include <event2/util.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "proxy/connection_start.h"
#include "proxy/core/log.h"
#include "proxy/core/stop_signals.h"
#include "proxy/downstream_connection.h"
#include "proxy/listen_socket.h"
#include "proxy/tcp_proxy.h"

namespace baton::proxy {

namespace {

// Shared by every worker of the process; relaxed: each is a counter compared against a limit,
// never used to publish other memory.
std::atomic<uint64_t> g_connections{0};
std::atomic<int64_t> g_buffered{0};

constexpr std::chrono::milliseconds kOverloadPoll{50};
// EMFILE: clients taken off the accept queue (and closed) per error, before pausing the listener.
constexpr int kShedPerAcceptError = 64;

int openSpareFd() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace

uint64_t Worker::processConnections() {
  return g_connections.load(std::memory_order_relaxed);
}

int64_t Worker::processBufferedBytes() {
  return g_buffered.load(std::memory_order_relaxed);
}

Worker::Worker(uint32_t index, std::vector<WorkerListener> listeners, SnapshotPtr snapshot,
               core::Reclaimer& reclaimer)
    : index_(index),
      seed_(0x9e3779b97f4a7c15ULL * (index + 1) ^
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      reclaimer_(reclaimer),
      buffer_account_(g_buffered),
      snapshot_(std::move(snapshot)),
      pool_(loop_),
      request_ids_(seed_) {
  std::vector<HostRuntime*> left_active;
  if (snapshot_) (void)stats_.attach(snapshot_, left_active);
  host_drain_timer_ = std::make_unique<core::Timer>(loop_, [this] { cutOverdueDrains(); });
  overload_timer_ = std::make_unique<core::Timer>(loop_, [this] { pollOverload(); });
  for (auto& spec : listeners) addListener(std::move(spec));
  spare_fd_ = openSpareFd();
  refreshFdLimit();
}

Worker::~Worker() {
  // Tear down in dependency order: connections and streams use the pool and the loop.
  for (auto& slot : listeners_) {
    if (slot->listener != nullptr) evconnlistener_free(slot->listener);
    slot->listener = nullptr;
  }
  g_connections.fetch_sub(openConnections(), std::memory_order_relaxed);
  connections_.clear();
  tcp_proxies_.clear();
  loop_.flushDeferred();
  pool_.closeAll();
  loop_.flushDeferred();
  lbs_.clear();
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

void Worker::start() {
  thread_ = std::thread([this] {
    core::blockStopSignals();
    // Every transport this thread creates (client and upstream) counts into the budget.
    core::BufferAccount::setCurrent(&buffer_account_);
    if (snapshot_->config->limits.buffer_budget > 0) overload_timer_->arm(kOverloadPoll);
    loop_.run();
    core::BufferAccount::setCurrent(nullptr);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::addListener(WorkerListener spec) {
  auto slot = std::make_unique<ListenerSlot>();
  slot->worker = this;
  slot->spec = std::move(spec);
  // backlog 0: the socket is already listening (opened by the server before the threads).
  slot->listener = evconnlistener_new(loop_.base(), &Worker::onAccept, slot.get(),
                                      LEV_OPT_CLOSE_ON_FREE, 0, slot->spec.fd);
  evconnlistener_set_error_cb(slot->listener, &Worker::onAcceptError);
  if (overloaded_ || accepting_held_) evconnlistener_disable(slot->listener);
  // Its counters are made on the first connection (WorkerStats::listener): the status lists
  // listeners from the server's record, and most service ports see none on a given worker.
  stats_.listenerAdded(slot->spec.spec->name);
  listeners_.push_back(std::move(slot));
}

void Worker::removeListener(int fd) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    ListenerSlot& slot = **it;
    if (slot.spec.fd != fd) continue;
    if (slot.listener != nullptr) {
      // Take the connections already in the accept queue: closing the socket would reset them.
      for (;;) {
        sockaddr_storage peer{};
        socklen_t len = sizeof(peer);
        int conn =
            ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn < 0) break;
        accept(slot.spec, conn, reinterpret_cast<sockaddr*>(&peer));
      }
      evconnlistener_free(slot.listener);  // closes the socket
    }
    const std::string name = slot.spec.spec->name;
    listeners_.erase(it);
    stats_.listenerGone(name);
    return;
  }
}

void Worker::reconfigure(SnapshotPtr snapshot, ListenerChanges changes) {
  loop_.post([this, snapshot = std::move(snapshot), changes = std::move(changes)]() mutable {
    applySnapshot(std::move(snapshot));
    for (int fd : changes.remove_fds) removeListener(fd);
    for (auto& spec : changes.add) {
      if (draining_) {
        ::close(spec.fd);
      } else {
        addListener(std::move(spec));
      }
    }
    for (const auto& spec : changes.update) {
      for (auto& slot : listeners_) {
        if (slot->spec.fd == spec.fd) slot->spec = spec;
      }
    }
  });
}

void Worker::applySnapshot(SnapshotPtr snapshot) {
  // What this worker lets go of goes to the reclaimer: the worker that lets go last would
  // otherwise free the whole replaced snapshot on its thread (100,000 hosts at Marathon scale:
  // ~45 M instructions of destructors a resync, taken from requests).
  std::vector<std::shared_ptr<const void>> replaced;
  replaced.push_back(std::exchange(snapshot_, std::move(snapshot)));
  std::vector<HostRuntime*> left_active;
  replaced.push_back(stats_.attach(snapshot_, left_active));
  if (!left_active.empty()) onHostsLeftActive(left_active);
  // Forget load balancers of clusters that left the snapshot; streams still using one hold it.
  // A balancer holds its cluster, so the pointer it is keyed by is alive to look up by name.
  for (auto it = lbs_.begin(); it != lbs_.end();) {
    const auto index = snapshot_->clusterIndexOf(it->first->name());
    if (index && snapshot_->clusters[*index].get() == it->first) {
      ++it;
      continue;
    }
    replaced.push_back(std::move(it->second));
    it = lbs_.erase(it);
  }
  reclaimer_.dispose(std::move(replaced));
  prunePinMaps();
  refreshFdLimit();
  if (snapshot_->config->limits.buffer_budget > 0) {
    if (!overload_timer_->armed()) overload_timer_->arm(kOverloadPoll);
  } else if (overloaded_) {
    setOverloaded(false);
  }
}

std::shared_ptr<routing::pin::LearnedMap> Worker::learnedMap(const PinGroupState& group) {
  const conf::PinningSpec& spec = snapshot_->pin_settings->spec;
  auto it = pin_maps_.find(group.runtime.get());
  if (it == pin_maps_.end() || it->second.epoch != group.view.epoch) {
    const auto ttl = std::chrono::duration_cast<routing::pin::Clock::duration>(spec.negative_ttl);
    it = pin_maps_
             .insert_or_assign(group.runtime.get(),
                               PinMap{group.view.epoch, std::make_shared<routing::pin::LearnedMap>(
                                                            spec.map_entries, ttl)})
             .first;
  }
  return it->second.map;
}

// Maps of groups that left the snapshot or whose pinning ended (nothing to remember after it).
void Worker::prunePinMaps() {
  if (pin_maps_.empty()) return;
  std::unordered_set<const PinRuntime*> active;
  for (const auto& state : snapshot_->pins) {
    if (state != nullptr && state->view.active) active.insert(state->runtime.get());
  }
  std::erase_if(pin_maps_, [&](const auto& entry) { return !active.contains(entry.first); });
}

void Worker::onHostsLeftActive(const std::vector<HostRuntime*>& hosts) {
  for (HostRuntime* host : hosts) pool_.closeIdle(host->address);
  const auto deadline = snapshot_->config->timeouts.host_drain;
  if (deadline.count() > 0 && !host_drain_timer_->armed()) host_drain_timer_->arm(deadline);
}

// Requests (and TCP-mode connections) still running on a host past its drain deadline are cut:
// the operator asked for the host to be free by then.
void Worker::cutOverdueDrains() {
  const auto deadline = snapshot_->config->timeouts.host_drain;
  if (deadline.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  auto next_due = std::chrono::steady_clock::time_point::max();
  std::unordered_set<const HostRuntime*> overdue;
  stats_.forEachHost([&](const std::string&, const HostRuntime& host) {
    if (host.state == upstream::AdminState::Active) return;
    const auto due = host.left_active_at + deadline;
    if (due <= now) {
      overdue.insert(&host);
    } else {
      next_due = std::min(next_due, due);
    }
  });
  if (!overdue.empty()) {
    std::vector<ClientConnection*> conns;
    for (auto& [raw, conn] : connections_) conns.push_back(raw);
    for (ClientConnection* conn : conns) {
      if (connections_.contains(conn)) conn->cutStreamOn(overdue);
    }
    std::vector<TcpProxy*> tunnels;
    for (auto& [raw, entry] : tcp_proxies_) {
      if (raw->host() == nullptr) continue;
      HostRuntime* host = stats_.findHost(raw->cluster().name(), raw->host()->name);
      if (host != nullptr && overdue.contains(host)) tunnels.push_back(raw);
    }
    for (TcpProxy* proxy : tunnels) {
      if (!tcp_proxies_.contains(proxy)) continue;
      HostRuntime* host = stats_.findHost(proxy->cluster().name(), proxy->host()->name);
      if (host != nullptr) ++host->drain_cut;
      proxy->forceClose();
    }
  }
  if (next_due != std::chrono::steady_clock::time_point::max()) {
    host_drain_timer_->arm(std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now) +
                           std::chrono::milliseconds(1));
  }
}

RouteRuntime* Worker::routeRuntime(const ProxySnapshot& snapshot, const routing::Route& route) {
  if (&snapshot == snapshot_.get()) {
    const size_t index = static_cast<size_t>(&route - &snapshot.routes->route(0));
    return stats_.route(index);
  }
  return stats_.findRoute(routeId(route.vhost_name, route.prefix));
}

ClusterRuntime* Worker::clusterRuntime(const ProxySnapshot& snapshot, uint32_t cluster_index) {
  if (&snapshot == snapshot_.get()) return stats_.cluster(cluster_index);
  const std::string& name = snapshot.clusters[cluster_index]->name();
  if (ClusterRuntime* known = stats_.findCluster(name)) return known;
  // Not used on this worker yet: made in the current snapshot if it still has the cluster.
  const auto now = snapshot_->clusterIndexOf(name);
  return now ? stats_.cluster(*now) : nullptr;
}

HostRuntime* Worker::hostRuntime(const ProxySnapshot& snapshot, uint32_t cluster_index,
                                 const upstream::Host& host) {
  if (&snapshot == snapshot_.get()) return stats_.host(cluster_index, host.index);
  const std::string& cluster = snapshot.clusters[cluster_index]->name();
  if (HostRuntime* known = stats_.findHost(cluster, host.name)) return known;
  // A stream of an older snapshot on a host this worker has not used yet: if the current
  // snapshot still has it, its runtime is made there (the one later requests find).
  const auto now = snapshot_->clusterIndexOf(cluster);
  if (!now) return nullptr;
  const auto& hosts = snapshot_->clusters[*now]->hosts();
  auto same = std::find_if(hosts.begin(), hosts.end(),
                           [&](const upstream::Host& h) { return h.name == host.name; });
  if (same == hosts.end()) return nullptr;
  return stats_.host(*now, same->index);
}

HeldSnapshot::~HeldSnapshot() {
  worker_->releaseSnapshot(std::move(snapshot_));
}

void Worker::releaseSnapshot(SnapshotPtr snapshot) {
  if (snapshot && snapshot.use_count() == 1) reclaimer_.dispose(std::move(snapshot));
}

std::shared_ptr<upstream::LoadBalancer> Worker::loadBalancerFor(
    const std::shared_ptr<const upstream::Cluster>& cluster) {
  auto found = lbs_.find(cluster.get());
  if (found != lbs_.end()) return found->second;
  std::shared_ptr<upstream::LoadBalancer> lb =
      upstream::createLoadBalancer(cluster, seed_ + lbs_.size());
  lbs_.emplace(cluster.get(), lb);
  return lb;
}

void Worker::onAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* slot = static_cast<ListenerSlot*>(arg);
  core::EventLoop::CallbackScope scope(slot->worker->loop_);
  slot->worker->accept(slot->spec, fd, addr);
}

void Worker::onAcceptError(evconnlistener* listener, void* arg) {
  // Out of file descriptors or memory: the listening socket stays readable, so accepting again
  // at once would spin. Pause this listener briefly (HAProxy does the same) and count on
  // connections closing meanwhile.
  auto* slot = static_cast<ListenerSlot*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  Worker* self = slot->worker;
  if (err == EMFILE || err == ENFILE) {
    // Clients left in the accept queue would wait out their own timeouts: give up the spare
    // descriptor to accept and close them now (nginx and HAProxy do the same).
    self->shedWaitingClients(slot->spec.fd);
  }
  ++self->shedding_.accept_pauses;
  std::fprintf(stderr, "baton: worker %u: accept on %s failed: %s; pausing it 100 ms\n",
               self->index_, slot->spec.spec->name.c_str(), evutil_socket_error_to_string(err));
  evconnlistener_disable(listener);
  if (!slot->resume_timer) {
    slot->resume_timer = std::make_unique<core::Timer>(self->loop_, [slot] {
      // Under overload the listener stays off: setOverloaded(false) turns it back on.
      if (slot->listener != nullptr && !slot->worker->overloaded_ &&
          !slot->worker->accepting_held_) {
        evconnlistener_enable(slot->listener);
      }
    });
  }
  slot->resume_timer->arm(std::chrono::milliseconds(100));
}

void Worker::shedWaitingClients(int listen_fd) {
  if (spare_fd_ < 0) spare_fd_ = openSpareFd();
  if (spare_fd_ < 0) return;  // another thread took it: the listener pause still bounds the CPU
  ::close(spare_fd_);
  spare_fd_ = -1;
  for (int i = 0; i < kShedPerAcceptError; ++i) {
    int conn = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) break;
    ::close(conn);
    shedding_.count(ShedReason::OutOfFds);
  }
  spare_fd_ = openSpareFd();
}

void Worker::refreshFdLimit() {
  fd_limit_ = descriptorLimit().value_or(0);  // 0: no limit to guard
}

// The accept-time guards, cheapest first. Takes a process-wide connection slot on admission.
std::optional<ShedReason> Worker::refusal(int fd) {
  const conf::LimitsSpec& limits = snapshot_->config->limits;
  if (draining_) return ShedReason::Draining;
  if (overloaded_) return ShedReason::Overload;
  if (openConnections() >= limits.max_connections) return ShedReason::WorkerLimit;
  // The kernel hands out the lowest free descriptor: one this close to the limit means fewer
  // than fd_reserve are left for the admin listeners and upstream connects.
  if (fd_limit_ > 0 && static_cast<uint64_t>(fd) + limits.fd_reserve >= fd_limit_) {
    return ShedReason::FdReserve;
  }
  const uint64_t before = g_connections.fetch_add(1, std::memory_order_relaxed);
  if (limits.max_connections_total > 0 && before >= limits.max_connections_total) {
    g_connections.fetch_sub(1, std::memory_order_relaxed);
    return ShedReason::ProcessLimit;
  }
  return std::nullopt;
}

void Worker::releaseConnectionSlot() {
  g_connections.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::pollOverload() {
  const uint64_t budget = snapshot_->config->limits.buffer_budget;
  if (budget == 0) return;  // turned off by a reload (applySnapshot left overload)
  const int64_t total = g_buffered.load(std::memory_order_relaxed);
  // Hysteresis: shed from the budget down to three quarters of it, so the state does not flap
  // with every buffer that fills and drains around the line.
  if (!overloaded_ && total >= static_cast<int64_t>(budget)) {
    setOverloaded(true);
  } else if (overloaded_ && total < static_cast<int64_t>(budget / 4 * 3)) {
    setOverloaded(false);
  }
  overload_timer_->arm(kOverloadPoll);
}

void Worker::setOverloaded(bool on) {
  if (overloaded_ == on) return;
  overloaded_ = on;
  if (on) ++shedding_.overload_episodes;
  std::fprintf(stderr, "baton: worker %u: %s (buffered %lld bytes, budget %llu)\n", index_,
               on ? "over the buffer budget: shedding" : "back under the buffer budget",
               static_cast<long long>(g_buffered.load(std::memory_order_relaxed)),
               static_cast<unsigned long long>(snapshot_->config->limits.buffer_budget));
  if (!draining_ && !accepting_held_) setListenersEnabled(!on);
  // A connection may close itself from in here: iterate a copy and skip the departed.
  std::vector<ClientConnection*> conns;
  conns.reserve(connections_.size());
  for (auto& [raw, conn] : connections_) conns.push_back(raw);
  for (ClientConnection* conn : conns) {
    if (connections_.contains(conn)) conn->setOverloaded(on);
  }
}

void Worker::setListenersEnabled(bool on) {
  for (auto& slot : listeners_) {
    if (slot->listener == nullptr) continue;
    if (on) {
      if (slot->resume_timer) slot->resume_timer->cancel();
      evconnlistener_enable(slot->listener);
    } else {
      evconnlistener_disable(slot->listener);
    }
  }
}

void Worker::accept(const WorkerListener& listener, int fd, const sockaddr* addr) {
  if (const std::optional<ShedReason> reason = refusal(fd)) {
    shedding_.count(*reason);
    ::close(fd);
    return;
  }
  ListenerRuntime* counters = stats_.listener(listener.spec->name);
  ++counters->accepted;
  if (listener.spec->kind == conf::ListenerKind::Tcp) {
    acceptTcp(listener, *counters, fd, addr);
    return;
  }
  if (listener.spec->tls) {
    acceptTls(listener, *counters, fd, addr);
    return;
  }
  // Never hold more than the high watermark of unparsed client bytes: the kernel's window
  // pushes back on the client.
  auto transport = std::make_unique<core::Transport>(
      loop_, fd, nullptr, snapshot_->config->limits.buffer_high_watermark);
  if (listener.spec->h2c) {
    auto start = std::make_unique<ConnectionStart>(*this, std::move(transport), addr, listener,
                                                   *counters, false);
    ConnectionStart* raw = start.get();
    connections_.emplace(raw, std::move(start));
    raw->start();
    return;
  }
  auto conn =
      std::make_unique<DownstreamConnection>(*this, std::move(transport), addr, listener, false);
  DownstreamConnection* raw = conn.get();
  connections_.emplace(raw, std::move(conn));
  raw->start();
}

// The handshake runs in a ConnectionStart, which hands over to HTTP/2 or HTTP/1 by ALPN.
void Worker::acceptTls(const WorkerListener& listener, ListenerRuntime& counters, int fd,
                       const sockaddr* addr) {
  auto layer = snapshot_->tls ? snapshot_->tls->newSession(fd, listener.spec->alpn)
                              : core::Result<std::unique_ptr<core::SecureLayer>>(
                                    core::fail(core::Error::internal("no certificate is loaded")));
  if (!layer) {
    ++counters.tls.failures;
    if (tls_refusal_logged_.insert(listener.spec->name).second) {
      core::logf(core::LogLevel::Error, "baton: worker %u: %s: cannot start TLS: %s", index_,
                 listener.spec->name.c_str(), layer.error().detail.c_str());
    }
    ::close(fd);
    releaseConnectionSlot();
    return;
  }
  auto transport = std::make_unique<core::Transport>(
      loop_, fd, std::move(*layer), nullptr, snapshot_->config->limits.buffer_high_watermark);
  auto start = std::make_unique<ConnectionStart>(*this, std::move(transport), addr, listener,
                                                 counters, true);
  ConnectionStart* raw = start.get();
  connections_.emplace(raw, std::move(start));
  raw->start();
}

void Worker::replaceConnection(ClientConnection* old, std::unique_ptr<ClientConnection> next) {
  auto found = connections_.find(old);
  if (found == connections_.end()) return;
  loop_.deferDelete(std::move(found->second));
  connections_.erase(found);
  ClientConnection* raw = next.get();
  connections_.emplace(raw, std::move(next));
}

void Worker::onConnectionClosed(ClientConnection* conn) {
  auto found = connections_.find(conn);
  if (found == connections_.end()) return;
  releaseConnectionSlot();
  loop_.deferDelete(std::move(found->second));
  connections_.erase(found);
  maybeFinishDrain();
}

void Worker::acceptTcp(const WorkerListener& listener, ListenerRuntime& listener_counters, int fd,
                       const sockaddr* peer) {
  const auto index = snapshot_->clusterIndexOf(listener.spec->tcp_cluster);
  if (!index) {
    releaseConnectionSlot();
    refuseTcp(listener, fd, "unknown cluster");
    return;
  }
  const auto& cluster = snapshot_->clusters[*index];
  const conf::ClusterSpec* spec =
      *index < snapshot_->config->clusters.size() ? &snapshot_->config->clusters[*index] : nullptr;
  const conf::TimeoutsSpec& timeouts = snapshot_->config->timeouts;
  TcpProxySettings settings;
  settings.high_watermark = snapshot_->config->limits.buffer_high_watermark;
  settings.connect_timeout = timeouts.upstream_connect;
  if (spec != nullptr) {
    settings.connect_timeout = spec->timeouts.upstream_connect.value_or(timeouts.upstream_connect);
    settings.idle_timeout = spec->timeouts.tunnel_idle.value_or(kDefaultTunnelIdle);
  }
  settings.client_hash = upstream::hashClientAddress(peer);
  // TCP mode feeds passive outlier ejection too: a refused or timed-out connect counts against
  // the host, a connect that succeeds ends its streak (bytes after that are the protocol's).
  settings.on_connect_result = [this, snapshot = HeldSnapshot(*this, snapshot_), index = *index](
                                   const upstream::Host& host, bool connected) {
    const StatsRef<HostRuntime> runtime(hostRuntime(*snapshot, index, host));
    if (!connected && runtime) ++runtime->connect_failures;
    outliers().record(
        runtime, connected ? health::OutlierEvent::Success : health::OutlierEvent::ConnectFailure);
  };
  auto proxy =
      std::make_unique<TcpProxy>(loop_, fd, cluster, loadBalancerFor(cluster), std::move(settings),
                                 [this](TcpProxy* p) { onTcpProxyClosed(p); });
  TcpProxy* raw = proxy.get();
  StatsRef<ListenerRuntime> counters(&listener_counters);
  ++counters->active;
  tcp_proxies_.emplace(raw, TcpEntry{std::move(proxy), std::move(counters)});
  raw->start();
  if (raw->endReason() == "no host") noteTcpRefusal(listener, "no available host in cluster");
}

void Worker::refuseTcp(const WorkerListener& listener, int fd, const char* why) {
  ::close(fd);
  noteTcpRefusal(listener, why);
}

void Worker::noteTcpRefusal(const WorkerListener& listener, const char* why) {
  ++tcp_refused_;
  // Every connection of a misconfigured listener fails the same way: say it once per worker.
  if (tcp_refusal_logged_.insert(listener.spec->name).second) {
    std::fprintf(stderr,
                 "baton: worker %u: tcp listener %s: %s %s; closing client connections (logged "
                 "once)\n",
                 index_, listener.spec->name.c_str(), why, listener.spec->tcp_cluster.c_str());
  }
}

void Worker::onTcpProxyClosed(TcpProxy* proxy) {
  auto found = tcp_proxies_.find(proxy);
  if (found == tcp_proxies_.end()) return;
  releaseConnectionSlot();
  --found->second.listener->active;
  loop_.deferDelete(std::move(found->second.proxy));
  tcp_proxies_.erase(found);
  maybeFinishDrain();
}

WorkerReport Worker::statsReport() const {
  WorkerReport report = stats_.report();
  report.worker = index_;
  report.generation = snapshot_ ? snapshot_->generation : 0;
  report.shedding = shedding_;
  report.shedding.overloaded_workers = overloaded_ ? 1 : 0;
  // Pooled idle connections and TCP-mode tunnels are not counted on the request path: read
  // them here.
  struct Tunnels {
    uint64_t open = 0;
    const upstream::Host* host = nullptr;
    bool reported = false;
  };
  std::unordered_map<std::string, Tunnels> tunnels;  // "cluster\nhost" -> open
  for (const auto& [proxy, entry] : tcp_proxies_) {
    if (proxy->host() == nullptr) continue;
    Tunnels& t = tunnels[proxy->cluster().name() + '\n' + std::string(proxy->host()->name)];
    ++t.open;
    t.host = proxy->host();
  }
  for (ClusterReport& cluster : report.clusters) {
    for (HostReport& host : cluster.hosts) {
      host.pooled_idle = pool_.idleCount(host.address);
      if (tunnels.empty()) continue;
      auto found = tunnels.find(cluster.name + '\n' + host.name);
      if (found == tunnels.end()) continue;
      host.tcp_active = found->second.open;
      host.in_flight += found->second.open;
      found->second.reported = true;
    }
  }
  // A tunnel still connecting has no host runtime yet (made on the connect's result): report
  // its host all the same.
  for (const auto& [key, t] : tunnels) {
    if (t.reported) continue;
    const std::string_view cluster_name = std::string_view(key).substr(0, key.find('\n'));
    auto cluster = std::find_if(report.clusters.begin(), report.clusters.end(),
                                [&](const ClusterReport& c) { return c.name == cluster_name; });
    if (cluster == report.clusters.end()) {
      // Nor its cluster one, when it is the first connection to it (counters made on use).
      std::string name(cluster_name);
      const bool present = snapshot_->clusterIndexOf(name).has_value();
      report.clusters.push_back(ClusterReport{std::move(name), present, {}, 0, 0, {}, {}});
      cluster = std::prev(report.clusters.end());
    }
    HostReport host;
    host.name = t.host->name;
    host.address = t.host->address;
    host.tcp_active = t.open;
    host.in_flight = t.open;
    cluster->hosts.push_back(std::move(host));
  }
  return report;
}

void Worker::collectStats(core::EventLoop& reply_to, std::function<void(WorkerReport)> reply) {
  loop_.post([this, &reply_to, reply = std::move(reply)]() mutable {
    reply_to.post(
        [report = statsReport(), reply = std::move(reply)]() mutable { reply(std::move(report)); });
  });
}

void Worker::holdAccepting() {
  accepting_held_ = true;
  setListenersEnabled(false);
}

void Worker::startAccepting() {
  loop_.post([this] {
    accepting_held_ = false;
    if (!draining_ && !overloaded_) setListenersEnabled(true);
  });
}

void Worker::drain(std::function<void()> on_stopped) {
  loop_.post(
      [this, on_stopped = std::move(on_stopped)]() mutable { startDrain(std::move(on_stopped)); });
}

void Worker::startDrain(std::function<void()> on_stopped) {
  draining_ = true;
  on_stopped_ = std::move(on_stopped);
  for (auto& slot : listeners_) {
    if (slot->listener != nullptr) evconnlistener_free(slot->listener);
    slot->listener = nullptr;
  }
  pool_.closeAll();
  std::vector<ClientConnection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, conn] : connections_) open.push_back(raw);
  for (ClientConnection* conn : open) conn->drain();
  drain_timer_ = std::make_unique<core::Timer>(loop_, [this] {
    std::vector<ClientConnection*> left;
    for (auto& [raw, conn] : connections_) left.push_back(raw);
    for (ClientConnection* conn : left) conn->forceClose();
    // TCP-mode connections have no request boundary to stop at: they run until the deadline.
    std::vector<TcpProxy*> tunnels;
    for (auto& [raw, entry] : tcp_proxies_) tunnels.push_back(raw);
    for (TcpProxy* proxy : tunnels) proxy->forceClose();
    maybeFinishDrain();
  });
  drain_timer_->arm(snapshot_->config->timeouts.drain);
  maybeFinishDrain();
}

void Worker::maybeFinishDrain() {
  if (!draining_ || openConnections() > 0 || !on_stopped_) return;
  if (drain_timer_) drain_timer_->cancel();
  auto on_stopped = std::move(on_stopped_);
  on_stopped_ = nullptr;
  loop_.stop();
  on_stopped();
}

}  // namespace baton::proxy
