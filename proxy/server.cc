#include "proxy/server.h"

#include <event2/event.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "conf/loader.h"
#include "proxy/admin/commands.h"
#include "proxy/admin_status_builder.h"
#include "proxy/core/background_thread.h"
#include "proxy/core/clock.h"
#include "proxy/core/log.h"
#include "proxy/core/stop_signals.h"
#include "proxy/core/string_keyed.h"
#include "proxy/core/transport.h"
#include "proxy/effective_config.h"
#include "proxy/listen_socket.h"
#include "proxy/peers/state_digest.h"
#include "proxy/request_id.h"

namespace baton::proxy {

namespace {

std::string jsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A Marathon service port's listener (the descriptor budget applies), not a configured one.
bool isServicePort(const conf::ListenerSpec& spec) {
  return spec.origin.starts_with("marathon:");
}

// Settings a running socket can take in place (everything but the address).
bool sameSettings(const conf::ListenerSpec& a, const conf::ListenerSpec& b) {
  return a.raw_bytes == b.raw_bytes && a.kind == b.kind && a.route_by == b.route_by &&
         a.route_scope == b.route_scope && a.tcp_cluster == b.tcp_cluster && a.tls == b.tls &&
         a.h2c == b.h2c && a.alpn == b.alpn && a.cdn_origin == b.cdn_origin;
}

// Discovery may open a listener per service port on every worker: thousands of sockets. Take
// the hard limit (systemd and Docker set it high) instead of the 1024 soft default.
void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Binary upgrade: how long the new process waits for the old one's handoff, for its first
// Marathon sync before it serves anyway (what it has: the file, the persisted state), and how long
// the old one waits for the new one to say it serves. The old process, after handing over, keeps
// its loop a moment for the `upgrade` answer to reach batonctl.
constexpr auto kHandoffWait = std::chrono::seconds(10);
constexpr auto kFirstSyncWait = std::chrono::seconds(10);
constexpr auto kUpgradeReadyDeadline = std::chrono::seconds(60);
constexpr auto kAnswerGrace = std::chrono::milliseconds(200);
constexpr auto kListenerRetry = std::chrono::seconds(30);

uint32_t defaultWorkers() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  // These hold events on loop_, which is destroyed before them (declaration order).
  admin_socket_.reset();
  admin_.reset();
  peers_.reset();
  discovery_.reset();
  // The process is exiting. Freeing a signal event restores the default disposition, under which
  // a repeated SIGTERM (an operator, a supervisor) would turn a clean exit into death by signal.
  // The control thread, the only one taking these signals (core/stop_signals.h), blocks them
  // first; each is then ignored, which also discards one left pending.
  const sigset_t stop = core::stopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  for (event* ev : signal_events_) {
    const int signo = event_get_signal(ev);
    event_free(ev);
    std::signal(signo, SIG_IGN);
  }
  workers_.clear();
}

core::Result<std::shared_ptr<const conf::ConfigSpec>> Server::loadFileConfig(
    const ServerOptions& options) {
  conf::ConfigSpec spec;
  if (options.config_path.empty()) {
    spec.file = "<command line>";
  } else {
    auto loaded = conf::loadConfigFile(options.config_path);
    if (!loaded) return core::fail(std::move(loaded.error()));
    spec = std::move(*loaded);
  }
  if (options.overrides) options.overrides(spec);
  auto valid = conf::validateConfig(spec);
  if (!valid) return core::fail(std::move(valid.error()));
  return std::make_shared<const conf::ConfigSpec>(std::move(spec));
}

core::Result<std::unique_ptr<Server>> Server::create(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server(options));
  if (options.upgrade_fd >= 0) {
    // First: the old process's sockets and operator state (before anything can fail, so that a
    // bad config is reported to it as such).
    auto handoff = upgrade::receiveHandoff(options.upgrade_fd, kHandoffWait);
    if (!handoff) return core::fail(std::move(handoff.error()));
    auto overrides = AdminOverrides::parse(handoff->overrides);
    if (!overrides) return core::fail(std::move(overrides.error()));
    server->inherited_ = std::move(handoff->sockets);
    server->overrides_ = std::move(*overrides);
    server->upgrade_generation_ = handoff->upgrade_generation;
    server->live_ = false;
  }
  auto config = loadFileConfig(options);
  if (!config) return core::fail(std::move(config.error()));
  server->file_config_ = *config;
  server->config_ = *config;
  const auto& spec = *server->config_;
  // Before any connect (workers, health probes): [upstream] source_address.
  if (auto source = core::setConnectSource(spec.upstream.source_address); !source) {
    return core::fail(std::move(source.error()));
  }
  server->worker_count_ = options.workers.value_or(spec.server.workers);
  if (server->worker_count_ == 0) server->worker_count_ = defaultWorkers();
  raiseFileLimit();

  server->pin_timer_ =
      std::make_unique<core::Timer>(server->loop_, [raw = server.get()] { raw->publishPins(); });
  server->manifests_ =
      std::make_unique<PinManifests>(server->loop_, [raw = server.get()] { raw->publishPins(); });
  server->health_ = std::make_unique<health::HealthService>(
      server->loop_, [raw = server.get()] { raw->requestHealthPublish(); });
  server->outlier_timer_ =
      std::make_unique<core::Timer>(server->loop_, [raw = server.get()] { raw->expireOutliers(); });
  server->tls_ = std::make_unique<TlsManager>(
      server->loop_, [raw = server.get()] { return raw->republish("certificates"); });
  auto contexts = server->tls_->contextsFor(*server->config_, true);
  if (!contexts) return core::fail(std::move(contexts.error()));
  auto snapshot =
      buildSnapshot(server->config_, 1, nullptr, server->worker_count_, std::move(*contexts));
  if (!snapshot) return core::fail(std::move(snapshot.error()));
  server->base_snapshot_ = std::move(*snapshot);
  server->tls_->commit();
  server->snapshot_ = server->overrides_.empty()
                          ? server->base_snapshot_
                          : applyOverrides(server->base_snapshot_, server->overrides_, 1);
  server->started_unix_ms_ = core::unixNowMs();

  for (const auto& spec : server->config_->listeners) {
    auto listener = server->openListener(std::make_shared<const conf::ListenerSpec>(spec));
    if (!listener) return core::fail(std::move(listener.error()));
    server->listeners_.push_back(std::move(*listener));
  }
  // Upgrade: the old process still holds the admin endpoints; they open in onGo().
  if (options.upgrade_fd >= 0) return server;
  // Opened before "ready": zdd and health checks find it as soon as baton says it serves.
  auto admin = server->startAdmin();
  if (!admin) return core::fail(std::move(admin.error()));
  auto socket = server->startAdminSocket();
  if (!socket) return core::fail(std::move(socket.error()));
  return server;
}

core::Result<Server::OpenListener> Server::openListener(
    std::shared_ptr<const conf::ListenerSpec> settings, bool extra_sockets) {
  const conf::ListenerSpec& spec = *settings;
  auto parsed = parseListenAddress(spec.address);
  if (!parsed) {
    return core::fail(core::Error::config(spec.loc.file + ":" + std::to_string(spec.loc.line) +
                                          ": listener." + spec.name +
                                          ".address: " + parsed.error().detail));
  }
  if (inherited_.size() > 0) {
    auto taken = inherited_.take(spec.name, spec.address);
    if (!taken.empty()) return adoptListener(std::move(settings), std::move(taken), extra_sockets);
  }
  auto [addr, len] = *parsed;
  OpenListener out{settings, {}, {}};
  uint16_t port = 0;
  for (uint32_t w = 0; w < worker_count_; ++w) {
    auto fd = openListenSocket(addr, len);
    if (!fd) {
      closeSockets(out);
      return core::fail(core::Error::config("listener \"" + spec.name + "\" (" + spec.address +
                                            "): " + fd.error().detail));
    }
    if (w == 0) {
      // Port 0: the kernel picked one for the first socket; every other worker binds it too.
      out.bound = boundAddress(*fd, &port);
      if (addr.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
      } else {
        reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
      }
    }
    out.per_worker.push_back(WorkerListener{*fd, port, settings});
  }
  return out;
}

