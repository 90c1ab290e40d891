#include "proxy/server.h"

#include <event2/event.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

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

uint32_t defaultWorkers() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// Listener changes would need sockets opened and closed under traffic; until baton supports
// that, a reload that changes them is refused as a whole (nothing half-applied).
std::optional<std::string> listenerChange(const conf::ConfigSpec& running,
                                          const conf::ConfigSpec& next) {
  if (running.listeners.size() != next.listeners.size()) {
    return "listeners changed (added or removed): restart baton to apply";
  }
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    const auto& a = running.listeners[i];
    const auto& b = next.listeners[i];
    if (a.name != b.name || a.address != b.address || a.raw_bytes != b.raw_bytes) {
      return b.loc.file + ":" + std::to_string(b.loc.line) + ": listener[" + std::to_string(i) +
             "]: listener \"" + b.name + "\" changed: restart baton to apply";
    }
  }
  return std::nullopt;
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

  if (auto opened = server->openListeners(); !opened) return core::fail(std::move(opened.error()));
  return server;
}

core::Result<void> Server::openListeners() {
  listener_fds_.assign(worker_count_, {});
  for (const auto& listener : config_->listeners) {
    auto parsed = parseListenAddress(listener.address);
    if (!parsed) {
      return core::fail(core::Error::config(listener.loc.file + ":" +
                                            std::to_string(listener.loc.line) + ": listener." +
                                            listener.name + ".address: " + parsed.error().detail));
    }
    auto [addr, len] = *parsed;
    uint16_t port = 0;
    for (uint32_t w = 0; w < worker_count_; ++w) {
      auto fd = openListenSocket(addr, len);
      if (!fd) {
        return core::fail(core::Error::config("listener \"" + listener.name + "\" (" +
                                              listener.address + "): " + fd.error().detail));
      }
      if (w == 0) {
        // Port 0: the kernel picked one for the first socket; every other worker binds it too.
        std::string bound = boundAddress(*fd, &port);
        listener_addresses_.push_back(bound);
        if (addr.ss_family == AF_INET6) {
          reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
        } else {
          reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
        }
      }
      listener_fds_[w].push_back(WorkerListener{*fd, listener.name, port, listener.raw_bytes});
    }
  }
  return {};
}

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  for (int signo : {SIGHUP, SIGTERM, SIGINT}) {
    event* ev = evsignal_new(loop_.base(), signo, &Server::onSignal, this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }
  for (uint32_t w = 0; w < worker_count_; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, std::move(listener_fds_[w]), snapshot_));
  }
  for (auto& worker : workers_) worker->start();

  std::string listeners;
  for (size_t i = 0; i < config_->listeners.size(); ++i) {
    if (i != 0) listeners += ",";
    listeners +=
        "\"" + jsonEscape(config_->listeners[i].name) + "\":\"" + listener_addresses_[i] + "\"";
  }
  std::fprintf(stderr, "baton: serving with %u worker(s)", worker_count_);
  for (size_t i = 0; i < config_->listeners.size(); ++i) {
    std::fprintf(stderr, ", listener %s on %s", config_->listeners[i].name.c_str(),
                 listener_addresses_[i].c_str());
  }
  std::fprintf(stderr, "\n");
  report("{\"event\":\"ready\",\"generation\":1,\"pid\":" + std::to_string(getpid()) +
         ",\"workers\":" + std::to_string(worker_count_) + ",\"listeners\":{" + listeners + "}}");

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
  if (auto change = listenerChange(*config_, *next)) {
    reloadFailed(*change);
    return;
  }
  auto snapshot = buildSnapshot(next, snapshot_->generation + 1, snapshot_.get(), worker_count_);
  if (!snapshot) {
    reloadFailed(snapshot.error().detail);
    return;
  }
  config_ = std::move(next);
  snapshot_ = std::move(*snapshot);
  const uint64_t generation = snapshot_->generation;
  pending_acks_ = worker_count_;
  for (auto& worker : workers_) {
    worker->setSnapshot(snapshot_);
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
  report("{\"event\":\"reloaded\",\"generation\":" + std::to_string(generation) + "}");
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
