#include "upstream/retry_budget.h"

#include <algorithm>

namespace baton::upstream {

void RetryBudget::advance(Clock::time_point now, conf::Duration window) {
  if (bucket_start_ == Clock::time_point{}) {
    bucket_start_ = now;
    return;
  }
  const auto elapsed = now - bucket_start_;
  if (elapsed < window) return;
  if (elapsed < 2 * window) {
    prev_requests_ = requests_;
    prev_retries_ = retries_;
    bucket_start_ += window;
  } else {  // quiet for more than a whole window: nothing recent remains
    prev_requests_ = 0;
    prev_retries_ = 0;
    bucket_start_ = now;
  }
  requests_ = 0;
  retries_ = 0;
}

// The part of the previous bucket still inside the window ending now.
double RetryBudget::previousWeight(Clock::time_point now, conf::Duration window) const {
  const double into = std::chrono::duration<double>(now - bucket_start_).count() /
                      std::chrono::duration<double>(window).count();
  return std::clamp(1.0 - into, 0.0, 1.0);
}

void RetryBudget::onRequest(Clock::time_point now, const conf::RetryBudgetSpec& spec) {
  advance(now, spec.window);
  ++requests_;
}

double RetryBudget::requestsInWindow(Clock::time_point now, const conf::RetryBudgetSpec& spec) {
  advance(now, spec.window);
  return static_cast<double>(prev_requests_) * previousWeight(now, spec.window) +
         static_cast<double>(requests_);
}

double RetryBudget::retriesInWindow(Clock::time_point now, const conf::RetryBudgetSpec& spec) {
  advance(now, spec.window);
  return static_cast<double>(prev_retries_) * previousWeight(now, spec.window) +
         static_cast<double>(retries_);
}

bool RetryBudget::tryRetry(Clock::time_point now, const conf::RetryBudgetSpec& spec) {
  const double retries = retriesInWindow(now, spec);
  const double allowed = std::max(static_cast<double>(spec.min_retries),
                                  requestsInWindow(now, spec) * spec.percent / 100.0);
  if (retries + 1 > allowed) return false;
  ++retries_;
  return true;
}

}  // namespace baton::upstream