core::Result<Server::OpenListener> Server::adoptListener(
    std::shared_ptr<const conf::ListenerSpec> settings, std::vector<upgrade::SocketRecord> taken,
    bool extra_sockets) {
  OpenListener out{settings, {}, {}};
  uint16_t port = 0;
  out.bound = boundAddress(taken.front().fd, &port);
  for (const auto& socket : taken) {
    out.per_worker.push_back(WorkerListener{socket.fd, port, settings});
  }
  // More workers than the old process had: the others join the same SO_REUSEPORT group. When
  // one cannot be opened the inherited sockets serve on (closing them would take the port
  // down): the workers without one just do not accept on it (topUpSockets retries).
  if (extra_sockets) {
    if (std::string failure = addWorkerSockets(out); !failure.empty()) {
      std::fprintf(stderr, "baton: listener \"%s\" (%s): kept on its inherited sockets: %s\n",
                   settings->name.c_str(), out.bound.c_str(), failure.c_str());
    }
  }
  return out;
}

std::string Server::addWorkerSockets(OpenListener& listener) {
  if (listener.per_worker.empty() || listener.per_worker.size() >= worker_count_) return {};
  auto parsed = parseListenAddress(listener.bound);
  if (!parsed) return parsed.error().detail;
  const uint16_t port = listener.per_worker.front().port;
  while (listener.per_worker.size() < worker_count_) {
    auto fd = openListenSocket(parsed->first, parsed->second);
    if (!fd) return fd.error().detail;
    listener.per_worker.push_back(WorkerListener{*fd, port, listener.spec});
  }
  return {};
}

void Server::closeSockets(const OpenListener& listener) {
  for (const auto& socket : listener.per_worker) ::close(socket.fd);
}

std::string Server::listenersJson() const {
  std::string out = "{";
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (i != 0) out += ",";
    out += "\"" + jsonEscape(listeners_[i].spec->name) + "\":\"" + listeners_[i].bound + "\"";
  }
  return out + "}";
}

core::Result<std::vector<Server::OpenListener>> Server::planListeners(
    const conf::ConfigSpec& next, std::vector<ListenerChanges>& changes,
    std::vector<conf::DiscoveryIssue>& issues) {
  changes.assign(worker_count_, {});
  // Running listeners by (name, address): discovery may bring thousands (one per service port).
  std::unordered_map<std::string, size_t> running;
  running.reserve(listeners_.size());
  for (size_t i = 0; i < listeners_.size(); ++i) {
    running.emplace(listeners_[i].spec->name + '\n' + listeners_[i].spec->address, i);
  }
  std::vector<OpenListener> planned;
  planned.reserve(next.listeners.size());
  std::vector<OpenListener> opened;  // new sockets: closed again if anything fails
  std::vector<bool> kept(listeners_.size(), false);
  ListenerPlan plan{next.limits.fd_reserve, std::nullopt, issues};
  for (const auto& spec : next.listeners) {
    auto found = running.find(spec.name + '\n' + spec.address);
    if (found != running.end() && !kept[found->second]) {
      // Same socket; only its settings may change, in place (no socket is closed).
      const OpenListener& current = listeners_[found->second];
      kept[found->second] = true;
      if (spec == *current.spec) {  // the common case: nothing to copy, nothing to tell
        planned.push_back(current);
        topUpSockets(planned.back(), plan, changes, opened);
        continue;
      }
      auto settings = std::make_shared<const conf::ListenerSpec>(spec);
      const bool update = !sameSettings(spec, *current.spec);
      OpenListener same{settings, current.bound, {}};
      // Sockets beyond the worker count (inherited by an upgrade) are served by w % workers.
      for (size_t i = 0; i < current.per_worker.size(); ++i) {
        const WorkerListener& old = current.per_worker[i];
        same.per_worker.push_back(WorkerListener{old.fd, old.port, settings});
        if (update) changes[i % worker_count_].update.push_back(same.per_worker[i]);
      }
      planned.push_back(std::move(same));
      topUpSockets(planned.back(), plan, changes, opened);
      continue;
    }
    auto fresh = openWithinBudget(spec, plan);
    if (!fresh) {
      for (const auto& listener : opened) closeSockets(listener);
      return core::fail(std::move(fresh.error()));
    }
    if (!*fresh) continue;  // a discovered port left out for now (reported)
    auto& listener = **fresh;
    for (size_t i = 0; i < listener.per_worker.size(); ++i) {
      changes[i % worker_count_].add.push_back(listener.per_worker[i]);
    }
    plan.opened_sockets += listener.per_worker.size();
    opened.push_back(listener);
    planned.push_back(std::move(listener));
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (kept[i]) continue;
    for (size_t s = 0; s < listeners_[i].per_worker.size(); ++s) {
      changes[s % worker_count_].remove_fds.push_back(listeners_[i].per_worker[s].fd);
    }
  }
  return planned;
}

namespace {

// A discovered listener left out, as the status, /_haproxy_getconfig and the log show it.
conf::DiscoveryIssue listenerIssue(const conf::ListenerSpec& spec, std::string message) {
  std::string app = spec.origin.starts_with("marathon:") ? spec.origin.substr(9) : spec.origin;
  return conf::DiscoveryIssue{std::move(app), "listener " + spec.name + " (" + spec.address + ")",
                              std::move(message)};
}

}  // namespace

core::Result<std::optional<Server::OpenListener>> Server::openWithinBudget(
    const conf::ListenerSpec& spec, ListenerPlan& plan) {
  std::optional<ListenerFdBudget>& budget = plan.budget;
  const bool service_port = isServicePort(spec);
  // Sockets an upgrade handed over are open already: adopting them costs no descriptor, and
  // they are adopted whatever the budget says (closing them would take the port down). Only
  // sockets for workers the old process did not have are new.
  const size_t inherited = inherited_.count(spec.name, spec.address);
  const size_t new_sockets = worker_count_ > inherited ? worker_count_ - inherited : 0;
  size_t charged = 0;
  bool extra_sockets = true;
  if (service_port && new_sockets > 0) {
    if (serviceListenerFits(spec, new_sockets, plan, inherited > 0)) {
      charged = new_sockets;
    } else if (inherited == 0) {
      return std::optional<OpenListener>();
    } else {
      extra_sockets = false;  // served by the inherited sockets only
    }
  }
  auto fresh = openListener(std::make_shared<const conf::ListenerSpec>(spec), extra_sockets);
  if (!fresh) {
    if (charged > 0) budget->refund(charged);
    if (spec.origin == "config") return core::fail(std::move(fresh.error()));
    // A discovered port that cannot be bound (in use by another process) must not hold back
    // every other app's update: left out now, retried on the next publish.
    plan.issues.push_back(listenerIssue(spec, "not opened: " + fresh.error().detail));
    return std::optional<OpenListener>();
  }
  // Opened after the budget was measured and not charged above: counted now, but for the
  // inherited sockets (open, so counted, when it was measured).
  if (budget && !service_port) {
    budget->count(fresh->per_worker.size() - std::min(fresh->per_worker.size(), inherited));
  }
  return std::optional<OpenListener>(std::move(*fresh));
}

