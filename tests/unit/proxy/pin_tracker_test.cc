// PinTracker: cutover detection, the CDN version and its flip rules (oldest serving version; the
// flip held while cached unhashed files may be fresh and an old host still answers; the
// operator's choice), the grace after a cutover and the learned maps' epoch, with time passed in.
#include "proxy/pin_tracker.h"

#include <gtest/gtest.h>

namespace baton::proxy {
namespace {

using upstream::Cluster;

struct HostDef {
  const char* version;
  bool draining = false;
};

// What Marathon says beyond the hosts (issue 10's shared inputs).
struct Shared {
  std::vector<int64_t> started_ms;  // per version (missing = 0: unknown)
  std::string cdn_label;            // BATON_PIN_CDN_VERSION
  int64_t max_fresh_ms = -1;        // BATON_PIN_CDN_MAX_FRESH
};

std::shared_ptr<const Cluster> group(const std::vector<HostDef>& hosts,
                                     std::vector<std::string> versions = {"v1", "v2"},
                                     const Shared& shared = {}) {
  conf::ClusterSpec spec;
  spec.name = "site_10000";
  spec.origin = "marathon:/site";
  conf::PinGroupSpec pin;
  pin.group = "site";
  for (const auto& id : versions) pin.versions.push_back({id, "/site-" + id, "", ""});
  for (size_t i = 0; i < shared.started_ms.size() && i < pin.versions.size(); ++i) {
    pin.versions[i].started_ms = shared.started_ms[i];
  }
  pin.cdn_version = shared.cdn_label;
  pin.cdn_max_fresh_ms = shared.max_fresh_ms;
  spec.pin = pin;
  uint16_t port = 2000;
  for (const HostDef& h : hosts) {
    conf::HostSpec host;
    host.address = "127.0.0.1:" + std::to_string(port++);
    host.version = h.version;
    host.draining = h.draining;
    spec.hosts.push_back(host);
  }
  auto built = Cluster::create(spec);
  EXPECT_TRUE(built.has_value());
  return *built;
}

const PinGroupState& only(const PinTracker::Pins& pins) {
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_NE(pins[0], nullptr);
  return *pins[0];
}

std::string cdnId(const PinGroupState& s) {
  return s.view.cdn_version < 0 ? "" : s.view.versions[s.view.cdn_version].id;
}

class PinTrackerTest : public ::testing::Test {
 protected:
  const PinGroupState& at(int64_t now, const std::vector<HostDef>& hosts,
                          std::vector<std::string> versions = {"v1", "v2"},
                          const Shared& shared = {}) {
    last_ = tracker_.update({group(hosts, std::move(versions), shared)}, settings_, now);
    return only(last_);
  }
  PinTracker tracker_;
  conf::PinningSpec settings_;
  PinTracker::Pins last_;
};

TEST_F(PinTrackerTest, UnpinnedClusterHasNoState) {
  conf::ClusterSpec spec;
  spec.name = "plain";
  spec.hosts = {conf::HostSpec{.address = "127.0.0.1:1"}};
  auto pins = tracker_.update({*Cluster::create(spec)}, settings_, 0);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0], nullptr);
}

TEST_F(PinTrackerTest, OneVersionIsNotACutover) {
  const auto& s = at(1000, {{"v1"}, {"v1"}}, {"v1"});
  EXPECT_FALSE(s.view.in_cutover);
  EXPECT_FALSE(s.view.active);
  EXPECT_EQ(cdnId(s), "v1");
  EXPECT_EQ(s.view.versions[0].serving, 2u);
  EXPECT_FALSE(tracker_.nextDeadlineMs().has_value());
}

// zdd created the new app; its tasks are not routable yet. Not a cutover (one live version, the
// CDN stays), but active: rule 11's cap covers what is handed to the CDN from now on, on every
// instance alike, which is what lets rule 12's deadline be computed from Marathon's clock.
TEST_F(PinTrackerTest, NewerVersionWithoutHostsMakesTheGroupActive) {
  const auto& s = at(1000, {{"v1"}, {"v1"}});
  EXPECT_FALSE(s.view.in_cutover);
  EXPECT_TRUE(s.view.active);
  EXPECT_EQ(cdnId(s), "v1");
  EXPECT_EQ(s.view.versions[1].hosts, 0u);
  // An older version without hosts (the one a cutover left behind) is not a deployment.
  EXPECT_FALSE(at(2000, {{"v2"}}, {"v1", "v2"}).view.in_cutover);
}

TEST_F(PinTrackerTest, SecondVersionStartsCutoverAndCdnStaysOnTheOldest) {
  at(1000, {{"v1"}});
  const auto& s = at(2000, {{"v1"}, {"v2"}});
  EXPECT_TRUE(s.view.in_cutover);
  EXPECT_TRUE(s.view.active);
  EXPECT_EQ(cdnId(s), "v1");
  EXPECT_EQ(s.cutover_started_ms, 2000);
  EXPECT_EQ(s.flips, 0u);
}

