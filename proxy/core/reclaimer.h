// Frees replaced state on a thread of its own: the last Marathon document's apps and cached host
// lists (~100,000 tasks at Marathon scale), the specs a publish replaced, the snapshots the
// workers let go of. Tens of milliseconds of destructors each time, which should neither delay a
// resync nor take CPU from a worker's requests.
//
// The objects handed over must be reachable from nowhere else except through shared_ptr copies
// (whose counts are atomic): whichever owner lets go last frees, on its own thread; when every
// owner hands its copy over here, the last one is let go here.
//
// The thread is a background lane of its own (proxy/core/background_lane.h): idle-class, so the
// destructors take no CPU a worker wants; when something disposed has waited kStarvedAfter, the
// next dispose() raises the lane until the queue is empty, so a saturated machine cannot pile up
// replaced states (each ~250 MB at 100,000 tasks).
//
// Owned by the server (one for the process), which outlives everything that disposes into it.
// dispose() may be called on any thread. The destructor frees whatever is still queued, then
// joins the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "proxy/core/background_lane.h"

namespace baton::core {

class Reclaimer {
 public:
  static constexpr std::chrono::milliseconds kStarvedAfter{1000};

  explicit Reclaimer(std::chrono::milliseconds starved_after = kStarvedAfter);
  ~Reclaimer();
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // Takes `garbage` (moved) and destroys it on the reclaimer's thread.
  template <class T>
  void dispose(T&& garbage) {
    post(std::make_shared<std::decay_t<T>>(std::forward<T>(garbage)));
  }

  // Blocks until everything disposed so far is destroyed (tests, shutdown order).
  void drain();

  // Times the lane was raised because disposed state waited too long (status, tests).
  uint64_t raises() const;

 private:
  void post(std::shared_ptr<void> garbage);
  void run();

  const std::chrono::milliseconds starved_after_;
  BackgroundLane lane_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<std::shared_ptr<void>> queue_;  // guarded by mutex_
  bool busy_ = false;                         // the thread is destroying a batch
  // When the first garbage of the queue, and of the batch under way, was disposed.
  std::chrono::steady_clock::time_point queue_since_;  // guarded by mutex_
  std::chrono::steady_clock::time_point batch_since_;  // guarded by mutex_
  uint64_t raises_ = 0;                                // guarded by mutex_
  bool stopping_ = false;
  std::thread thread_;  // last: started when the members above exist
};

}  // namespace baton::core
