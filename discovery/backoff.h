// Reconnect delays for the Marathon event stream and failed REST calls (marathon.md §2.4).
//
// marathon-lb waits random() * w, with w starting at 3 s, ×1.5 per failure, capped at
// --max-backoff, reset when a stream lived over 10 min. baton does the same with w starting at
// `initial` (MarathonSource passes min(1 s, max_backoff): a leader flip is usually over in a
// second, and the full jitter keeps a fleet of proxies from reconnecting in step).
// Pure; one instance per source, control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace baton::discovery {

class Backoff {
 public:
  static constexpr std::chrono::milliseconds kResetAfter{600'000};  // a stream that lived 10 min

  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);

  // The delay before the next attempt: uniform in [0, ceiling()]; then the ceiling grows ×1.5
  // (capped at max).
  std::chrono::milliseconds next();
  void reset();
  // A stream ended after living `lived`: a long-lived one resets the backoff.
  void onStreamEnded(std::chrono::milliseconds lived);
  std::chrono::milliseconds ceiling() const { return ceiling_; }

 private:
  std::chrono::milliseconds initial_, max_, ceiling_;
  std::mt19937_64 rng_;
};

}  // namespace baton::discovery
