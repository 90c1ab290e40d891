#include "proxy/core/background_lane.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "proxy/core/allocator_arena.h"
#include "proxy/core/background_thread.h"

namespace baton::core {
namespace {

thread_local BackgroundLane* current_lane = nullptr;
thread_local bool in_background_arena = false;

bool setClass(pid_t tid, bool idle) {
  sched_param param{};
  return sched_setscheduler(tid, idle ? SCHED_IDLE : SCHED_OTHER, &param) == 0;
}

bool probeIdleClass() {
  bool reversible = false;
  std::thread([&] {
    lowerThreadPriority();  // leaving SCHED_IDLE is checked against the nice value it returns to
    reversible = setClass(0, true) && setClass(0, false);
  }).join();
  return reversible;
}

}  // namespace

bool BackgroundLane::idleClassAvailable() {
  static const bool available = probeIdleClass();
  return available;
}

BackgroundLane* BackgroundLane::current() {
  return current_lane;
}

BackgroundLane::Member::Member(BackgroundLane* lane)
    : lane_(lane), outer_(current_lane), tid_(gettid()) {
  if (lane_ == nullptr) return;
  lowerThreadPriority();
  if (!in_background_arena) {  // once per thread: it stays there between its turns in a lane
    useBackgroundArena();
    in_background_arena = true;
  }
  lane_->join(tid_);
  current_lane = lane_;
}

BackgroundLane::Member::~Member() {
  if (lane_ == nullptr) return;
  lane_->leave(tid_);
  current_lane = outer_;
  if (outer_ != nullptr) {
    outer_->applyToSelf(tid_);
  } else if (idleClassAvailable()) {
    setClass(tid_, false);
  }
}

BackgroundLane::Foreground::Foreground() : lane_(current_lane) {
  if (lane_ != nullptr && idleClassAvailable()) setClass(0, false);
}

BackgroundLane::Foreground::~Foreground() {
  if (lane_ != nullptr) lane_->applyToSelf(gettid());
}

void BackgroundLane::join(pid_t tid) {
  {
    std::lock_guard lock(mutex_);
    members_.push_back(tid);
  }
  applyToSelf(tid);
}

void BackgroundLane::leave(pid_t tid) {
  std::lock_guard lock(mutex_);
  // Removed before the thread ends: its id may be reused by another thread, which a later
  // raise() or lower() must not touch.
  const auto it = std::find(members_.begin(), members_.end(), tid);
  if (it != members_.end()) members_.erase(it);
}

// A thread going idle-class may be preempted on the way back from the call (the class change
// reschedules): it never does so holding mutex_, which raise() on a non-starved thread takes.
// If a raise slipped in between, it is applied here under the lock (no longer idle-class: no
// such wait).
void BackgroundLane::applyToSelf(pid_t tid) {
  if (!idleClassAvailable()) return;
  {
    std::lock_guard lock(mutex_);
    if (raised_) {  // SCHED_OTHER from here on: no wait for a core under the lock
      setClass(tid, false);
      return;
    }
  }
  setClass(tid, true);
  std::lock_guard lock(mutex_);
  if (raised_) setClass(tid, false);
}

bool BackgroundLane::raise() {
  std::lock_guard lock(mutex_);
  const bool was_lowered = !raised_;
  raised_ = true;
  if (idleClassAvailable()) {
    for (pid_t tid : members_) setClass(tid, false);
  }
  return was_lowered;
}

void BackgroundLane::lower() {
  const pid_t self = gettid();
  bool self_member = false;
  {
    std::lock_guard lock(mutex_);
    if (!raised_) return;
    raised_ = false;
    if (!idleClassAvailable()) return;
    for (pid_t tid : members_) {
      if (tid == self) {
        self_member = true;
      } else {
        setClass(tid, true);
      }
    }
  }
  if (self_member) applyToSelf(self);  // the caller itself last, outside the lock
}

bool BackgroundLane::raised() const {
  std::lock_guard lock(mutex_);
  return raised_;
}

}  // namespace baton::core
