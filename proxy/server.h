// The process: the control thread's loop (signals, reload), the listening sockets and the
// workers. Reload is all-or-nothing: load the file, validate, build a complete snapshot, then
// post it to every worker; on any error the running snapshot stays and the error is reported.
//
// Created and run on the main thread, which becomes the control thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

struct event;

namespace baton::proxy {

struct ServerOptions {
  std::string config_path;
  std::optional<uint32_t> workers;  // --workers overrides [server] workers
  int ready_fd = -1;                // JSON lines: ready / reloaded / reload_failed / stopped
};

class Server {
 public:
  // Loads the config, opens every listener (reporting the real port for port 0) and builds the
  // first snapshot. Errors name file:line:key or the listener that could not be opened.
  static core::Result<std::unique_ptr<Server>> create(const ServerOptions& options);
  ~Server();

  // Starts the workers and runs the control loop until SIGTERM/SIGINT and the drain complete.
  // Returns the process exit code.
  int run();

 private:
  explicit Server(ServerOptions options);
  // One configured listener: a socket per worker on the same address (SO_REUSEPORT).
  struct OpenListener {
    conf::ListenerSpec spec;
    std::string bound;  // "ip:port" actually bound (port 0 resolved)
    std::vector<WorkerListener> per_worker;
  };
  core::Result<OpenListener> openListener(const conf::ListenerSpec& spec);
  static void closeSockets(const OpenListener& listener);
  std::string listenersJson() const;
  // Diffs the running listeners against `next`: opens added ones (all or nothing), and fills
  // per-worker changes. On error nothing is left open and the running set is untouched.
  core::Result<std::vector<OpenListener>> planListeners(const conf::ConfigSpec& next,
                                                        std::vector<ListenerChanges>& changes);
  void reload();
  void reloadFailed(const std::string& why);
  void shutdown();
  void onWorkerStopped();
  void onWorkerApplied(uint64_t generation);
  void report(const std::string& json_line);
  static void onSignal(int signo, short what, void* arg);

  ServerOptions options_;
  uint32_t worker_count_ = 1;
  std::shared_ptr<const conf::ConfigSpec> config_;
  SnapshotPtr snapshot_;
  core::EventLoop loop_;
  std::vector<OpenListener> listeners_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<event*> signal_events_;
  uint32_t workers_stopped_ = 0;
  uint32_t pending_acks_ = 0;
  bool shutting_down_ = false;
};

}  // namespace baton::proxy