TEST_F(PinTrackerTest, DrainingVersionStillCountsForTheCutover) {
  at(1000, {{"v1"}, {"v2"}});
  const auto& s = at(2000, {{"v1", true}, {"v2"}});
  EXPECT_TRUE(s.view.in_cutover);
  EXPECT_EQ(s.view.versions[0].serving, 0u);
  EXPECT_EQ(s.view.versions[0].hosts, 1u);
}

TEST_F(PinTrackerTest, CdnFlipsWhenTheOldVersionHasNoServingHost) {
  at(1000, {{"v1"}, {"v2"}});
  const auto& s = at(2000, {{"v1", true}, {"v2"}});
  EXPECT_EQ(cdnId(s), "v2");
  EXPECT_EQ(s.flips, 1u);
  EXPECT_EQ(s.last_flip_ms, 2000);
  EXPECT_FALSE(s.flip_held);
}

TEST_F(PinTrackerTest, FlipHeldWhileCachedUnhashedFilesMayBeFresh) {
  const auto& first = at(1000, {{"v1"}, {"v2"}});
  first.runtime->noteCdnFreshUntil(5000);
  const auto& held = at(2000, {{"v1", true}, {"v2"}});
  EXPECT_EQ(cdnId(held), "v1");
  EXPECT_TRUE(held.flip_held);
  EXPECT_EQ(tracker_.nextDeadlineMs(), 5000);
  const auto& flipped = at(5000, {{"v1", true}, {"v2"}});
  EXPECT_EQ(cdnId(flipped), "v2");
  EXPECT_FALSE(flipped.flip_held);
  EXPECT_EQ(flipped.flips, 1u);
}

