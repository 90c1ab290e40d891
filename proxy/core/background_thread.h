// The control plane yields to the data plane. Threads that only recompute or tidy up (the
// control thread once the workers run, a resync's helper threads, the discovery reclaimer, the
// Marathon state digest) run at nice 10, the workers at the nice value baton started with: on a
// busy machine a resync of 100,000 tasks then takes longer, instead of taking a quarter of the
// machine from the requests (measured on 2 cores, a resync every second: the data path kept
// 0.81x its req/s with the control thread at the workers' priority, 0.91x at nice 10). Not idle
// priority: a reclaimer starved for long would let replaced states pile up, and at nice 10 a
// thread still gets about a tenth of a contended core.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>

namespace baton::core {

inline constexpr int kBackgroundNice = 10;

// The nice value of the first thread this process lowered, before it was lowered.
inline std::atomic<int> g_nice_before_lowering{INT_MIN};

// Lowers the calling thread (Linux: per thread) to kBackgroundNice, if it is not lower already.
// Threads it starts afterwards inherit the value.
inline void lowerThreadPriority() {
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  int unset = INT_MIN;
  g_nice_before_lowering.compare_exchange_strong(unset, now);
  if (now < kBackgroundNice) setpriority(PRIO_PROCESS, tid, kBackgroundNice);
}

// In a child about to exec a new baton (binary upgrade), forked from a lowered thread: back to
// the value baton started with, so that the new process's workers do not inherit the control
// plane's. Raising priority needs CAP_SYS_NICE (or RLIMIT_NICE); without it the new process runs
// every thread at the lowered value (the data plane then just loses its precedence).
// Async-signal-safe (a syscall and an atomic load), as a forked child of a threaded process
// requires.
inline void restoreStartPriority() {
  const int before = g_nice_before_lowering.load();
  if (before != INT_MIN) setpriority(PRIO_PROCESS, 0, before);
}

}  // namespace baton::core
