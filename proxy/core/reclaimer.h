// Frees replaced state on a thread of its own: the last Marathon document's apps and cached host
// lists (~100,000 tasks at Marathon scale), the specs a publish replaced, the snapshots the
// workers let go of. Tens of milliseconds of destructors each time, which should neither delay a
// resync nor take CPU from a worker's requests.
//
// The objects handed over must be reachable from nowhere else except through shared_ptr copies
// (whose counts are atomic): whichever owner lets go last frees, on its own thread; when every
// owner hands its copy over here, the last one is let go here.
//
// At nice 10 (core::enterBackgroundThread), not idle-class like the resync (background_lane.h):
// it frees every thread's memory, so it takes the allocator's bin locks the workers take too, and
// an idle-class thread preempted while holding one would stall a worker until a core went idle.
//
// Owned by the server (one for the process), which outlives everything that disposes into it.
// dispose() may be called on any thread. The destructor frees whatever is still queued, then
// joins the thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace baton::core {

class Reclaimer {
 public:
  Reclaimer();
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

 private:
  void post(std::shared_ptr<void> garbage);
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<std::shared_ptr<void>> queue_;  // guarded by mutex_
  bool busy_ = false;                         // the thread is destroying a batch
  bool stopping_ = false;
  std::thread thread_;  // last: started when the members above exist
};

}  // namespace baton::core
