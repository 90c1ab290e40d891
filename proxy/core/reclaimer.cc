#include "proxy/core/reclaimer.h"

#include <pthread.h>

#include "proxy/core/allocator_arena.h"
#include "proxy/core/background_lane.h"
#include "proxy/core/background_thread.h"

namespace baton::core {

Reclaimer::Reclaimer()
    : thread_([this] {
        core::enterBackgroundThread();
        // It frees what other threads allocated and allocates nothing itself: without this,
        // jemalloc would free every object under its bin's lock (allocator_arena.h).
        core::enableThreadCache();
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
  // The workers take mutex_ too: a poster from a background lane (the resync thread) must not
  // be preempted for want of an idle core while it holds it.
  BackgroundLane::Foreground foreground;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(garbage));
  }
  wake_.notify_one();
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
    lock.unlock();
    batch.clear();  // the destructors run here, outside the lock
    // What it freed went to its thread cache: back to the bins now, for others to reuse or the
    // allocator to purge, rather than held until the next batch (minutes at rest).
    core::flushThreadCache();
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace baton::core
