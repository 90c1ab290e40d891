// Wall-clock time as the admin model, logs and state files record it. Any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace baton::core {

// Milliseconds since the Unix epoch (system clock: may jump; never use it to measure durations,
// steady_clock is for that).
inline int64_t unixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace baton::core
