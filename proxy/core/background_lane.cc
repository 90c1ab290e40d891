#include "proxy/core/background_lane.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "proxy/core/background_thread.h"

namespace baton::core {
namespace {

thread_local BackgroundLane* current_lane = nullptr;

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
  lane_->join(tid_);
  current_lane = lane_;
}

BackgroundLane::Member::~Member() {
  if (lane_ == nullptr) return;
  lane_->leave(tid_);
  current_lane = outer_;
}

void BackgroundLane::join(pid_t tid) {
  std::lock_guard lock(mutex_);
  members_.push_back(tid);
  // Under the lock: a raise() cannot slip between this thread's class and its registration.
  if (idleClassAvailable()) setClass(tid, !raised_);
}

void BackgroundLane::leave(pid_t tid) {
  std::lock_guard lock(mutex_);
  // Removed before the thread ends: its id may be reused by another thread, which a later
  // raise() or lower() must not touch.
  members_.erase(std::find(members_.begin(), members_.end(), tid));
}

bool BackgroundLane::raise() {
  std::lock_guard lock(mutex_);
  if (raised_) return false;
  raised_ = true;
  if (idleClassAvailable()) {
    for (pid_t tid : members_) setClass(tid, false);
  }
  return true;
}

void BackgroundLane::lower() {
  std::lock_guard lock(mutex_);
  if (!raised_) return;
  raised_ = false;
  if (idleClassAvailable()) {
    for (pid_t tid : members_) setClass(tid, true);
  }
}

bool BackgroundLane::raised() const {
  std::lock_guard lock(mutex_);
  return raised_;
}

}  // namespace baton::core
