#include "proxy/server.h"

#include <event2/event.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include "conf/loader.h"
#include "proxy/listen_socket.h"

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

WorkerListener workerListener(const conf::ListenerSpec& spec, int fd, uint16_t port) {
  return WorkerListener{fd,
                        spec.name,
                        port,
                        spec.raw_bytes,
                        spec.kind,
                        spec.route_by,
                        spec.route_scope,
                        spec.tcp_cluster};
}

// Settings a running socket can take in place (everything but the address).
bool sameSettings(const conf::ListenerSpec& a, const conf::ListenerSpec& b) {
  return a.raw_bytes == b.raw_bytes && a.kind == b.kind && a.route_by == b.route_by &&
         a.route_scope == b.route_scope && a.tcp_cluster == b.tcp_cluster;
}

uint32_t defaultWorkers() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  for (event* ev : signal_events_) event_free(ev);
  workers_.clear();
}

core::Result<std::unique_ptr<Server>> Server::create(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server(options));
  auto config = conf::loadConfigFile(options.config_path);
  if (!config) return core::fail(std::move(config.error()));
  server->config_ = std::make_shared<const conf::ConfigSpec>(std::move(*config));
  const auto& spec = *server->config_;
  server->worker_count_ = options.workers.value_or(spec.server.workers);
  if (server->worker_count_ == 0) server->worker_count_ = defaultWorkers();

  auto snapshot = buildSnapshot(server->config_, 1, nullptr, server->worker_count_);
  if (!snapshot) return core::fail(std::move(snapshot.error()));
  server->snapshot_ = std::move(*snapshot);

  for (const auto& spec : server->config_->listeners) {
    auto listener = server->openListener(spec);
    if (!listener) return core::fail(std::move(listener.error()));
    server->listeners_.push_back(std::move(*listener));
  }
  return server;
}

core::Result<Server::OpenListener> Server::openListener(const conf::ListenerSpec& spec) {
  auto parsed = parseListenAddress(spec.address);
  if (!parsed) {
    return core::fail(core::Error::config(spec.loc.file + ":" + std::to_string(spec.loc.line) +
                                          ": listener." + spec.name +
                                          ".address: " + parsed.error().detail));
  }
  auto [addr, len] = *parsed;
  OpenListener out{spec, {}, {}};
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
    out.per_worker.push_back(workerListener(spec, *fd, port));
  }
  return out;
}

void Server::closeSockets(const OpenListener& listener) {
  for (const auto& socket : listener.per_worker) ::close(socket.fd);
}

std::string Server::listenersJson() const {
  std::string out = "{";
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (i != 0) out += ",";
    out += "\"" + jsonEscape(listeners_[i].spec.name) + "\":\"" + listeners_[i].bound + "\"";
  }
  return out + "}";
}

