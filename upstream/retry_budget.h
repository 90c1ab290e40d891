// The retry budget of one cluster on one worker (issue 8): re-sending a request that already
// reached a host (a reset, a retried status) is allowed while the re-sends of the last window
// stay within `percent` of its requests, or below `min_retries`. A failing backend is then not
// hit again by every request it already failed: retries cannot amplify an outage.
//
// Two fixed buckets (this window and the previous one) give a sliding estimate without keeping
// per-request times: previous × (share of it still inside the window) + current. Connect
// failures (nothing was sent) and the stale keep-alive re-send are not budgeted: they add no
// work on a backend.
//
// Plain value owned by a worker's cluster counters (proxy/worker_stats.h): one thread, no
// locks; time is passed in so tests drive it.
#pragma once

#include <chrono>
#include <cstdint>

#include "conf/config_spec.h"

namespace baton::upstream {

class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // Every request routed to the cluster.
  void onRequest(Clock::time_point now, const conf::RetryBudgetSpec& spec);
  // A re-send is wanted: true (and counted) when the budget allows it.
  bool tryRetry(Clock::time_point now, const conf::RetryBudgetSpec& spec);

  // The sliding estimates (tests, admin).
  double requestsInWindow(Clock::time_point now, const conf::RetryBudgetSpec& spec);
  double retriesInWindow(Clock::time_point now, const conf::RetryBudgetSpec& spec);

 private:
  void advance(Clock::time_point now, conf::Duration window);
  double previousWeight(Clock::time_point now, conf::Duration window) const;

  Clock::time_point bucket_start_{};
  uint64_t requests_ = 0, retries_ = 0;            // this bucket
  uint64_t prev_requests_ = 0, prev_retries_ = 0;  // the one before
};

}  // namespace baton::upstream
