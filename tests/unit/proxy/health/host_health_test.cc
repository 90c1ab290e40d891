// The health verdict state machine and probe jitter, with simulated time.
#include "proxy/health/host_health.h"

#include <gtest/gtest.h>

#include "proxy/health/prober.h"

namespace baton::proxy::health {
namespace {

using std::chrono::milliseconds;

conf::HealthCheckSpec spec(uint32_t healthy, uint32_t unhealthy) {
  conf::HealthCheckSpec s;
  s.interval = milliseconds(200);
  s.healthy_threshold = healthy;
  s.unhealthy_threshold = unhealthy;
  return s;
}

const Clock::time_point t0{};

TEST(HostHealth, StartsUncheckedAndRoutable) {
  HostHealth h(t0, milliseconds(0));
  EXPECT_TRUE(h.routable());
  EXPECT_EQ(h.state(t0), HealthState::Unchecked);
  EXPECT_EQ(healthStateName(h.state(t0)), "unchecked");
}

TEST(HostHealth, LeavesAfterExactlyUnhealthyThresholdFailures) {
  const auto s = spec(2, 3);
  HostHealth h(t0, milliseconds(0));
  // Probes every 200 ms of simulated time: out at the third consecutive failure, not before.
  EXPECT_FALSE(h.record(false, t0 + milliseconds(200), s));
  EXPECT_FALSE(h.record(false, t0 + milliseconds(400), s));
  EXPECT_TRUE(h.routable());
  EXPECT_EQ(h.consecutive(), 2u);
  EXPECT_TRUE(h.record(false, t0 + milliseconds(600), s));
  EXPECT_FALSE(h.routable());
  EXPECT_EQ(h.state(t0 + milliseconds(600)), HealthState::Unhealthy);
  EXPECT_FALSE(h.record(false, t0 + milliseconds(800), s));  // already out: no flip
  EXPECT_EQ(h.consecutive(), 4u);
}

TEST(HostHealth, OnePassResetsTheFailureStreak) {
  const auto s = spec(2, 3);
  HostHealth h(t0, milliseconds(0));
  h.record(false, t0, s);
  h.record(false, t0, s);
  h.record(true, t0, s);
  EXPECT_EQ(h.state(t0), HealthState::Healthy);
  h.record(false, t0, s);
  h.record(false, t0, s);
  EXPECT_TRUE(h.routable());  // 2 in a row, not 3
}

TEST(HostHealth, ComesBackAfterHealthyThresholdPasses) {
  const auto s = spec(2, 1);
  HostHealth h(t0, milliseconds(0));
  EXPECT_TRUE(h.record(false, t0, s));
  EXPECT_FALSE(h.record(true, t0, s));
  EXPECT_FALSE(h.routable());
  EXPECT_FALSE(h.record(false, t0, s));  // the pass streak starts over
  EXPECT_FALSE(h.record(true, t0, s));
  EXPECT_TRUE(h.record(true, t0, s));
  EXPECT_TRUE(h.routable());
  EXPECT_EQ(h.state(t0), HealthState::Healthy);
  EXPECT_EQ(h.consecutive(), 2u);
  EXPECT_TRUE(h.lastPassed());
}

TEST(HostHealth, FirstPassOfAnUncheckedHostIsNoFlip) {
  HostHealth h(t0, milliseconds(0));
  EXPECT_FALSE(h.record(true, t0, spec(3, 3)));
  EXPECT_EQ(h.state(t0), HealthState::Healthy);
}

TEST(HostHealth, GraceIgnoresFailuresUntilItEndsOrTheHostPasses) {
  const auto s = spec(1, 1);
  HostHealth h(t0, milliseconds(1'000));
  EXPECT_EQ(h.state(t0 + milliseconds(10)), HealthState::Grace);
  EXPECT_FALSE(h.record(false, t0 + milliseconds(200), s));
  EXPECT_FALSE(h.record(false, t0 + milliseconds(999), s));
  EXPECT_TRUE(h.routable());
  EXPECT_EQ(h.state(t0 + milliseconds(999)), HealthState::Grace);
  EXPECT_EQ(h.state(t0 + milliseconds(1'000)), HealthState::Unchecked);
  EXPECT_TRUE(h.record(false, t0 + milliseconds(1'000), s));  // grace over: counts
  EXPECT_FALSE(h.routable());
}

TEST(HostHealth, GraceEndsAtTheFirstPass) {
  const auto s = spec(1, 1);
  HostHealth h(t0, milliseconds(60'000));
  h.record(true, t0 + milliseconds(100), s);
  EXPECT_EQ(h.state(t0 + milliseconds(100)), HealthState::Healthy);
  EXPECT_TRUE(h.record(false, t0 + milliseconds(300), s));  // within grace, but it passed once
}

TEST(ProbeJitter, FirstDelaySpreadsOverOneInterval) {
  EXPECT_EQ(firstProbeDelay(milliseconds(5'000), 0.0), milliseconds(1));
  EXPECT_EQ(firstProbeDelay(milliseconds(5'000), 0.5), milliseconds(2'500));
  EXPECT_LE(firstProbeDelay(milliseconds(5'000), 0.99999), milliseconds(5'000));
}

TEST(ProbeJitter, NextDelayIsIntervalPlusMinusTenPercent) {
  EXPECT_EQ(nextProbeDelay(milliseconds(1'000), 0.0), milliseconds(900));
  EXPECT_EQ(nextProbeDelay(milliseconds(1'000), 0.5), milliseconds(1'000));
  EXPECT_EQ(nextProbeDelay(milliseconds(1'000), 0.99999), milliseconds(1'099));
  EXPECT_EQ(nextProbeDelay(milliseconds(1), 0.0), milliseconds(1));
}

TEST(ProbeStatusLine, Parses) {
  bool complete = false;
  EXPECT_EQ(Probe::parseStatusLine("HTTP/1.1 200 OK\r\n", complete), 200);
  EXPECT_TRUE(complete);
  EXPECT_EQ(Probe::parseStatusLine("HTTP/1.0 503\r\nX: y\r\n", complete), 503);
  EXPECT_EQ(Probe::parseStatusLine("HTTP/1.1 20", complete), 0);
  EXPECT_FALSE(complete);
  EXPECT_EQ(Probe::parseStatusLine("SSH-2.0-OpenSSH\r\n", complete), 0);
  EXPECT_TRUE(complete);
  EXPECT_EQ(Probe::parseStatusLine("HTTP/1.1 2x0 OK\r\n", complete), 0);
  EXPECT_EQ(Probe::parseStatusLine("HTTP/1.1 2000\r\n", complete), 0);
}

}  // namespace
}  // namespace baton::proxy::health
