// The control plane's bulk work (a Marathon resync's parse and translate, on the resync thread
// and the helper threads it starts) gives way to the data plane completely, with a floor when it
// falls behind.
//
// Why not nice alone: on this kernel (EEVDF) and a busy 2-core edge, a resync thread at nice 10,
// or at nice 10 or 19 with SCHED_BATCH, still got most of a core while the workers, the load and
// the origin shared the other: a 100,000-task resync every second cost the data path 21-31 % of
// its req/s. SCHED_IDLE threads run when no other thread wants the core (or with a weight of 3
// against nice 0's 1024), and the data path then kept 0.93-1.05x of its req/s (bench/RESULTS.md,
// 2026-11-27 15:15). But a saturated machine can keep an idle-class thread waiting for seconds,
// and routing that does not catch up is worse than slower requests: the lane's owner raises it
// (SCHED_OTHER at nice 10, the old share) from a thread that is not starved when its work has
// waited too long, and lowers it again once it has caught up.
//
// An idle-class thread preempted while holding a lock keeps every thread waiting on it until a
// core goes idle. So a lane thread takes a lock that others take only in the Foreground (below)
// or outside the lane, goes idle-class outside the lane's own lock, and allocates from an arena
// of its own (allocator_arena.h); the reclaimer (which frees everyone's memory, taking every
// arena's bin locks) is not a lane.
//
// Coming back from SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE >= 10 (sched(7)). Without them a
// lane never goes idle-class: its threads run at nice 10 throughout, and raise()/lower() change
// nothing.
//
// Threads: Member, Foreground and startHelper on the lane's own threads; raise() and lower() from
// any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace baton::core {

class BackgroundLane {
 public:
  BackgroundLane() = default;
  BackgroundLane(const BackgroundLane&) = delete;
  BackgroundLane& operator=(const BackgroundLane&) = delete;

  // The calling thread is in `lane` while this lives: nice 10 (core::lowerThreadPriority, kept
  // after) and idle-class unless the lane is raised; SCHED_OTHER again once it leaves. A null
  // lane: nothing happens.
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

  // While this lives, a lane thread runs SCHED_OTHER (still at nice 10), then its lane's class
  // again: around a lock that threads outside the lane take too (an idle-class holder preempted
  // would keep them waiting for an idle core), or starting a thread. Outside a lane: nothing.
  class Foreground {
   public:
    Foreground();
    ~Foreground();
    Foreground(const Foreground&) = delete;
    Foreground& operator=(const Foreground&) = delete;

   private:
    BackgroundLane* lane_;
  };

  // Starts a helper thread of the calling thread's lane (if any), which runs fn() as a Member.
  // The caller is in the Foreground while it starts the thread, so the helper starts SCHED_OTHER
  // too: an idle-class helper could wait for a core before it even registered, a raise() in
  // between would miss it, and its raised parent would wait for it. Outside a lane: a plain
  // thread.
  template <class Fn>
  static std::jthread startHelper(Fn&& fn) {
    Foreground spawning;
    return std::jthread([lane = current(), fn = std::forward<Fn>(fn)]() mutable {
      Member member(lane);
      fn();
    });
  }

  // Every member, and every thread joining until lower(), runs at SCHED_OTHER (nice 10); members
  // already raised are set again (cheap: a raise is rare). Returns whether the lane was lowered
  // before this call.
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
  void applyToSelf(pid_t tid);

  mutable std::mutex mutex_;
  std::vector<pid_t> members_;  // guarded by mutex_
  bool raised_ = false;         // guarded by mutex_
};

}  // namespace baton::core
