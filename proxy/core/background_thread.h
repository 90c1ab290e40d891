// Threads that only tidy up after the control thread (the discovery reclaimer freeing the last
// document's state, the Marathon state digest) run at a lower scheduling weight, so that on a
// busy machine they yield to the workers and to a resync's own helper threads instead of
// sharing a core with them evenly. Not idle priority: they must still keep up under full load
// (a reclaimer starved for long would let replaced states pile up), and at nice 10 a thread
// still gets about a tenth of a contended core.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

namespace baton::core {

inline constexpr int kBackgroundNice = 10;

// Called first thing on such a thread; applies to the calling thread only (Linux).
inline void lowerThreadPriority() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
}

}  // namespace baton::core
