// Passive outlier ejection: the workers' streak counters and the control thread's detector,
// with simulated time.
#include "proxy/health/outlier_detector.h"

#include <gtest/gtest.h>

#include "proxy/health/outlier_streak.h"

namespace baton::proxy::health {
namespace {

using std::chrono::milliseconds;
using Clock = OutlierDetector::Clock;

const Clock::time_point t0{};

conf::OutlierSpec outlierSpec(uint32_t percent = 50) {
  conf::OutlierSpec s;
  s.consecutive_failures = 5;
  s.base_ejection = milliseconds(300);
  s.max_ejection = milliseconds(1000);
  s.max_ejected_percent = percent;
  return s;
}

std::shared_ptr<const upstream::Cluster> makeCluster(const std::string& name, size_t hosts,
                                                     const conf::OutlierSpec& outlier,
                                                     size_t first = 1) {
  conf::ClusterSpec spec;
  spec.name = name;
  spec.outlier = outlier;
  for (size_t i = first; i < first + hosts; ++i) {
    spec.hosts.push_back(conf::HostSpec{{}, "10.0.0." + std::to_string(i) + ":80", 1});
  }
  auto cluster = upstream::Cluster::create(spec);
  EXPECT_TRUE(cluster.has_value());
  return *cluster;
}

std::string addr(size_t i) {
  return "10.0.0." + std::to_string(i) + ":80";
}

OutlierReport failures(const std::string& cluster, size_t host) {
  return OutlierReport{cluster, addr(host), OutlierSignal::ConsecutiveFailures};
}

OutlierReport success(const std::string& cluster, size_t host) {
  return OutlierReport{cluster, addr(host), OutlierSignal::Success};
}

// The published host `i` (1-based address) of the first cluster.
const upstream::Host& published(const OutlierDetector::Clusters& clusters, size_t i) {
  return clusters.front()->hosts()[i - 1];
}

// ---- the worker's streak -------------------------------------------------------------------

TEST(OutlierStreak, ReportsOnceAtTheThresholdThenCountsAgain) {
  OutlierStreak streak;
  streak.configure(outlierSpec(), false);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ConnectFailure));
  EXPECT_EQ(streak.record(OutlierEvent::Reset), OutlierSignal::ConsecutiveFailures);
  // Not on every failure after it: the next report needs as many again.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(streak.record(OutlierEvent::GatewayError));
  EXPECT_EQ(streak.record(OutlierEvent::GatewayError), OutlierSignal::ConsecutiveFailures);
}

TEST(OutlierStreak, SuccessAndOther5xxResetTheFailureStreak) {
  OutlierStreak streak;
  streak.configure(outlierSpec(), false);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ConnectFailure));
  EXPECT_FALSE(streak.record(OutlierEvent::Success));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ConnectFailure));
  EXPECT_FALSE(streak.record(outlierEventOfStatus(500)));  // the host answered
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ConnectFailure));
  EXPECT_TRUE(streak.record(OutlierEvent::ConnectFailure));
}

TEST(OutlierStreak, Consecutive5xxOnlyWhenSet) {
  OutlierStreak streak;
  auto spec = outlierSpec();
  streak.configure(spec, false);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ServerError));
  spec.consecutive_5xx = 3;
  streak.configure(spec, false);
  EXPECT_FALSE(streak.record(outlierEventOfStatus(500)));
  EXPECT_FALSE(streak.record(outlierEventOfStatus(503)));
  EXPECT_EQ(streak.record(outlierEventOfStatus(599)), OutlierSignal::Consecutive5xx);
}

TEST(OutlierStreak, OffCountsNothing) {
  OutlierStreak streak;
  conf::OutlierSpec off;
  off.consecutive_failures = 0;
  streak.configure(off, true);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(streak.record(OutlierEvent::ConnectFailure));
  EXPECT_FALSE(streak.record(OutlierEvent::Success));
}

TEST(OutlierStreak, ReportsTheFirstSuccessOfARecoveringHostOnce) {
  OutlierStreak streak;
  streak.configure(outlierSpec(), true);
  EXPECT_EQ(streak.record(OutlierEvent::Success), OutlierSignal::Success);
  EXPECT_FALSE(streak.record(OutlierEvent::Success));
}

TEST(OutlierStreak, StatusClasses) {
  EXPECT_EQ(outlierEventOfStatus(200), OutlierEvent::Success);
  EXPECT_EQ(outlierEventOfStatus(404), OutlierEvent::Success);
  EXPECT_EQ(outlierEventOfStatus(502), OutlierEvent::GatewayError);
  EXPECT_EQ(outlierEventOfStatus(503), OutlierEvent::GatewayError);
  EXPECT_EQ(outlierEventOfStatus(504), OutlierEvent::GatewayError);
  EXPECT_EQ(outlierEventOfStatus(500), OutlierEvent::ServerError);
}

