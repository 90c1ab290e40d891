// Issue 10's pure pieces: the CDN version as a function of shared state only (no memory of
// earlier choices), the rule-12 hold deadline from Marathon's clock, Marathon's timestamps, and
// the per-path hash pinned to golden values (the same on every instance, build and restart).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/core/stable_hash.h"
#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

struct V {
  const char* id;
  uint32_t serving;
  uint32_t hosts;
};

GroupView view(const std::vector<V>& versions) {
  GroupView v;
  v.group = "site";
  v.active = true;
  for (const V& x : versions) v.versions.push_back({x.id, x.serving, x.hosts, nullptr});
  size_t live = 0;
  for (const auto& x : v.versions) live += x.live() ? 1 : 0;
  v.in_cutover = live >= 2;
  return v;
}

std::string idOf(const GroupView& v, const CdnChoice& c) {
  return c.version < 0 ? "" : v.versions[c.version].id;
}

TEST(CdnVersion, OldestServingVersion) {
  const GroupView v = view({{"v1", 2, 2}, {"v2", 1, 1}});
  const CdnChoice c = chooseCdnVersion(v, {}, 1000);
  EXPECT_EQ(idOf(v, c), "v1");
  EXPECT_STREQ(c.why, "oldest serving");
  EXPECT_FALSE(c.held);
}

TEST(CdnVersion, DeadOlderVersionsAreSkipped) {
  const GroupView v = view({{"v1", 0, 0}, {"v2", 1, 1}, {"v3", 1, 1}});
  EXPECT_EQ(idOf(v, chooseCdnVersion(v, {}, 0)), "v2");
}

TEST(CdnVersion, DrainedOldestIsHeldUntilTheDeadlineThenFlips) {
  const GroupView v = view({{"v1", 0, 2}, {"v2", 2, 2}});
  const CdnInputs in{"", "", 5000};
  const CdnChoice held = chooseCdnVersion(v, in, 4999);
  EXPECT_EQ(idOf(v, held), "v1");
  EXPECT_TRUE(held.held);
  const CdnChoice flipped = chooseCdnVersion(v, in, 5000);
  EXPECT_EQ(idOf(v, flipped), "v2");
  EXPECT_FALSE(flipped.held);
  EXPECT_STREQ(flipped.why, "no serving host");
}

TEST(CdnVersion, NothingServingKeepsTheOldestLive) {
  const GroupView v = view({{"v1", 0, 1}, {"v2", 0, 1}});
  EXPECT_EQ(idOf(v, chooseCdnVersion(v, {}, 0)), "v1");
  const GroupView none = view({{"v1", 0, 0}});
  EXPECT_EQ(chooseCdnVersion(none, {}, 0).version, -1);
}