void Server::topUpSockets(OpenListener& listener, ListenerPlan& plan,
                          std::vector<ListenerChanges>& changes,
                          std::vector<OpenListener>& opened) {
  const size_t have = listener.per_worker.size();
  // During an upgrade of this process the socket list is being handed over: a socket opened
  // now would be held by this process only, and closed with its queue when it drains.
  if (have == 0 || have >= worker_count_ || launcher_) return;
  const conf::ListenerSpec& spec = *listener.spec;
  const size_t missing = worker_count_ - have;
  const bool service_port = isServicePort(spec);
  if (service_port && !serviceListenerFits(spec, missing, plan, true)) return;
  const std::string failure = addWorkerSockets(listener);
  const size_t opened_now = listener.per_worker.size() - have;
  if (service_port && opened_now < missing) plan.budget->refund(missing - opened_now);
  if (!service_port && plan.budget) plan.budget->count(opened_now);
  if (!failure.empty()) {
    plan.issues.push_back(listenerIssue(
        spec, std::to_string(listener.per_worker.size()) + " of " + std::to_string(worker_count_) +
                  " workers accept on it (an upgrade added the others; retried on each publish): " +
                  failure));
  }
  if (opened_now == 0) return;
  // Socket i is served by worker i % workers: the new ones go to the workers that had none.
  OpenListener added{listener.spec, listener.bound, {}};
  for (size_t i = have; i < listener.per_worker.size(); ++i) {
    changes[i % worker_count_].add.push_back(listener.per_worker[i]);
    added.per_worker.push_back(listener.per_worker[i]);
  }
  plan.opened_sockets += opened_now;
  opened.push_back(std::move(added));  // closed again if a later listener fails the plan
}

bool Server::serviceListenerFits(const conf::ListenerSpec& spec, size_t sockets, ListenerPlan& plan,
                                 bool adopting) {
  std::optional<ListenerFdBudget>& budget = plan.budget;
  if (!budget) {
    budget = listenerFdBudget(plan.fd_reserve);
    // Everything open now: running listeners (those about to close too: their workers close
    // them after this publish), sockets this plan opened, an upgrade's inherited sockets, and
    // the connections of the moment. At least the listener sockets, should /proc be unreadable.
    size_t listener_sockets = inherited_.size() + plan.opened_sockets;
    for (const OpenListener& listener : listeners_) listener_sockets += listener.per_worker.size();
    budget->count(std::max(openDescriptorCount(), listener_sockets));
  }
  if (budget->take(sockets)) return true;
  // A service port's sockets would leave too few descriptors for connections: a proxy whose
  // listeners took every descriptor accepts nothing at all. Retried on each publish.
  plan.issues.push_back(listenerIssue(
      spec, std::string(adopting ? "kept on the sockets it inherited only (the workers the upgrade "
                                   "added do not accept on it)"
                                 : "not opened") +
                ": " + std::to_string(sockets) + " more sockets would leave fewer than " +
                std::to_string(budget->reserve()) + " of the " + std::to_string(budget->limit()) +
                " file descriptors for connections (raise the descriptor limit, or use fewer "
                "workers)"));
  return false;
}

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  for (int signo : {SIGHUP, SIGTERM, SIGINT, SIGUSR2}) {
    event* ev = evsignal_new(loop_.base(), signo, &Server::onSignal, this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }
  worker_applied_.assign(worker_count_, snapshot_->generation);
  snapshot_ = withPins(withHealth(snapshot_));
  for (uint32_t w = 0; w < worker_count_; ++w) {
    std::vector<WorkerListener> sockets;
    for (const auto& listener : listeners_) {
      for (size_t i = w; i < listener.per_worker.size(); i += worker_count_) {
        sockets.push_back(listener.per_worker[i]);
      }
    }
    workers_.push_back(std::make_unique<Worker>(w, std::move(sockets), snapshot_, reclaimer_));
    // Upgrade: the old process serves until this one is fully initialised (goLive).
    if (!live_) workers_.back()->holdAccepting();
    // Worker thread -> this loop: the detector is control-thread state.
    workers_.back()->setOutlierSink([this](health::OutlierReport report) {
      loop_.post([this, report = std::move(report)] { onOutlierReport(report); });
    });
  }
  for (auto& worker : workers_) worker->start();

  std::fprintf(stderr, "baton: serving with %u worker(s)", worker_count_);
  for (const auto& listener : listeners_) {
    std::fprintf(stderr, ", listener %s on %s", listener.spec->name.c_str(),
                 listener.bound.c_str());
  }
  std::fprintf(stderr, "\n");
  if (live_) {
    report("{\"event\":\"ready\",\"generation\":1,\"pid\":" + std::to_string(getpid()) +
           ",\"workers\":" + std::to_string(worker_count_) + ",\"listeners\":" + listenersJson() +
           (admin_ ? ",\"admin\":\"" + admin_->boundAddress() + "\"" : std::string()) + "}");
    upgrade::notifySystemd("READY=1");
  }
  startDiscovery();
  if (!live_) {
    // Upgrade: serve once the first Marathon sync is (onDiscovered), or after kFirstSyncWait
    // with what there is (the file, the persisted state), as a normal start would.
    live_timer_ = std::make_unique<core::Timer>(loop_, [this] { goLive(); });
    if (discovery_) {
      live_timer_->arm(kFirstSyncWait);
    } else {
      goLive();
    }
  }

  loop_.run();
  if (upgraded_away_) {
    // The `upgrade` answer may still sit in the admin session's buffer: a moment to send it.
    core::Timer grace(loop_, [this] { loop_.stop(); });
    grace.arm(kAnswerGrace);
    loop_.run();
  }
  admin_socket_.reset();
  admin_.reset();
  peers_.reset();  // its timer and HTTP client live on loop_
  discovery_.reset();
  for (auto& worker : workers_) worker->join();
  report("{\"event\":\"stopped\",\"pid\":" + std::to_string(getpid()) + "}");
  return 0;
}

void Server::startDiscovery() {
  discovery_.reset();
  // The peer monitor follows [marathon] (URLs, credentials, CA): started, left alone when a
  // reload changed nothing it uses, restarted with the new settings, or stopped.
  peers::updateMonitor(peers_, loop_, file_config_->marathon, options_.self_app_id,
                       [this] { return instanceFacts(); });
  if (file_config_->marathon.urls.empty()) return;
  discovery_ = std::make_unique<discovery::DiscoveryManager>(
      loop_, file_config_->marathon, options_.self_app_id, reclaimer_,
      [this](std::shared_ptr<const conf::DiscoveredSpec> found) {
        onDiscovered(std::move(found));
      });
  auto started = discovery_->start();
  if (!started) {
    std::fprintf(stderr, "baton: discovery not started: %s\n", started.error().detail.c_str());
    report("{\"event\":\"discovery_failed\",\"error\":\"" + jsonEscape(started.error().detail) +
           "\"}");
    discovery_.reset();
  }
}

core::Result<void> Server::startAdmin() {
  const std::string& address = file_config_->admin.http_address;
  if (address.empty()) return {};
  admin_ = std::make_unique<AdminHttpServer>(loop_, static_cast<admin::AdminService&>(*this),
                                             file_config_->admin.token);
  auto started = admin_->start(address);
  if (!started) {
    admin_.reset();
    return core::fail(
        core::Error::config("admin HTTP listener " + address + ": " + started.error().detail));
  }
  return {};
}

