#include "discovery/backoff.h"

#include <gtest/gtest.h>

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingGrowsByHalfAndCaps) {
  Backoff b(milliseconds{1000}, milliseconds{4000}, 1);
  EXPECT_EQ(b.ceiling(), milliseconds{1000});
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{1500});
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{2250});
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{3375});
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{4000});
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{4000});
}

TEST(Backoff, FullJitterStaysWithinTheCeilingAndVaries) {
  Backoff b(milliseconds{1000}, milliseconds{1000}, 42);
  milliseconds lo{1000}, hi{0};
  for (int i = 0; i < 2000; ++i) {
    const auto d = b.next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d, milliseconds{1000});
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, milliseconds{100});  // full jitter: the whole range is used
  EXPECT_GT(hi, milliseconds{900});
}

TEST(Backoff, InitialAboveMaxIsClamped) {
  Backoff b(milliseconds{1000}, milliseconds{50}, 1);
  EXPECT_EQ(b.ceiling(), milliseconds{50});
  EXPECT_LE(b.next(), milliseconds{50});
}

TEST(Backoff, TinyCeilingStillGrows) {
  Backoff b(milliseconds{1}, milliseconds{10}, 1);
  b.next();
  EXPECT_EQ(b.ceiling(), milliseconds{2});
}

TEST(Backoff, ResetOnlyAfterALongLivedStream) {
  Backoff b(milliseconds{1000}, milliseconds{300'000}, 1);
  for (int i = 0; i < 5; ++i) b.next();
  const auto grown = b.ceiling();
  b.onStreamEnded(milliseconds{599'000});
  EXPECT_EQ(b.ceiling(), grown);
  b.onStreamEnded(milliseconds{601'000});
  EXPECT_EQ(b.ceiling(), milliseconds{1000});
  for (int i = 0; i < 3; ++i) b.next();
  b.reset();
  EXPECT_EQ(b.ceiling(), milliseconds{1000});
}

}  // namespace
}  // namespace baton::discovery
