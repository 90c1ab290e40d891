// Threads that do the control plane's heavy lifting run at a lower scheduling weight, so that on
// a busy machine they take their CPU from idle time first instead of sharing a core evenly with
// the workers' requests: nice 10 here (the reclaimer, the Marathon state digest). A resync's
// parse and translate go further, to idle-class with a starvation guard (background_lane.h,
// which starts from this); the digest thread does not: the control thread joins it before the
// next one, and an idle-class thread could keep the control loop waiting.
//
// Only threads whose own children do the same kind of work (the resync thread's parse and
// translate helpers): a thread inherits its creator's nice value on Linux, and raising it back
// needs CAP_SYS_NICE. (Lowering the control thread itself was measured and undone: it would pass
// nice 10 to a reload's access-log writer and, through fork and exec, to a binary upgrade's
// workers, and slow the control loop's ejections and drain under load.)
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "proxy/core/stop_signals.h"

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

// First thing on such a thread: the stop signals stay with the control thread (stop_signals.h),
// and the thread's weight is lowered.
inline void enterBackgroundThread() {
  blockStopSignals();
  lowerThreadPriority();
}

}  // namespace baton::core