core::Result<void> Server::startAdminSocket() {
  const conf::AdminSpec& spec = file_config_->admin;
  if (spec.socket_path.empty()) return {};
  admin::AdminSocketOptions options{spec.socket_path, spec.socket_mode, spec.socket_uids,
                                    spec.socket_gids};
  admin_socket_ = std::make_unique<admin::AdminSocketServer>(
      loop_, std::move(options),
      [this](std::string_view line, std::function<void(std::string)> done) {
        // Answer only once every worker serves what the command changed.
        admin::executeCommand(*this, line, [this, done](std::string answer) {
          whenApplied([done, answer = std::move(answer)] { done(answer); });
        });
      });
  auto started = admin_socket_->start();
  if (!started) {
    admin_socket_.reset();
    return core::fail(started.error());  // names admin.socket and the path
  }
  return {};
}

std::string Server::configText() {
  std::string out = "# baton generation " + std::to_string(snapshot_->generation) + "\n";
  if (discovery_) {
    const auto status = discovery_->status();
    out += "# marathon: " + status.source.current_url + ", " + std::to_string(status.apps) +
           " apps, " + std::to_string(status.tasks) + " tasks, last sync " +
           std::to_string(discovery_->stalenessMs()) + " ms ago" +
           (status.from_state_file ? " (from the state file)" : "") + "\n";
    for (const auto& issue : status.issues) {
      out += "# issue: " + issue.text() + "\n";
    }
  }
  for (const auto& issue : merge_issues_) {
    out += "# issue: " + issue.text() + "\n";
  }
  for (const auto& error : tls_->lastErrors()) out += "# tls: " + error + "\n";
  return out + describeRouting(*config_);
}

void Server::onSignal(int signo, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (signo == SIGHUP) {
    self->reloadFromSignal();
  } else if (signo == SIGUSR2) {
    self->upgrade("", [](const admin::CommandResult& result) {
      if (!result) {
        std::fprintf(stderr, "baton: SIGUSR2 upgrade: %s\n", result.error().message.c_str());
      }
    });
  } else {
    self->shutdown();
  }
}

core::Result<void> Server::publish(std::shared_ptr<const conf::ConfigSpec> file,
                                   std::shared_ptr<const conf::DiscoveredSpec> found,
                                   std::string event_name) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<conf::DiscoveryIssue> issues;
  auto next = found
                  ? std::make_shared<const conf::ConfigSpec>(mergeDiscovered(*file, *found, issues))
                  : file;
  auto contexts = tls_->contextsFor(*next, event_name == "reloaded");
  if (!contexts) return core::fail(std::move(contexts.error()));
  auto snapshot = buildSnapshot(next, snapshot_->generation + 1, base_snapshot_.get(),
                                worker_count_, std::move(*contexts));
  if (!snapshot) return core::fail(std::move(snapshot.error()));
  // Listeners last: opening sockets is the only step with side effects, and it undoes itself.
  std::vector<ListenerChanges> changes;
  auto listeners = planListeners(*next, changes, issues);
  if (!listeners) return core::fail(std::move(listeners.error()));
  tls_->commit();  // accepted: from here on the publish cannot be refused

  // Logged once, when it first appears. By a set: with thousands of service ports left out
  // (the descriptor budget) a scan per issue was quadratic, ~60 M instructions a publish.
  core::StringSet logged;
  logged.reserve(merge_issues_.size());
  for (const auto& issue : merge_issues_) logged.insert(issue.text());
  for (const auto& issue : issues) {
    std::string text = issue.text();
    if (!logged.contains(text)) std::fprintf(stderr, "baton: discovery: %s\n", text.c_str());
  }
  merge_issues_ = std::move(issues);
  // The replaced specs and snapshots (100,000 hosts each at Marathon scale) are freed on the
  // reclaimer's thread, after the workers have been sent the new snapshot: freeing them is not
  // on the way to serving it.
  auto old_discovered = std::exchange(discovered_, std::move(found));
  auto old_config = std::exchange(config_, std::move(next));
  file_config_ = std::move(file);
  auto old_base = std::exchange(base_snapshot_, std::move(*snapshot));
  auto old_served = std::exchange(
      snapshot_, overrides_.empty()
                     ? base_snapshot_
                     : applyOverrides(base_snapshot_, overrides_, base_snapshot_->generation));
  scheduleListenerRetry(*config_, *listeners);
  listeners_ = std::move(*listeners);
  bool listeners_changed = false;
  for (const auto& change : changes) {
    listeners_changed = listeners_changed || !change.add.empty() || !change.remove_fds.empty();
  }
  const double build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  sendToWorkers(std::move(changes), std::move(event_name), listeners_changed, build_ms);
  reclaimer_.dispose(std::tuple(std::move(old_discovered), std::move(old_config),
                                std::move(old_base), std::move(old_served)));
  return {};
}

std::chrono::milliseconds Server::listenerRetryDelay() const {
  // As often as the periodic Marathon resync, at most 30 s apart (publishing again rebuilds the
  // snapshot: not free at 10,000 apps, so not every second).
  return std::min(std::chrono::milliseconds(config_->marathon.resync_interval),
                  std::chrono::milliseconds(kListenerRetry));
}

void Server::scheduleListenerRetry(const conf::ConfigSpec& config,
                                   const std::vector<OpenListener>& planned) {
  retry_listeners_.clear();
  if (planned.size() < config.listeners.size()) {
    std::unordered_set<std::string_view> opened;
    opened.reserve(planned.size());
    for (const OpenListener& listener : planned) opened.insert(listener.spec->name);
    for (const conf::ListenerSpec& spec : config.listeners) {
      if (opened.contains(spec.name)) continue;
      retry_listeners_.push_back({spec.address, isServicePort(spec), 0});
    }
  }
  for (const OpenListener& listener : planned) {
    if (listener.per_worker.size() >= worker_count_) continue;
    retry_listeners_.push_back(
        {listener.bound, isServicePort(*listener.spec), listener.per_worker.size()});
  }
  if (retry_listeners_.empty()) {
    if (listener_retry_timer_) listener_retry_timer_->cancel();
    return;
  }
  if (!listener_retry_timer_) {
    listener_retry_timer_ = std::make_unique<core::Timer>(loop_, [this] { retryListeners(); });
  }
  if (!listener_retry_timer_->armed()) listener_retry_timer_->arm(listenerRetryDelay());
}

void Server::retryListeners() {
  if (shutting_down_) return;
  // During an upgrade of this process the socket list handed over is fixed: wait for the next.
  if (launcher_ || !listenerRetryMayOpen()) {
    listener_retry_timer_->arm(listenerRetryDelay());
    return;
  }
  republish("listeners");
}

bool Server::listenerRetryMayOpen() const {
  std::optional<ListenerFdBudget> budget;
  for (const RetryListener& listener : retry_listeners_) {
    if (listener.service_port) {
      if (!budget) {
        budget = listenerFdBudget(config_->limits.fd_reserve);
        budget->count(openDescriptorCount());
      }
      if (!budget->take(worker_count_ - listener.sockets)) continue;
    }
    auto parsed = parseListenAddress(listener.address);
    if (parsed && listenAddressBindable(parsed->first, parsed->second)) return true;
    if (listener.service_port) budget->refund(worker_count_ - listener.sockets);
  }
  return false;
}

