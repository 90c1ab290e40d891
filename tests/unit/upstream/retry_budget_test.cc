// The per-worker retry budget: a share of the window's requests, a floor, a sliding window.
#include "upstream/retry_budget.h"

#include <gtest/gtest.h>

namespace baton::upstream {
namespace {

using std::chrono::milliseconds;
using Clock = RetryBudget::Clock;

conf::RetryBudgetSpec spec(uint32_t percent, uint32_t min_retries, int64_t window_ms = 10'000) {
  conf::RetryBudgetSpec s;
  s.percent = percent;
  s.min_retries = min_retries;
  s.window = milliseconds(window_ms);
  return s;
}

TEST(RetryBudget, TheFloorAllowsAQuietClusterToRetry) {
  RetryBudget budget;
  const auto s = spec(20, 3);
  const Clock::time_point t0{std::chrono::seconds(100)};
  budget.onRequest(t0, s);
  EXPECT_TRUE(budget.tryRetry(t0, s));
  EXPECT_TRUE(budget.tryRetry(t0, s));
  EXPECT_TRUE(budget.tryRetry(t0, s));
  EXPECT_FALSE(budget.tryRetry(t0, s));
}

TEST(RetryBudget, AShareOfTheRequests) {
  RetryBudget budget;
  const auto s = spec(10, 0);
  const Clock::time_point t0{std::chrono::seconds(100)};
  for (int i = 0; i < 100; ++i) budget.onRequest(t0, s);
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += budget.tryRetry(t0, s) ? 1 : 0;
  EXPECT_EQ(allowed, 10);
  budget.onRequest(t0, s);  // 101 requests: still 10 (10.1 allows no 11th)
  EXPECT_FALSE(budget.tryRetry(t0, s));
}

TEST(RetryBudget, OldRetriesSlideOutOfTheWindow) {
  RetryBudget budget;
  const auto s = spec(0, 2, 1'000);
  const Clock::time_point t0{std::chrono::seconds(100)};
  EXPECT_TRUE(budget.tryRetry(t0, s));
  EXPECT_TRUE(budget.tryRetry(t0, s));
  EXPECT_FALSE(budget.tryRetry(t0 + milliseconds(500), s));
  // One window later the previous bucket still weighs (1 - 0.5) x 2 = 1: one more allowed.
  EXPECT_TRUE(budget.tryRetry(t0 + milliseconds(1'500), s));
  EXPECT_FALSE(budget.tryRetry(t0 + milliseconds(1'500), s));
  // Two quiet windows: nothing recent remains.
  EXPECT_DOUBLE_EQ(budget.retriesInWindow(t0 + milliseconds(5'000), s), 0.0);
  EXPECT_TRUE(budget.tryRetry(t0 + milliseconds(5'000), s));
}

TEST(RetryBudget, ZeroPercentZeroFloorNeverRetries) {
  RetryBudget budget;
  const auto s = spec(0, 0);
  const Clock::time_point t0{std::chrono::seconds(100)};
  for (int i = 0; i < 1000; ++i) budget.onRequest(t0, s);
  EXPECT_FALSE(budget.tryRetry(t0, s));
}

}  // namespace
}  // namespace baton::upstream