// ---- the detector --------------------------------------------------------------------------

TEST(OutlierDetector, EjectsOnAReportAndPublishesTheHostAsNotRoutable) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  EXPECT_EQ(d.apply(clusters), clusters);  // nothing ejected: the very same clusters
  EXPECT_TRUE(d.onReport(failures("web", 2), t0));
  const auto out = d.apply(clusters);
  EXPECT_TRUE(published(out, 1).routable());
  EXPECT_TRUE(published(out, 2).ejected);
  EXPECT_FALSE(published(out, 2).routable());
  EXPECT_EQ(d.nextExpiry(), t0 + milliseconds(300));
  // Memoised: re-applying (to the base or to the published copy) copies nothing.
  EXPECT_EQ(d.apply(clusters), out);
  EXPECT_EQ(d.apply(out), out);
  // A second report while ejected changes nothing.
  EXPECT_FALSE(d.onReport(failures("web", 2), t0 + milliseconds(10)));
}

TEST(OutlierDetector, BackInWhenTheTimeEnds) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  d.onReport(failures("web", 1), t0);
  EXPECT_FALSE(d.expire(t0 + milliseconds(299)));
  EXPECT_TRUE(published(d.apply(clusters), 1).ejected);
  EXPECT_TRUE(d.expire(t0 + milliseconds(300)));
  const auto out = d.apply(clusters);
  EXPECT_TRUE(published(out, 1).routable());
  EXPECT_TRUE(published(out, 1).outlier_recovering);
  EXPECT_FALSE(d.nextExpiry().has_value());
}

TEST(OutlierDetector, TimeGrowsWithEachEjectionInARowUpToTheMax) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  auto now = t0;
  const int64_t expected[] = {300, 600, 900, 1000, 1000};
  for (int64_t ms : expected) {
    ASSERT_TRUE(d.onReport(failures("web", 1), now));
    EXPECT_EQ(*d.nextExpiry() - now, milliseconds(ms));
    now = *d.nextExpiry();
    EXPECT_TRUE(d.expire(now));  // back, and fails again before any success
  }
  EXPECT_EQ(d.find("web", addr(1))->ejections, 5u);
  EXPECT_EQ(d.find("web", addr(1))->ejections_total, 5u);
}

TEST(OutlierDetector, ASuccessAfterComingBackStartsAgainFromTheBase) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  d.onReport(failures("web", 1), t0);
  d.expire(t0 + milliseconds(300));
  d.onReport(failures("web", 1), t0 + milliseconds(400));  // second: 600 ms
  EXPECT_EQ(*d.nextExpiry(), t0 + milliseconds(1000));
  // A success while still ejected (a request in flight) does not count.
  EXPECT_FALSE(d.onReport(success("web", 1), t0 + milliseconds(500)));
  EXPECT_EQ(d.find("web", addr(1))->ejections, 2u);
  d.expire(t0 + milliseconds(1000));
  d.onReport(success("web", 1), t0 + milliseconds(1100));
  EXPECT_EQ(d.find("web", addr(1))->ejections, 0u);
  EXPECT_FALSE(published(d.apply(clusters), 1).outlier_recovering);
  d.onReport(failures("web", 1), t0 + milliseconds(2000));
  EXPECT_EQ(*d.nextExpiry(), t0 + milliseconds(2300));
  EXPECT_EQ(d.find("web", addr(1))->ejections_total, 3u);
}

TEST(OutlierDetector, PercentCap) {
  struct Case {
    size_t hosts;
    uint32_t percent;
    size_t ejectable;
  };
  for (const Case c : {Case{2, 50, 1}, Case{3, 50, 1}, Case{10, 50, 5}, Case{1, 50, 0},
                       Case{3, 10, 0}, Case{3, 100, 3}, Case{10, 0, 0}}) {
    OutlierDetector d;
    OutlierDetector::Clusters clusters{makeCluster("web", c.hosts, outlierSpec(c.percent))};
    d.sync(clusters);
    size_t ejected = 0;
    for (size_t i = 1; i <= c.hosts; ++i) ejected += d.onReport(failures("web", i), t0) ? 1 : 0;
    EXPECT_EQ(ejected, c.ejectable) << c.hosts << " hosts at " << c.percent << "%";
    admin::EdgeStatus status;
    status.clusters.push_back(admin::ClusterStatus{});
    status.clusters.back().name = "web";
    for (size_t i = 1; i <= c.hosts; ++i) {
      status.clusters.back().hosts.push_back(admin::HostStatus{});
      status.clusters.back().hosts.back().address = addr(i);
    }
    d.fillStatus(status, t0);
    EXPECT_EQ(status.clusters.back().outlier_ejected, c.ejectable);
    EXPECT_EQ(status.clusters.back().outlier_capped, c.hosts - c.ejectable);
  }
}