// Certificate files changed on disk: the same publish as a reload, with the same inputs.
std::string Server::republish(std::string event_name) {
  if (shutting_down_ || !file_config_) return "baton is stopping";
  auto done = publish(file_config_, discovered_, std::move(event_name));
  if (!done) {
    core::logf(core::LogLevel::Error, "baton: %s", done.error().detail.c_str());
    return done.error().detail;
  }
  return {};
}

void Server::publishOverrides() {
  snapshot_ = applyOverrides(base_snapshot_, overrides_, snapshot_->generation + 1);
  sendToWorkers(std::vector<ListenerChanges>(worker_count_), "admin", false, 0);
}

// The snapshot as sent: a copy of `snapshot` carrying the pinned clusters' states as of now, and
// the pin timer armed for the next time-based change (a grace ending, a held flip).
SnapshotPtr Server::withPins(const SnapshotPtr& snapshot) {
  const int64_t now = core::unixNowMs();
  auto copy = std::make_shared<ProxySnapshot>(*snapshot);
  manifests_->refresh(copy->clusters, now);
  // The versions' counts, hence the CDN version and its flips, come from what Marathon (or the
  // file) says: the base snapshot, before operator overrides and this instance's own health
  // checks. Every baton instance then gives the CDN the same version (issue 10); a host this
  // instance will not use only changes its picks (the version's other hosts, its draining ones,
  // then any: availability first).
  copy->pins = pins_.update(base_snapshot_->clusters, copy->config->pinning, now,
                            [this](const std::string& cluster, const std::string& version) {
                              return manifests_->find(cluster, version);
                            });
  if (const auto due = pins_.nextDeadlineMs()) {
    pin_timer_->arm(std::chrono::milliseconds(std::max<int64_t>(*due - now, 1)));
  } else {
    pin_timer_->cancel();
  }
  return copy;
}

// A pinning deadline passed: the same snapshot with fresh pin states, as a new generation.
void Server::publishPins() {
  if (shutting_down_) return;
  auto next = std::make_shared<ProxySnapshot>(*snapshot_);
  next->generation = snapshot_->generation + 1;
  snapshot_ = std::move(next);
  sendToWorkers(std::vector<ListenerChanges>(worker_count_), "pinning", false, 0);
}

SnapshotPtr Server::withHealth(const SnapshotPtr& snapshot) {
  health_->sync(snapshot->clusters);
  auto clusters = health_->apply(snapshot->clusters);
  // Ejections after the verdicts: the detector's panic sees hosts unhealthy or ejected.
  outliers_.sync(clusters);
  clusters = outliers_.apply(clusters);
  armOutlierTimer();
  if (clusters == snapshot->clusters) return snapshot;
  auto copy = std::make_shared<ProxySnapshot>(*snapshot);
  copy->clusters = std::move(clusters);
  return copy;
}

void Server::requestHealthPublish() {
  if (health_publish_pending_) return;
  health_publish_pending_ = true;
  loop_.post([this] { publishHealth(); });
}

void Server::onOutlierReport(const health::OutlierReport& report) {
  if (shutting_down_) return;
  if (outliers_.onReport(report, health::OutlierDetector::Clock::now())) requestHealthPublish();
}

void Server::expireOutliers() {
  if (shutting_down_) return;
  if (outliers_.expire(health::OutlierDetector::Clock::now())) requestHealthPublish();
  armOutlierTimer();
}

void Server::armOutlierTimer() {
  const auto next = outliers_.nextExpiry();
  if (!next) {
    outlier_timer_->cancel();
    return;
  }
  const auto wait =
      std::chrono::ceil<std::chrono::milliseconds>(*next - health::OutlierDetector::Clock::now());
  outlier_timer_->arm(std::max(wait, std::chrono::milliseconds(1)));
}

void Server::publishHealth() {
  health_publish_pending_ = false;
  if (shutting_down_) return;
  snapshot_ = applyOverrides(base_snapshot_, overrides_, snapshot_->generation + 1);
  sendToWorkers(std::vector<ListenerChanges>(worker_count_), "health", false, 0);
}

void Server::sendToWorkers(std::vector<ListenerChanges> changes, std::string event_name,
                           bool listeners_changed, double build_ms) {
  snapshot_ = withPins(withHealth(snapshot_));
  const uint64_t generation = snapshot_->generation;
  pending_reports_.push_back(
      PendingReport{generation, std::move(event_name), listeners_changed, build_ms});
  for (uint32_t w = 0; w < worker_count_; ++w) {
    auto& worker = workers_[w];
    worker->reconfigure(snapshot_, std::move(changes[w]));
    // Acknowledge from the worker's thread once applied, so the report means every worker
    // serves the new snapshot for its next stream.
    worker->loop().post([this, w, generation] {
      loop_.post([this, w, generation] { onWorkerApplied(w, generation); });
    });
  }
}

void Server::reloadFromSignal() {
  if (shutting_down_) return;
  auto reloaded = reloadNow();
  if (!reloaded) reloadFailed(reloaded.error().detail);
}

core::Result<void> Server::reloadNow() {
  auto config = loadFileConfig(options_);
  if (!config) return core::fail(std::move(config.error()));
  auto next = *config;
  if (next->server.workers != file_config_->server.workers) {
    std::fprintf(stderr, "baton: [server] workers changed in %s: kept at %u until baton restarts\n",
                 options_.config_path.c_str(), worker_count_);
  }
  const bool marathon_changed = !(next->marathon == file_config_->marathon);
  // Discovered state is kept across a reload unless the Marathon settings changed (then the new
  // source starts from scratch).
  auto found = marathon_changed ? nullptr : discovered_;
  auto published = publish(next, found, "reloaded");
  if (!published) return published;
  ++reloads_;
  // A new token takes effect at once; the admin addresses and socket path need a restart.
  if (admin_) admin_->setToken(file_config_->admin.token);
  // The next connects (new and re-dialled ones, health probes) bind to the new source address;
  // pooled connections keep theirs until they close. Validated by the loader: cannot fail here.
  (void)core::setConnectSource(file_config_->upstream.source_address);
  if (marathon_changed) {
    startDiscovery();
  } else if (discovery_) {
    discovery_->resync();  // marathon-lb: SIGHUP = a full resync
  }
  return {};
}

void Server::onDiscovered(std::shared_ptr<const conf::DiscoveredSpec> found) {
  if (shutting_down_) return;
  // Upgrade: Marathon's first sync makes the new process live (the workers apply its snapshot
  // before they start accepting: posted in order). The persisted state does not count:
  // kFirstSyncWait serves it if Marathon is not reached in time.
  const bool first_sync = !live_ && !(discovery_ && discovery_->servingStateFile());
  // Most resyncs (periodic, the one on each stream attach, events about other apps' tasks)
  // change nothing: no new generation, no event. (The first sync often equals the persisted
  // state already published: live all the same.)
  if (discovered_ && *found == *discovered_) {
    if (first_sync) goLive();
    return;
  }
  auto published = publish(file_config_, std::move(found), "discovery");
  if (published) noteMarathonState();
  if (published && first_sync) goLive();
  if (!published) {
    std::fprintf(stderr, "baton: discovery update refused, keeping generation %llu: %s\n",
                 static_cast<unsigned long long>(snapshot_->generation),
                 published.error().detail.c_str());
    report(
        "{\"event\":\"discovery_failed\",\"generation\":" + std::to_string(snapshot_->generation) +
        ",\"error\":\"" + jsonEscape(published.error().detail) + "\"}");
  }
}

