// Threads that only tidy up after the control thread (the discovery reclaimer freeing the last
// document's state, the Marathon state digest) run at a lower scheduling weight, so that on a
// busy machine they yield to the workers and to a resync's own helper thread instead of sharing
// a core with them evenly. Not idle priority: they must still keep up under full load (a
// reclaimer starved for long would let replaced states pile up), and at nice 10 a thread still
// gets about a tenth of a contended core.
//
// Only threads that start no others: a thread inherits its creator's nice value on Linux, and
// raising it back needs CAP_SYS_NICE. (Lowering the control thread itself was measured and
// undone: it would pass nice 10 to a reload's access-log writer and, through fork and exec, to a
// binary upgrade's workers, and slow the control loop's ejections and drain under load.)
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace baton::core {

inline constexpr int kBackgroundNice = 10;

// Called first thing on such a thread; applies to the calling thread only (Linux). Never raises
// a thread that is already lower.
inline void lowerThreadPriority() {
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && now < kBackgroundNice) setpriority(PRIO_PROCESS, tid, kBackgroundNice);
}

}  // namespace baton::core