TEST(OutlierDetector, CappedHostIsEjectedOnceAnotherComesBack) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  EXPECT_TRUE(d.onReport(failures("web", 1), t0));
  EXPECT_FALSE(d.onReport(failures("web", 2), t0));  // 1 of 3 at 50 %
  d.expire(t0 + milliseconds(300));
  EXPECT_TRUE(d.onReport(failures("web", 2), t0 + milliseconds(310)));
}

TEST(OutlierDetector, PanicWhenEveryActiveHostIsUnhealthyOrEjected) {
  OutlierDetector d;
  auto base = makeCluster("web", 2, outlierSpec());
  // Host 2 failed its health check (as the health checker publishes it).
  auto checked =
      base->withAdjustedHosts([](upstream::Host& h) { h.healthy = h.address != addr(2); });
  OutlierDetector::Clusters clusters{checked};
  d.sync(clusters);
  EXPECT_TRUE(d.onReport(failures("web", 1), t0));
  const auto out = d.apply(clusters);
  EXPECT_TRUE(published(out, 1).routable());
  EXPECT_TRUE(published(out, 2).routable());
  admin::EdgeStatus status;
  status.clusters.push_back(admin::ClusterStatus{});
  status.clusters.back().name = "web";
  d.fillStatus(status, t0);
  EXPECT_TRUE(status.clusters.back().outlier_panic);
}

TEST(OutlierDetector, SurvivesReAdoptionAndForgetsRemovedHosts) {
  OutlierDetector d;
  OutlierDetector::Clusters first{makeCluster("web", 3, outlierSpec())};
  d.sync(first);
  d.onReport(failures("web", 3), t0);
  // A resync builds new cluster objects with the same hosts: the ejection stays.
  OutlierDetector::Clusters second{makeCluster("web", 3, outlierSpec())};
  d.sync(second);
  EXPECT_TRUE(published(d.apply(second), 3).ejected);
  // Host 3 leaves (a Marathon task killed): forgotten, and a new host at its place starts clean.
  OutlierDetector::Clusters third{makeCluster("web", 2, outlierSpec())};
  d.sync(third);
  EXPECT_EQ(d.find("web", addr(3)), nullptr);
  EXPECT_FALSE(d.nextExpiry().has_value());
  OutlierDetector::Clusters fourth{makeCluster("web", 3, outlierSpec())};
  d.sync(fourth);
  EXPECT_TRUE(published(d.apply(fourth), 3).routable());
}

TEST(OutlierDetector, ForgetsClustersThatLeaveOrTurnDetectionOff) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  d.onReport(failures("web", 1), t0);
  const auto published_copy = d.apply(clusters);
  conf::OutlierSpec off;
  off.consecutive_failures = 0;
  OutlierDetector::Clusters without{makeCluster("web", 3, off)};
  d.sync(without);
  EXPECT_EQ(d.find("web", addr(1)), nullptr);
  EXPECT_FALSE(d.onReport(failures("web", 1), t0));
  // A republish of the old copy loses its marks.
  EXPECT_FALSE(published(d.apply(published_copy), 1).ejected);
  d.sync({});
  EXPECT_FALSE(d.onReport(failures("web", 2), t0));
}

TEST(OutlierDetector, IgnoresALateReportAboutAHostThatLeft) {
  OutlierDetector d;
  OutlierDetector::Clusters clusters{makeCluster("web", 3, outlierSpec())};
  d.sync(clusters);
  EXPECT_FALSE(d.onReport(failures("web", 7), t0));
  EXPECT_EQ(d.find("web", addr(7)), nullptr);
  EXPECT_FALSE(d.nextExpiry().has_value());
}

TEST(OutlierDetector, EjectionTimeNeverOverflows) {
  auto spec = outlierSpec();
  spec.base_ejection = milliseconds(10'000);
  spec.max_ejection = milliseconds(300'000);
  EXPECT_EQ(ejectionTime(spec, 1), milliseconds(10'000));
  EXPECT_EQ(ejectionTime(spec, 3), milliseconds(30'000));
  EXPECT_EQ(ejectionTime(spec, 4'000'000'000u), milliseconds(300'000));
}

}  // namespace
}  // namespace baton::proxy::health