void Server::onWorkerApplied(uint32_t worker, uint64_t generation) {
  worker_applied_[worker] = std::max(worker_applied_[worker], generation);
  uint64_t everywhere = generation;
  for (uint64_t applied : worker_applied_) everywhere = std::min(everywhere, applied);
  while (!pending_reports_.empty() && pending_reports_.front().generation <= everywhere) {
    PendingReport done = std::move(pending_reports_.front());
    pending_reports_.pop_front();
    std::string extra;
    if (done.event_name == "reloaded") {
      std::fprintf(stderr, "baton: reloaded %s (generation %llu)\n", options_.config_path.c_str(),
                   static_cast<unsigned long long>(done.generation));
    } else if (done.event_name == "admin" || done.event_name == "health") {
      // Operator change, health verdict flip: the generation is the whole news.
    } else if (discovery_) {
      const auto status = discovery_->status();
      char timings[160];
      std::snprintf(timings, sizeof(timings),
                    ",\"parse_ms\":%.1f,\"translate_ms\":%.1f,\"build_ms\":%.1f",
                    status.last_parse_ms, status.last_translate_ms, done.build_ms);
      extra = ",\"apps\":" + std::to_string(status.apps) +
              ",\"tasks\":" + std::to_string(status.tasks) +
              ",\"issues\":" + std::to_string(status.issues.size() + merge_issues_.size()) +
              timings;
    }
    if (done.listeners_changed || done.event_name == "reloaded") {
      extra += ",\"listeners\":" + listenersJson();
    }
    report("{\"event\":\"" + done.event_name +
           "\",\"generation\":" + std::to_string(done.generation) + extra + "}");
  }
  while (!applied_waiters_.empty() && applied_waiters_.front().first <= everywhere) {
    auto then = std::move(applied_waiters_.front().second);
    applied_waiters_.pop_front();
    then();
  }
}

void Server::reloadFailed(const std::string& why) {
  ++reload_failures_;
  last_reload_error_ = why;
  std::fprintf(stderr, "baton: reload failed, keeping generation %llu: %s\n",
               static_cast<unsigned long long>(snapshot_->generation), why.c_str());
  report("{\"event\":\"reload_failed\",\"generation\":" + std::to_string(snapshot_->generation) +
         ",\"error\":\"" + jsonEscape(why) + "\"}");
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  discovery_.reset();
  health_->stop();
  outlier_timer_->cancel();
  // Nobody will acknowledge anything any more: answer the waiting admin commands first.
  while (!applied_waiters_.empty()) {
    auto then = std::move(applied_waiters_.front().second);
    applied_waiters_.pop_front();
    then();
  }
  launcher_.reset();  // an upgrade under way is abandoned (the child is killed)
  for (auto& waiter : std::exchange(upgrade_waiters_, {})) {
    waiter(admin::commandError("failed", "baton is stopping"));
  }
  // After an upgrade the socket file is the new process's; this session list (the `upgrade`
  // command's own session among it) stays until the loop ends.
  if (!upgraded_away_) admin_socket_.reset();
  admin_.reset();
  std::fprintf(stderr, "baton: draining (up to %lld ms)\n",
               static_cast<long long>(config_->timeouts.drain.count()));
  for (auto& worker : workers_) {
    worker->drain([this] { loop_.post([this] { onWorkerStopped(); }); });
  }
}

void Server::onWorkerStopped() {
  if (++workers_stopped_ == workers_.size()) loop_.stop();
}