TEST_F(PinTrackerTest, AvailabilityWinsWhenNoOldHostCanAnswer) {
  const auto& first = at(1000, {{"v1"}, {"v2"}});
  first.runtime->noteCdnFreshUntil(50'000);
  const auto& s = at(2000, {{"v2"}});
  EXPECT_EQ(cdnId(s), "v2");
  EXPECT_FALSE(s.flip_held);
  EXPECT_EQ(s.flips, 1u);
}

TEST_F(PinTrackerTest, GraceAfterCutoverThenIdle) {
  settings_.grace = conf::Duration(10'000);
  const uint64_t epoch = at(1000, {{"v1"}, {"v2"}}).view.epoch;
  const auto& grace = at(2000, {{"v2"}});
  EXPECT_FALSE(grace.view.in_cutover);
  EXPECT_TRUE(grace.view.active);
  EXPECT_EQ(grace.grace_until_ms, 12'000);
  EXPECT_EQ(grace.view.epoch, epoch);  // the map still serves the grace
  EXPECT_EQ(tracker_.nextDeadlineMs(), 12'000);
  const auto& idle = at(12'000, {{"v2"}});
  EXPECT_FALSE(idle.view.active);
  EXPECT_FALSE(tracker_.nextDeadlineMs().has_value());
}

TEST_F(PinTrackerTest, NewCutoverAfterGraceGetsANewEpoch) {
  settings_.grace = conf::Duration(1000);
  const uint64_t first = at(1000, {{"v1"}, {"v2"}}).view.epoch;
  at(2000, {{"v2"}});
  const uint64_t within = at(2500, {{"v2"}, {"v3"}}, {"v2", "v3"}).view.epoch;
  EXPECT_EQ(within, first);  // a cutover inside the grace keeps what was learned
  at(3000, {{"v3"}}, {"v2", "v3"});
  const uint64_t later = at(9000, {{"v3"}, {"v4"}}, {"v3", "v4"}).view.epoch;
  EXPECT_NE(later, first);
}

TEST_F(PinTrackerTest, OperatorChoosesTheCdnVersion) {
  at(1000, {{"v1"}, {"v2"}});
  EXPECT_FALSE(tracker_.setCdnVersion("site", "v2").has_value());
  const auto& s = at(2000, {{"v1"}, {"v2"}});
  EXPECT_EQ(cdnId(s), "v2");
  EXPECT_EQ(s.flips, 1u);
  // It stays there: v1 serving again does not flip it back.
  EXPECT_EQ(cdnId(at(3000, {{"v1"}, {"v2"}})), "v2");
}

TEST_F(PinTrackerTest, OperatorErrorsNameWhatIsMissing) {
  at(1000, {{"v1"}, {"v2"}});
  EXPECT_EQ(tracker_.setCdnVersion("nope", "v1"), "no pinned group named nope");
  EXPECT_EQ(tracker_.setCdnVersion("site", "v9"), "group site has no live version v9");
}

TEST_F(PinTrackerTest, RemovedVersionMovesTheCdnToTheOldestServing) {
  at(1000, {{"v1"}, {"v2"}});
  const auto& s = at(2000, {{"v2"}}, {"v2"});
  EXPECT_EQ(cdnId(s), "v2");
  EXPECT_EQ(s.flips, 1u);
}

TEST_F(PinTrackerTest, RuntimeSurvivesSnapshots) {
  const auto runtime = at(1000, {{"v1"}, {"v2"}}).runtime;
  runtime->retries.fetch_add(3);
  EXPECT_EQ(at(2000, {{"v1"}, {"v2"}}).runtime, runtime);
}

// ---- Several instances (issue 10): same Marathon state, same answer ----

// Instance A saw the whole deploy and handed the CDN long-lived files before it (a big local
// freshness mark); instance B started after blue was drained and never served anything. With
// Marathon's start of green and BATON_PIN_CDN_MAX_FRESH both hold the flip until the same
// moment, and flip together.
TEST(PinTrackerInstances, HoldAndFlipFromMarathonsClock) {
  conf::PinningSpec settings;
  const Shared shared{{1'000, 1'500}, "", 5'000};
  PinTracker a, b;
  a.update({group({{"v1"}}, {"v1", "v2"}, shared)}, settings, 1'000)[0]->runtime->noteCdnFreshUntil(
      900'000);
  a.update({group({{"v1"}, {"v2"}}, {"v1", "v2"}, shared)}, settings, 2'000);
  const auto drained = group({{"v1", true}, {"v2"}}, {"v1", "v2"}, shared);
  for (int64_t now : {3'000, 6'499}) {
    const auto sa = a.update({drained}, settings, now);
    const auto sb = b.update({drained}, settings, now);
    EXPECT_EQ(cdnId(*sa[0]), "v1") << now;
    EXPECT_EQ(cdnId(*sb[0]), "v1") << now;
    EXPECT_TRUE(sa[0]->flip_held && sb[0]->flip_held);
    EXPECT_EQ(a.nextDeadlineMs(), 6'500);
    EXPECT_EQ(b.nextDeadlineMs(), 6'500);
    EXPECT_EQ(sa[0]->cutover_started_ms, 1'500);  // Marathon's, not when A saw it (2'000)
  }
  EXPECT_EQ(cdnId(*a.update({drained}, settings, 6'500)[0]), "v2");
  EXPECT_EQ(cdnId(*b.update({drained}, settings, 6'500)[0]), "v2");
}

TEST(PinTrackerInstances, LabelChoosesTheCdnVersionAndBeatsTheHold) {
  conf::PinningSpec settings;
  PinTracker a, b;
  a.update({group({{"v1"}, {"v2"}})}, settings, 1'000);
  Shared shared;
  shared.cdn_label = "v2";
  for (PinTracker* t : {&a, &b}) {
    const auto s = t->update({group({{"v1"}, {"v2"}}, {"v1", "v2"}, shared)}, settings, 2'000);
    EXPECT_EQ(cdnId(*s[0]), "v2");
  }
  shared.cdn_label = "v9";  // no such version: baton's rule
  EXPECT_EQ(cdnId(*a.update({group({{"v1"}, {"v2"}}, {"v1", "v2"}, shared)}, settings, 3'000)[0]),
            "v1");
}

// The admin command is this instance's own override: it lasts until the label changes.
TEST_F(PinTrackerTest, LabelChangeEndsTheOperatorOverride) {
  at(1000, {{"v1"}, {"v2"}});
  ASSERT_FALSE(tracker_.setCdnVersion("site", "v2").has_value());
  EXPECT_EQ(cdnId(at(2000, {{"v1"}, {"v2"}})), "v2");
  Shared shared;
  shared.cdn_label = "v1";
  EXPECT_EQ(cdnId(at(3000, {{"v1"}, {"v2"}}, {"v1", "v2"}, shared)), "v1");
  EXPECT_EQ(cdnId(at(4000, {{"v1"}, {"v2"}}, {"v1", "v2"}, shared)), "v1");
}

// An instance that starts after the cutover ended keeps the grace from Marathon's start of the
// version (its peers keep at least that long).
TEST_F(PinTrackerTest, RestartedInstanceKeepsTheGraceFromMarathonsStart) {
  settings_.grace = conf::Duration(10'000);
  const Shared shared{{0, 5'000}, "", -1};
  const auto& s = at(8'000, {{"v2"}}, {"v1", "v2"}, shared);
  EXPECT_TRUE(s.view.active);
  EXPECT_EQ(s.grace_until_ms, 15'000);
  EXPECT_EQ(tracker_.nextDeadlineMs(), 15'000);
  EXPECT_FALSE(at(15'000, {{"v2"}}, {"v1", "v2"}, shared).view.active);
}

TEST(PinRuntime, FreshnessMarkOnlyRises) {
  PinRuntime rt;
  rt.noteCdnFreshUntil(100);
  rt.noteCdnFreshUntil(50);
  EXPECT_EQ(rt.cdn_fresh_until_ms.load(), 100);
  rt.noteCdnFreshUntil(200);
  EXPECT_EQ(rt.cdn_fresh_until_ms.load(), 200);
}

}  // namespace
}  // namespace baton::proxy
