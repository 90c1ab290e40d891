// Zero-downtime binary upgrade: the old process hands its listening sockets, and what an operator
// set, to a new process it starts from the (possibly replaced) binary, as HAProxy's `-x` and
// Envoy's hot restart do. The sequence (README "Upgrading the binary"):
//
//   old                                        new (fork + exec, `--upgrade-fd N`)
//   'L' frames: listeners + their fds    ->    takes the sockets instead of binding them
//   'O' frame: operator overrides        ->    applies them to its first snapshot
//   'E' frame: upgrade generation        ->    loads config, first Marathon sync (bounded),
//                                              workers start accepting on the SAME sockets
//                                        <-    'R' ready (its pid)   or 'F' failed (its error)
//   closes its admin listeners, sends 'G' ->    opens the admin listeners, reports "upgraded"
//   stops accepting, drains like SIGTERM
//
// Both processes accept from the same kernel sockets (SCM_RIGHTS duplicates descriptors, not
// sockets) until the old one stops, so no connection is refused or reset: nothing is ever queued
// on a socket that gets closed while another is still accepting for it.
//
// Threading: control thread (UpgradeLauncher and FrameWatcher run on its loop).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/error.h"
#include "proxy/core/event_loop.h"
#include "proxy/upgrade/fd_passing.h"

struct event;

namespace baton::proxy::upgrade {

// Frame kinds.
inline constexpr char kListeners = 'L';
inline constexpr char kOverrides = 'O';
inline constexpr char kEnd = 'E';
inline constexpr char kReady = 'R';
inline constexpr char kFailed = 'F';
inline constexpr char kGo = 'G';

// Records of tab-separated fields, one per line; '\\', '\t' and '\n' inside a field are escaped.
std::string joinRecord(const std::vector<std::string>& fields);
// The records of `text`; a malformed escape is an error.
core::Result<std::vector<std::vector<std::string>>> splitRecords(std::string_view text);

// One listening socket of the old process: listener name, configured address, bound address and
// the worker it belonged to.
struct SocketRecord {
  std::string name;
  std::string address;
  std::string bound;
  uint32_t worker = 0;
  int fd = -1;
};

// The new process's pool of inherited sockets: Server takes them by listener (name + configured
// address) instead of binding; whatever is left when it goes live is closed.
class InheritedSockets {
 public:
  InheritedSockets() = default;
  InheritedSockets(InheritedSockets&&) = default;
  InheritedSockets& operator=(InheritedSockets&&) = default;
  ~InheritedSockets() { closeAll(); }

  void add(SocketRecord record) { records_.push_back(std::move(record)); }
  // The sockets of that listener, by worker index; the caller owns them from now on.
  std::vector<SocketRecord> take(std::string_view name, std::string_view address);
  // How many sockets take() would return for it.
  size_t count(std::string_view name, std::string_view address) const {
    size_t n = 0;
    for (const auto& record : records_) {
      if (record.name == name && record.address == address) ++n;
    }
    return n;
  }
  size_t size() const { return records_.size(); }
  // Closes the sockets nobody took (listeners the new config does not have); returns how many.
  size_t closeAll();

 private:
  std::vector<SocketRecord> records_;
};

struct Handoff {
  InheritedSockets sockets;
  std::string overrides;            // AdminOverrides::serialize()
  uint64_t upgrade_generation = 0;  // 1 for the first upgraded process, then 2, ...
};

// Old side: every frame of the handoff (sockets in batches of kMaxFdsPerFrame).
core::Result<void> sendHandoff(int sock, const std::vector<SocketRecord>& sockets,
                               std::string_view overrides, uint64_t upgrade_generation);
// New side: reads frames until 'E'.
core::Result<Handoff> receiveHandoff(int sock, std::chrono::milliseconds timeout);

// Calls `on_frame` with each frame (or the error: EOF, garbage) arriving on `sock`, on `loop`.
// Stops after an error. Destroying it stops watching (it never closes `sock`).
class FrameWatcher {
 public:
  FrameWatcher(core::EventLoop& loop, int sock, std::function<void(core::Result<Frame>)> on_frame);
  ~FrameWatcher();
  FrameWatcher(const FrameWatcher&) = delete;
  FrameWatcher& operator=(const FrameWatcher&) = delete;

 private:
  static void onReadable(int fd, short what, void* arg);
  int sock_;
  std::function<void(core::Result<Frame>)> on_frame_;
  event* event_ = nullptr;
};

// What the old process runs: `binary` with `args` (argv[1..] of the running process, without any
// --upgrade-fd) plus `--upgrade-fd N`. `keep_fds` stay open in the child (the ready fd); every
// other descriptor is closed before exec (client connections must not outlive the old process).
struct LaunchSpec {
  std::string binary;
  std::vector<std::string> args;
  std::vector<int> keep_fds;
  std::chrono::milliseconds ready_deadline{60000};
};

// Old side: starts the new process and follows it until it is ready or has failed.
class UpgradeLauncher {
 public:
  struct Callbacks {
    std::function<void(pid_t)> on_ready;         // 'R': the new process serves
    std::function<void(std::string)> on_failed;  // 'F', death, garbage or deadline
  };
  static core::Result<std::unique_ptr<UpgradeLauncher>> start(
      core::EventLoop& loop, const LaunchSpec& spec, const std::vector<SocketRecord>& sockets,
      std::string_view overrides, uint64_t upgrade_generation, Callbacks callbacks);
  ~UpgradeLauncher();

  // After on_ready, once the old process let go of its admin listeners: the new one may open
  // them. Ends the conversation (the child is not reaped: it is the new server).
  void go();
  pid_t pid() const { return pid_; }

 private:
  UpgradeLauncher(core::EventLoop& loop, Callbacks callbacks);
  void onFrame(core::Result<Frame> frame);
  void fail(std::string why);
  std::string childExit();

  core::EventLoop& loop_;
  Callbacks callbacks_;
  pid_t pid_ = -1;
  int sock_ = -1;
  bool done_ = false;
  std::unique_ptr<FrameWatcher> watcher_;
  std::unique_ptr<core::Timer> deadline_;
  int64_t deadline_ms_ = 0;
};

// Writes `state` ("READY=1", "MAINPID=123\nREADY=1") to $NOTIFY_SOCKET, as sd_notify(3) does;
// nothing when it is unset. Best effort.
void notifySystemd(std::string_view state);

}  // namespace baton::proxy::upgrade