void Server::report(const std::string& json_line) {
  if (options_.ready_fd < 0) return;
  std::string line = json_line + "\n";
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(options_.ready_fd, data, left);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // reader went away: reporting is best effort
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

// ---- AdminService: the admin socket's and the dashboard's view of the server ----------------

namespace {}  // namespace

void Server::gatherReports(std::function<void(std::vector<WorkerReport>)> done) {
  if (shutting_down_ || workers_.empty()) {
    done({});  // drained workers never answer
    return;
  }
  struct Gather {
    std::vector<WorkerReport> reports;
    size_t waiting;
    std::function<void(std::vector<WorkerReport>)> done;
  };
  auto gather = std::make_shared<Gather>(Gather{{}, workers_.size(), std::move(done)});
  for (auto& worker : workers_) {
    worker->collectStats(loop_, [gather](WorkerReport report) {
      gather->reports.push_back(std::move(report));
      if (--gather->waiting == 0) gather->done(std::move(gather->reports));
    });
  }
}

void Server::noteMarathonState() {
  // A state read back from the state file is as old as the file: 0 keeps it from ever being
  // taken as the freshest instance's (proxy/peers/lag.h).
  const bool from_disk = discovery_ && discovery_->servingStateFile();
  const int64_t published = from_disk ? 0 : core::unixNowMs();
  // One digest at a time, applied in publish order: the previous one is long done by now (a
  // resync takes longer than hashing it).
  if (digest_worker_.joinable()) digest_worker_.join();
  digest_worker_ = std::jthread([this, spec = discovered_, published] {
    core::enterBackgroundThread();
    std::string digest = spec ? peers::marathonStateDigest(*spec) : std::string();
    loop_.post([this, digest = std::move(digest), published]() mutable {
      applyMarathonState(std::move(digest), published);
    });
  });
}

void Server::applyMarathonState(std::string digest, int64_t published_unix_ms) {
  if (digest == marathon_state_) return;
  marathon_state_ = std::move(digest);
  marathon_state_since_unix_ms_ = published_unix_ms;
}

admin::InstanceFacts Server::instanceFacts() {
  admin::InstanceFacts facts;
  facts.instance_id = thisInstance().id;
  facts.task_id = thisInstance().task_id;
  facts.version = BATON_VERSION;
  facts.pid = getpid();
  facts.generation = snapshot_->generation;
  facts.marathon_state = marathon_state_;
  facts.marathon_state_since_unix_ms = marathon_state_since_unix_ms_;
  facts.marathon_sync_age_ms = discovery_ ? discovery_->stalenessMs() : -1;
  facts.now_unix_ms = core::unixNowMs();
  return facts;
}

void Server::fillProcessStatus(admin::EdgeStatus& status) const {
  status.version = BATON_VERSION;
  status.instance_id = thisInstance().id;
  status.task_id = thisInstance().task_id;
  status.marathon_state = marathon_state_;
  status.marathon_state_since_unix_ms = marathon_state_since_unix_ms_;
  if (peers_) status.instances = peers_->view();
  status.pid = getpid();
  status.started_unix_ms = started_unix_ms_;
  status.now_unix_ms = core::unixNowMs();
  status.workers = worker_count_;
  status.generation = snapshot_->generation;
  status.reloads = reloads_;
  status.reload_failures = reload_failures_;
  status.last_reload_error = last_reload_error_;
  status.log_level = std::string(core::logLevelName(core::logLevel()));
  status.open_connections = Worker::processConnections();
  status.buffered_bytes = Worker::processBufferedBytes();
  status.max_connections_total = snapshot_->config->limits.max_connections_total;
  status.buffer_budget = snapshot_->config->limits.buffer_budget;
  if (discovery_) {
    const auto d = discovery_->status();
    status.discovery.enabled = true;
    status.discovery.url = d.source.current_url;
    status.discovery.apps = d.apps;
    status.discovery.tasks = d.tasks;
    status.discovery.sync_age_ms = discovery_->stalenessMs();
    status.discovery.documents_applied = d.documents_applied;
    status.discovery.documents_refused = d.documents_refused;
    status.discovery.starved_resyncs = d.starved_resyncs;
    status.discovery.last_refusal = d.last_refusal;
    status.discovery.from_state_file = d.from_state_file;
    status.discovery.holding = d.holding;
    for (const auto& issue : d.issues) status.discovery.issues.push_back(issue.text());
  }
  for (const auto& issue : merge_issues_) status.discovery.issues.push_back(issue.text());
  for (const auto& cert : tls_->certificates()) {
    status.certificates.push_back(admin::CertificateView{
        cert.origin, cert.where, cert.cert_file, cert.names,
        std::chrono::duration_cast<std::chrono::seconds>(cert.not_after.time_since_epoch()).count(),
        cert.serving, cert.is_default, cert.expired, cert.last_error, cert.ocsp});
  }
  if (discovered_) {
    for (const auto& g : discovered_->groups) {
      status.groups.push_back(admin::DeploymentGroupStatus{
          g, !g.old_app.empty() && g.old_tasks > 0 && g.new_tasks > 0, {}});
    }
  }
  addPinStatus(*snapshot_, status.groups);
}

void Server::status(std::function<void(admin::EdgeStatus)> done) {
  gatherReports([this, done = std::move(done)](std::vector<WorkerReport> reports) {
    admin::EdgeStatus status;
    fillProcessStatus(status);
    std::vector<BoundListener> bound;
    bound.reserve(listeners_.size());
    for (const auto& listener : listeners_) bound.push_back({listener.spec.get(), listener.bound});
    fillEdgeStatus(*snapshot_, overrides_, bound, reports, status);
    health_->fillStatus(std::move(status), [this, done](admin::EdgeStatus status) {
      outliers_.fillStatus(status, health::OutlierDetector::Clock::now());
      done(std::move(status));
    });
  });
}

const upstream::Cluster* Server::findCluster(std::string_view name) const {
  for (const auto& cluster : snapshot_->clusters) {
    if (cluster->name() == name) return cluster.get();
  }
  return nullptr;
}

std::expected<std::pair<std::string, std::string>, admin::CommandError> Server::resolveHost(
    std::string_view cluster, std::string_view host) const {
  const upstream::Cluster* found = findCluster(cluster);
  if (found == nullptr) {
    return std::unexpected(admin::CommandError{"notfound", "no cluster " + std::string(cluster)});
  }
  for (const upstream::Host& h : found->hosts()) {
    if (h.name == host || h.address == host) return std::pair{found->name(), std::string(h.name)};
  }
  return std::unexpected(admin::CommandError{
      "notfound", "no host " + std::string(host) + " in cluster " + std::string(cluster)});
}

admin::CommandResult Server::setHostState(std::string_view cluster, std::string_view host,
                                          upstream::AdminState state) {
  auto resolved = resolveHost(cluster, host);
  if (!resolved) return std::unexpected(resolved.error());
  const auto& [cluster_name, host_name] = *resolved;
  if (overrides_.setHostState(cluster_name, host_name, state)) publishOverrides();
  const std::string word(admin::adminStateName(state));
  core::logf(core::LogLevel::Info, "admin: host %s/%s set to %s (generation %llu)",
             cluster_name.c_str(), host_name.c_str(), word.c_str(),
             static_cast<unsigned long long>(snapshot_->generation));
  return "host " + cluster_name + "/" + host_name + " set to " + word;
}

admin::CommandResult Server::setClusterState(std::string_view cluster, upstream::AdminState state) {
  const upstream::Cluster* found = findCluster(cluster);
  if (found == nullptr) {
    return admin::commandError("notfound", "no cluster " + std::string(cluster));
  }
  const std::string name = found->name();
  if (overrides_.setClusterState(name, state)) publishOverrides();
  const std::string word(admin::adminStateName(state));
  core::logf(core::LogLevel::Info, "admin: cluster %s set to %s (generation %llu)", name.c_str(),
             word.c_str(), static_cast<unsigned long long>(snapshot_->generation));
  return "cluster " + name + " set to " + word;
}

admin::CommandResult Server::setHostWeight(std::string_view cluster, std::string_view host,
                                           uint32_t weight) {
  if (weight < 1 || weight > 256) {
    return admin::commandError("invalid", "weight must be 1..256 (use drain to stop traffic)");
  }
  auto resolved = resolveHost(cluster, host);
  if (!resolved) return std::unexpected(resolved.error());
  const auto& [cluster_name, host_name] = *resolved;
  if (overrides_.setHostWeight(cluster_name, host_name, weight)) publishOverrides();
  core::logf(core::LogLevel::Info, "admin: host %s/%s weight set to %u", cluster_name.c_str(),
             host_name.c_str(), weight);
  return "host " + cluster_name + "/" + host_name + " weight set to " + std::to_string(weight);
}

void Server::waitHostIdle(std::string_view cluster, std::string_view host,
                          std::chrono::milliseconds timeout,
                          std::function<void(admin::CommandResult)> done) {
  auto resolved = resolveHost(cluster, host);
  if (!resolved) {
    done(std::unexpected(resolved.error()));
    return;
  }
  // Polls the workers' counters (every 100 ms) until the host has nothing in flight anywhere.
  struct Wait {
    std::string cluster;
    std::string host;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(admin::CommandResult)> done;
    std::unique_ptr<core::Timer> timer;
    uint64_t last_in_flight = 0;
  };
  auto wait = std::make_shared<Wait>();
  wait->cluster = resolved->first;
  wait->host = resolved->second;
  wait->deadline = std::chrono::steady_clock::now() + timeout;
  wait->done = std::move(done);
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, wait] {
    gatherReports([this, wait](std::vector<WorkerReport> reports) {
      uint64_t in_flight = 0;
      for (const auto& report : reports) {
        for (const auto& c : report.clusters) {
          if (c.name != wait->cluster) continue;
          for (const auto& h : c.hosts) {
            if (h.name == wait->host) in_flight += h.in_flight;
          }
        }
      }
      wait->last_in_flight = in_flight;
      // Breaks the wait -> timer -> check -> wait cycle, outside any of their callbacks.
      auto finish = [this, wait] { loop_.post([wait] { wait->timer.reset(); }); };
      if (in_flight == 0 || shutting_down_) {
        finish();
        wait->done("host " + wait->cluster + "/" + wait->host + " has nothing in flight");
        return;
      }
      if (std::chrono::steady_clock::now() >= wait->deadline) {
        finish();
        wait->done(admin::commandError("timeout", "host " + wait->cluster + "/" + wait->host +
                                                      " still has " + std::to_string(in_flight) +
                                                      " in flight"));
        return;
      }
      wait->timer->arm(std::chrono::milliseconds(100));
    });
  };
  // The timer owns the check; the check holds the wait; the wait owns the timer until done.
  wait->timer = std::make_unique<core::Timer>(loop_, [check] { (*check)(); });
  (*check)();
}

admin::CommandResult Server::reload() {
  if (shutting_down_) return admin::commandError("failed", "baton is stopping");
  auto reloaded = reloadNow();
  if (!reloaded) {
    reloadFailed(reloaded.error().detail);
    return admin::commandError("failed", reloaded.error().detail);
  }
  return "reloaded (generation " + std::to_string(snapshot_->generation) + ")";
}

void Server::resync() {
  if (discovery_) discovery_->resync();
}