core::Result<std::vector<Server::OpenListener>> Server::planListeners(
    const conf::ConfigSpec& next, std::vector<ListenerChanges>& changes) {
  changes.assign(worker_count_, {});
  // Running listeners by (name, address): discovery may bring thousands (one per service port).
  std::unordered_map<std::string, size_t> running;
  running.reserve(listeners_.size());
  for (size_t i = 0; i < listeners_.size(); ++i) {
    running.emplace(listeners_[i].spec.name + '\n' + listeners_[i].spec.address, i);
  }
  std::vector<OpenListener> planned;
  std::vector<OpenListener> opened;  // new sockets: closed again if anything fails
  std::vector<bool> kept(listeners_.size(), false);
  for (const auto& spec : next.listeners) {
    auto found = running.find(spec.name + '\n' + spec.address);
    if (found != running.end() && !kept[found->second]) {
      // Same socket; only its settings may change, in place (no socket is closed).
      const OpenListener& current = listeners_[found->second];
      kept[found->second] = true;
      OpenListener same{spec, current.bound, {}};
      for (uint32_t w = 0; w < worker_count_; ++w) {
        const WorkerListener& old = current.per_worker[w];
        same.per_worker.push_back(workerListener(spec, old.fd, old.port));
        if (!sameSettings(spec, current.spec)) changes[w].update.push_back(same.per_worker[w]);
      }
      planned.push_back(std::move(same));
      continue;
    }
    auto fresh = openListener(spec);
    if (!fresh) {
      for (const auto& listener : opened) closeSockets(listener);
      return core::fail(std::move(fresh.error()));
    }
    for (uint32_t w = 0; w < worker_count_; ++w) changes[w].add.push_back(fresh->per_worker[w]);
    opened.push_back(*fresh);
    planned.push_back(std::move(*fresh));
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (kept[i]) continue;
    for (uint32_t w = 0; w < worker_count_; ++w) {
      changes[w].remove_fds.push_back(listeners_[i].per_worker[w].fd);
    }
  }
  return planned;
}

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  for (int signo : {SIGHUP, SIGTERM, SIGINT}) {
    event* ev = evsignal_new(loop_.base(), signo, &Server::onSignal, this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }
  for (uint32_t w = 0; w < worker_count_; ++w) {
    std::vector<WorkerListener> sockets;
    for (const auto& listener : listeners_) sockets.push_back(listener.per_worker[w]);
    workers_.push_back(std::make_unique<Worker>(w, std::move(sockets), snapshot_));
  }
  for (auto& worker : workers_) worker->start();

  std::fprintf(stderr, "baton: serving with %u worker(s)", worker_count_);
  for (const auto& listener : listeners_) {
    std::fprintf(stderr, ", listener %s on %s", listener.spec.name.c_str(), listener.bound.c_str());
  }
  std::fprintf(stderr, "\n");
  report("{\"event\":\"ready\",\"generation\":1,\"pid\":" + std::to_string(getpid()) +
         ",\"workers\":" + std::to_string(worker_count_) + ",\"listeners\":" + listenersJson() +
         "}");

  loop_.run();
  for (auto& worker : workers_) worker->join();
  report("{\"event\":\"stopped\"}");
  return 0;
}

void Server::onSignal(int signo, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (signo == SIGHUP) {
    self->reload();
  } else {
    self->shutdown();
  }
}

void Server::reload() {
  if (shutting_down_) return;
  auto config = conf::loadConfigFile(options_.config_path);
  if (!config) {
    reloadFailed(config.error().detail);
    return;
  }
  auto next = std::make_shared<const conf::ConfigSpec>(std::move(*config));
  auto snapshot = buildSnapshot(next, snapshot_->generation + 1, snapshot_.get(), worker_count_);
  if (!snapshot) {
    reloadFailed(snapshot.error().detail);
    return;
  }
  // Listeners last: opening sockets is the only step with side effects, and it undoes itself.
  std::vector<ListenerChanges> changes;
  auto listeners = planListeners(*next, changes);
  if (!listeners) {
    reloadFailed(listeners.error().detail);
    return;
  }
  if (next->server.workers != config_->server.workers) {
    std::fprintf(stderr, "baton: [server] workers changed in %s: kept at %u until baton restarts\n",
                 options_.config_path.c_str(), worker_count_);
  }
  config_ = std::move(next);
  snapshot_ = std::move(*snapshot);
  listeners_ = std::move(*listeners);
  const uint64_t generation = snapshot_->generation;
  pending_acks_ = worker_count_;
  for (uint32_t w = 0; w < worker_count_; ++w) {
    auto& worker = workers_[w];
    worker->reconfigure(snapshot_, std::move(changes[w]));
    // Acknowledge from the worker's thread once applied, so "reloaded" means every worker
    // serves the new snapshot for its next stream.
    worker->loop().post(
        [this, generation] { loop_.post([this, generation] { onWorkerApplied(generation); }); });
  }
}

void Server::onWorkerApplied(uint64_t generation) {
  if (pending_acks_ == 0 || --pending_acks_ != 0) return;
  std::fprintf(stderr, "baton: reloaded %s (generation %llu)\n", options_.config_path.c_str(),
               static_cast<unsigned long long>(generation));
  report("{\"event\":\"reloaded\",\"generation\":" + std::to_string(generation) +
         ",\"listeners\":" + listenersJson() + "}");
}

void Server::reloadFailed(const std::string& why) {
  std::fprintf(stderr, "baton: reload failed, keeping generation %llu: %s\n",
               static_cast<unsigned long long>(snapshot_->generation), why.c_str());
  report("{\"event\":\"reload_failed\",\"generation\":" + std::to_string(snapshot_->generation) +
         ",\"error\":\"" + jsonEscape(why) + "\"}");
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
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

}  // namespace baton::proxy