TEST(CdnVersion, LabelThenOperatorWhenLive) {
  const GroupView v = view({{"v1", 0, 1}, {"v2", 2, 2}, {"v3", 1, 1}});
  CdnInputs in{"", "v3", 99'999};
  CdnChoice c = chooseCdnVersion(v, in, 0);
  EXPECT_EQ(idOf(v, c), "v3");
  EXPECT_STREQ(c.why, "label");
  in.operator_id = "v1";  // draining only, but live: the operator's word
  c = chooseCdnVersion(v, in, 0);
  EXPECT_EQ(idOf(v, c), "v1");
  EXPECT_STREQ(c.why, "operator");
  in = {"gone", "nope", 0};  // neither names a live version: the rule
  EXPECT_EQ(idOf(v, chooseCdnVersion(v, in, 0)), "v2");
}

// The point of issue 10: the answer depends on the inputs only. Every order of observation
// (an instance that saw each step, one that restarted late) gives the same version.
TEST(CdnVersion, NoHistory) {
  const std::vector<GroupView> steps = {
      view({{"v1", 2, 2}, {"v2", 0, 0}}), view({{"v1", 2, 2}, {"v2", 1, 1}}),
      view({{"v1", 1, 2}, {"v2", 2, 2}}), view({{"v1", 0, 2}, {"v2", 2, 2}}),
      view({{"v1", 0, 0}, {"v2", 2, 2}})};
  const CdnInputs in{"", "", 10'000};
  for (int64_t now : {0, 9'999, 10'000, 20'000}) {
    std::vector<std::string> forward, backward;
    for (const auto& s : steps) forward.push_back(idOf(s, chooseCdnVersion(s, in, now)));
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      backward.insert(backward.begin(), idOf(*it, chooseCdnVersion(*it, in, now)));
    }
    EXPECT_EQ(forward, backward) << now;
  }
}

TEST(HoldUntil, SharedWhenMarathonSaysEnough) {
  EXPECT_EQ(holdUntilMs(1'000'000, 300'000, 5'000'000), 1'300'000);  // local mark ignored
  EXPECT_EQ(holdUntilMs(1'000'000, 0, 5'000'000), 1'000'000);
  EXPECT_EQ(holdUntilMs(0, 300'000, 5'000'000), 5'000'000);     // no start time: local
  EXPECT_EQ(holdUntilMs(1'000'000, -1, 5'000'000), 5'000'000);  // no max freshness: local
}

TEST(MarathonTime, Iso8601) {
  EXPECT_EQ(parseMarathonTimeMs("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(parseMarathonTimeMs("2026-11-25T11:00:00.000Z"), 1'795'604'400'000);
  EXPECT_EQ(parseMarathonTimeMs("2026-11-25T11:00:00Z"), 1'795'604'400'000);
  EXPECT_EQ(parseMarathonTimeMs("2026-11-25T11:00:00.5Z"), 1'795'604'400'500);
  EXPECT_EQ(parseMarathonTimeMs("2026-11-25T11:00:00.123456Z"), 1'795'604'400'123);
  EXPECT_EQ(parseMarathonTimeMs("2026-11-25T12:00:00+01:00"), 1'795'604'400'000);
  EXPECT_EQ(parseMarathonTimeMs("2024-02-29T00:00:00Z"), 1'709'164'800'000);
  EXPECT_EQ(parseMarathonTimeMs("2017-07-19T17:34:41.967Z"), 1'500'485'681'967);
  for (const char* bad : {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z",
                          "2026-11-25T11:00:00.Z", "2026-11-25T11:00:00Zx", "26-11-25T11:00:00Z",
                          "2026-11-25 11:00:00Z", "2026-11-25T11:00:00+0100"}) {
    EXPECT_FALSE(parseMarathonTimeMs(bad).has_value()) << bad;
  }
}

// The per-path pick (rule 3f) is FNV-1a + splitmix64 + weighted rendezvous: spelled out in
// proxy/core/stable_hash.h, no std::hash, no seed, so every instance (and every build) gives a
// path the same version. Pinned here: a change to the function is a change every instance of a
// fleet must make at once.
TEST(PathHash, GoldenValues) {
  EXPECT_EQ(core::stableHash(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(core::stableHash("/style.css"), 0xc2868f77670f7890ULL);
  const auto score = [](const char* path, const char* id, uint32_t w) {
    return core::rendezvousScore(core::stableHash(path), core::stableHash(id), w);
  };
  EXPECT_GT(score("/style.css", "v1", 2), score("/style.css", "v1", 1));  // weight counts
  EXPECT_EQ(score("/style.css", "v1", 0), 0.0);
}

// The pick's weights are the versions' serving counts in the view, which the control thread
// fills from the base snapshot (what Marathon says), so an instance whose own health checks
// took a host out still hashes every path to the same version.
TEST(PathHash, WeightedByTheViewsCountsOnly) {
  const GroupView even = view({{"v1", 1, 1}, {"v2", 1, 1}});
  const GroupView heavy = view({{"v1", 1, 1}, {"v2", 9, 9}});
  int moved_to_v2 = 0, v2_even = 0, v2_heavy = 0;
  for (int i = 0; i < 2000; ++i) {
    RequestFacts f;
    const std::string path = "/p/" + std::to_string(i) + ".css";
    f.method = "GET";
    f.path = path;
    const int a = chooseVersion(even, Traffic::Direct, Kind::Asset, f, {}, -1, "dpl").version;
    const int b = chooseVersion(heavy, Traffic::Direct, Kind::Asset, f, {}, -1, "dpl").version;
    v2_even += a == 1;
    v2_heavy += b == 1;
    if (a == 1) {
      EXPECT_EQ(b, 1) << path;  // rendezvous: more weight only ever takes paths
    }
    moved_to_v2 += a == 0 && b == 1;
  }
  EXPECT_NEAR(v2_even, 1000, 120);
  EXPECT_NEAR(v2_heavy, 1800, 80);
  EXPECT_GT(moved_to_v2, 0);
}

}  // namespace
}  // namespace baton::routing::pin