admin::CommandResult Server::reloadCertificates() {
  if (shutting_down_) return admin::commandError("failed", "baton is stopping");
  if (!tls_->active()) return admin::commandError("failed", "no listener uses TLS");
  // The new contexts reach the workers through one publish; if it is refused, say so (the
  // contexts then go out with the next publish that succeeds).
  if (std::string refused = tls_->reloadFiles(); !refused.empty()) {
    return admin::commandError("failed", "not published: " + refused);
  }
  size_t serving = 0;
  for (const auto& cert : tls_->certificates()) serving += cert.serving ? 1 : 0;
  const size_t failed = tls_->lastErrors().size();
  std::string answer = "certificates reloaded: " + std::to_string(serving) + " served";
  if (failed > 0) answer += ", " + std::to_string(failed) + " failed (see show certs and the log)";
  return answer;
}

admin::CommandResult Server::setLogLevel(std::string_view level) {
  auto parsed = core::parseLogLevel(level);
  if (!parsed) {
    return admin::commandError("invalid", "log level must be error, warn, info or debug");
  }
  core::setLogLevel(*parsed);
  return "log level set to " + std::string(core::logLevelName(*parsed));
}

admin::CommandResult Server::setGroupCdnVersion(std::string_view group, std::string_view id) {
  if (auto refused = pins_.setCdnVersion(group, id))
    return admin::commandError("notfound", *refused);
  publishPins();
  return "group " + std::string(group) + ": CDN version " + std::string(id);
}

void Server::whenApplied(std::function<void()> then) {
  const uint64_t latest = snapshot_->generation;
  uint64_t everywhere = latest;
  for (uint64_t applied : worker_applied_) everywhere = std::min(everywhere, applied);
  if (everywhere >= latest || shutting_down_ || workers_.empty()) {
    then();
    return;
  }
  applied_waiters_.emplace_back(latest, std::move(then));
}

// ---- Binary upgrade --------------------------------------------------------------------------

std::vector<upgrade::SocketRecord> Server::socketsToHand() const {
  std::vector<upgrade::SocketRecord> out;
  for (const auto& listener : listeners_) {
    for (size_t i = 0; i < listener.per_worker.size(); ++i) {
      out.push_back(upgrade::SocketRecord{listener.spec->name, listener.spec->address,
                                          listener.bound, static_cast<uint32_t>(i),
                                          listener.per_worker[i].fd});
    }
  }
  return out;
}

void Server::upgrade(std::string_view binary, std::function<void(admin::CommandResult)> done) {
  if (shutting_down_) return done(admin::commandError("failed", "baton is stopping"));
  if (!live_) {
    return done(admin::commandError("failed", "this process is still taking over from the last"));
  }
  if (launcher_) {  // one upgrade at a time: a second request waits for the same outcome
    upgrade_waiters_.push_back(std::move(done));
    return;
  }
  upgrade::LaunchSpec spec;
  spec.binary = binary.empty() ? options_.binary : std::string(binary);
  spec.args = options_.args;
  spec.keep_fds = {options_.ready_fd};
  spec.ready_deadline = kUpgradeReadyDeadline;
  upgrade::UpgradeLauncher::Callbacks callbacks;
  // Posted: the launcher is destroyed by what follows, not from inside its own callback.
  callbacks.on_ready = [this](pid_t pid) { loop_.post([this, pid] { onUpgradeReady(pid); }); };
  callbacks.on_failed = [this](std::string why) {
    loop_.post([this, why = std::move(why)] { onUpgradeFailed(why); });
  };
  std::fprintf(stderr, "baton: upgrade: starting %s\n", spec.binary.c_str());
  auto launched =
      upgrade::UpgradeLauncher::start(loop_, spec, socketsToHand(), overrides_.serialize(),
                                      upgrade_generation_ + 1, std::move(callbacks));
  upgrade_waiters_.push_back(std::move(done));
  if (!launched) {
    onUpgradeFailed(launched.error().detail);
    return;
  }
  launcher_ = std::move(*launched);
}

void Server::onUpgradeReady(pid_t pid) {
  if (!launcher_ || shutting_down_) return;
  // Let go of the admin endpoints for the new process: the HTTP listener closes; the socket
  // file goes (this process's sessions, the asking one included, stay until it exits).
  admin_.reset();
  if (admin_socket_) ::unlink(file_config_->admin.socket_path.c_str());
  launcher_->go();
  launcher_.reset();
  std::fprintf(stderr, "baton: upgrade: pid %d serves; draining\n", static_cast<int>(pid));
  report("{\"event\":\"handed_over\",\"pid\":" + std::to_string(getpid()) +
         ",\"new_pid\":" + std::to_string(pid) + "}");
  finishUpgrade("upgraded: pid " + std::to_string(pid) + " serves (upgrade generation " +
                std::to_string(upgrade_generation_ + 1) + "), pid " + std::to_string(getpid()) +
                " drains");
  upgraded_away_ = true;
  shutdown();
}

void Server::onUpgradeFailed(const std::string& why) {
  launcher_.reset();
  std::fprintf(stderr, "baton: upgrade failed, this process keeps serving: %s\n", why.c_str());
  report("{\"event\":\"upgrade_failed\",\"pid\":" + std::to_string(getpid()) + ",\"error\":\"" +
         jsonEscape(why) + "\"}");
  finishUpgrade(admin::commandError("failed", why));
}

void Server::finishUpgrade(const admin::CommandResult& result) {
  for (auto& waiter : std::exchange(upgrade_waiters_, {})) waiter(result);
}

void Server::goLive() {
  if (live_) return;
  live_ = true;
  live_timer_->cancel();
  // Sockets of listeners this config does not have (or discovery has not brought back).
  if (const size_t dropped = inherited_.closeAll(); dropped > 0) {
    std::fprintf(stderr, "baton: upgrade: closed %zu inherited socket(s) no listener uses\n",
                 dropped);
  }
  for (auto& worker : workers_) worker->startAccepting();
  auto sent = upgrade::sendFrame(options_.upgrade_fd, upgrade::kReady, std::to_string(getpid()));
  if (!sent) {
    // The old process is gone: nobody holds the admin endpoints any more.
    std::fprintf(stderr, "baton: upgrade: %s\n", sent.error().detail.c_str());
    onGo();
    return;
  }
  go_watcher_ = std::make_unique<upgrade::FrameWatcher>(
      loop_, options_.upgrade_fd,
      // Any outcome (go, EOF: the old one died) means the admin endpoints are free.
      [this](core::Result<upgrade::Frame>) { loop_.post([this] { onGo(); }); });
}

void Server::onGo() {
  if (options_.upgrade_fd < 0) return;
  go_watcher_.reset();
  ::close(options_.upgrade_fd);
  options_.upgrade_fd = -1;
  if (auto started = startAdmin(); !started) {
    std::fprintf(stderr, "baton: upgrade: %s\n", started.error().detail.c_str());
  }
  if (auto started = startAdminSocket(); !started) {
    std::fprintf(stderr, "baton: upgrade: %s\n", started.error().detail.c_str());
  }
  std::fprintf(stderr, "baton: upgrade: pid %d serves (upgrade generation %llu)\n",
               static_cast<int>(getpid()), static_cast<unsigned long long>(upgrade_generation_));
  report("{\"event\":\"upgraded\",\"generation\":" + std::to_string(snapshot_->generation) +
         ",\"pid\":" + std::to_string(getpid()) +
         ",\"upgrade_generation\":" + std::to_string(upgrade_generation_) +
         ",\"workers\":" + std::to_string(worker_count_) + ",\"listeners\":" + listenersJson() +
         (admin_ ? ",\"admin\":\"" + admin_->boundAddress() + "\"" : std::string()) + "}");
  upgrade::notifySystemd("MAINPID=" + std::to_string(getpid()) + "\nREADY=1");
}

}  // namespace baton::proxy
