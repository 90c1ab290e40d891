#include "proxy/core/reclaimer.h"

#include <pthread.h>

#include "proxy/core/stop_signals.h"

namespace baton::core {

Reclaimer::Reclaimer(std::chrono::milliseconds starved_after)
    : starved_after_(starved_after), thread_([this] {
        blockStopSignals();
        BackgroundLane::Member member(&lane_);
        run();
      }) {
  pthread_setname_np(thread_.native_handle(), "baton-reclaim");
}

Reclaimer::~Reclaimer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Reclaimer::post(std::shared_ptr<void> garbage) {
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (queue_.empty()) queue_since_ = now;
    const auto oldest = busy_ ? batch_since_ : queue_since_;  // a batch under way is older
    queue_.push_back(std::move(garbage));
    if (now - oldest >= starved_after_ && lane_.raise()) ++raises_;
  }
  wake_.notify_one();
}

uint64_t Reclaimer::raises() const {
  std::lock_guard lock(mutex_);
  return raises_;
}

void Reclaimer::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void Reclaimer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<std::shared_ptr<void>> batch = std::move(queue_);
    queue_.clear();
    busy_ = true;
    batch_since_ = queue_since_;
    lock.unlock();
    batch.clear();  // the destructors run here, outside the lock
    lock.lock();
    busy_ = false;
    if (queue_.empty()) {
      lane_.lower();  // caught up: back to idle-class
      idle_.notify_all();
    }
  }
}

}  // namespace baton::core
