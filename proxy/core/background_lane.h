// The control plane's bulk work (a Marathon resync's parse and translate, the reclaimer freeing
// the state it replaced) gives way to the data plane completely, with a floor when it falls
// behind.
//
// Why not nice alone: on this kernel (EEVDF) and a busy 2-core edge, a resync thread at nice 10,
// or nice 19 and SCHED_BATCH, still got most of a core while the workers, the load and the
// origin shared the other: a 100,000-task resync every second cost the data path 25-30 % of its
// req/s. SCHED_IDLE threads run only when nothing else wants the core, and the data path then
// kept its req/s (bench/RESULTS.md, 2026-11-27 15:30). But an idle-class thread can wait forever
// on a saturated machine, and routing that never catches up is worse than slower requests: a
// lane whose work has waited too long is raised (SCHED_OTHER at nice 10, the old share) by a
// thread that is not starved, until its backlog is done, then lowered again.
//
// Coming back from SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE >= 10 (sched(7)). Without them a
// lane never goes idle-class: its threads run at nice 10 throughout, as before.
//
// Threads: Member on the lane's own threads (at their start, or when their work becomes bulk);
// raise() and lower() from any thread (the guard's: the control loop, a reclaimer poster).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace baton::core {

class BackgroundLane {
 public:
  BackgroundLane() = default;
  BackgroundLane(const BackgroundLane&) = delete;
  BackgroundLane& operator=(const BackgroundLane&) = delete;

  // The calling thread is in `lane` while this lives: nice 10 (core::lowerThreadPriority) and
  // idle-class unless the lane is raised. A null lane: nothing happens. Threads this thread
  // starts inherit its class; forEachOnTwoThreads' helper joins current() as well, so a raise
  // reaches it.
  class Member {
   public:
    explicit Member(BackgroundLane* lane);
    ~Member();
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

   private:
    BackgroundLane* lane_;
    BackgroundLane* outer_;  // the lane the thread was in before (restored on destruction)
    pid_t tid_;
  };

  // Every member, and every thread joining until lower(), runs at SCHED_OTHER (nice 10). Returns
  // whether this call raised it (false: already raised).
  bool raise();
  // Members back to idle-class.
  void lower();
  bool raised() const;

  // The lane the calling thread is a member of (nullptr: none).
  static BackgroundLane* current();
  // Whether lanes use SCHED_IDLE: the process can bring a thread back from it (probed once, on
  // a thread of its own).
  static bool idleClassAvailable();

 private:
  void join(pid_t tid);
  void leave(pid_t tid);

  mutable std::mutex mutex_;
  std::vector<pid_t> members_;  // guarded by mutex_
  bool raised_ = false;         // guarded by mutex_
};

}  // namespace baton::core
