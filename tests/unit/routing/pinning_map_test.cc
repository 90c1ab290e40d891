// LearnedMap (routing/pinning.h): LRU bound, negative expiry, removed versions, ETag lookup.
#include <gtest/gtest.h>

#include <string>

#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

using std::chrono::seconds;

GroupView twoVersions() {
  GroupView view;
  view.versions = {{"v1", 1, 1}, {"v2", 1, 1}};
  view.cdn_version = 0;
  view.in_cutover = view.active = true;
  return view;
}

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

TEST(PinMap, LearnsHasAndLacks) {
  LearnedMap map(100, seconds(60));
  const GroupView view = twoVersions();
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0u);
  map.learnHas("/a.js", "v2", "\"e2\"");
  map.learnLacks("/a.js", "v1", t0);
  const PathKnowledge k = map.lookup("/a.js", view, t0);
  EXPECT_EQ(k.has, 0b10u);
  EXPECT_EQ(k.lacks, 0b01u);
  EXPECT_EQ(map.size(), 1u);
  // Paths are exact: no prefix or query folding here.
  EXPECT_EQ(map.lookup("/a.js/", view, t0).has, 0u);
  EXPECT_EQ(map.lookup("/A.js", view, t0).has, 0u);
}

TEST(PinMap, LaterAnswerReplacesEarlier) {
  LearnedMap map(100, seconds(60));
  const GroupView view = twoVersions();
  map.learnLacks("/a.js", "v1", t0);
  map.learnHas("/a.js", "v1", "");
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0b01u);
  EXPECT_EQ(map.lookup("/a.js", view, t0).lacks, 0u);
  map.learnLacks("/a.js", "v1", t0);
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0u);
  EXPECT_EQ(map.lookup("/a.js", view, t0).lacks, 0b01u);
}

TEST(PinMap, NegativeEntriesExpire) {
  LearnedMap map(100, seconds(60));
  const GroupView view = twoVersions();
  map.learnLacks("/a.js", "v1", t0);
  map.learnHas("/a.js", "v2", "");
  EXPECT_EQ(map.lookup("/a.js", view, t0 + seconds(59)).lacks, 0b01u);
  const PathKnowledge later = map.lookup("/a.js", view, t0 + seconds(60));
  EXPECT_EQ(later.lacks, 0u);
  EXPECT_EQ(later.has, 0b10u);  // positive facts do not expire
  // A path with only an expired negative fact goes away entirely.
  map.learnLacks("/b.js", "v1", t0);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.lookup("/b.js", view, t0 + seconds(61)).lacks, 0u);
  EXPECT_EQ(map.size(), 1u);
}

TEST(PinMap, RemovedVersionsIgnoredAndDropped) {
  LearnedMap map(100, seconds(60));
  GroupView view = twoVersions();
  map.learnHas("/a.js", "v1", "\"e1\"");
  map.learnHas("/a.js", "v2", "\"e2\"");
  // v1 removed from the spec, v3 added in front: indexes change, facts follow ids.
  GroupView next;
  next.versions = {{"v2", 1, 1}, {"v3", 1, 1}};
  EXPECT_EQ(map.lookup("/a.js", next, t0).has, 0b01u);
  EXPECT_EQ(map.versionForEtag("/a.js", "\"e1\"", next), -1);
  // Dropped, not hidden: v1 back again later knows nothing of /a.js.
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0b10u);
  // Every fact of a path gone: the path goes.
  map.learnHas("/only-v1.js", "v1", "");
  EXPECT_EQ(map.lookup("/only-v1.js", next, t0).has, 0u);
  EXPECT_EQ(map.size(), 1u);
}

TEST(PinMap, VersionWithoutHostsIsNotReported) {
  LearnedMap map(100, seconds(60));
  GroupView view = twoVersions();
  map.learnHas("/a.js", "v1", "\"e1\"");
  view.versions[0].hosts = view.versions[0].serving = 0;  // still in the spec, no task
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0u);
  EXPECT_EQ(map.versionForEtag("/a.js", "\"e1\"", view), -1);
  view.versions[0].hosts = 1;  // scaled back up: the fact was kept
  EXPECT_EQ(map.lookup("/a.js", view, t0).has, 0b01u);
}

TEST(PinMap, LruEvictsTheLeastRecentlyUsed) {
  LearnedMap map(3, seconds(60));
  const GroupView view = twoVersions();
  map.learnHas("/1", "v1", "");
  map.learnHas("/2", "v1", "");
  map.learnHas("/3", "v1", "");
  EXPECT_EQ(map.lookup("/1", view, t0).has, 1u);  // /1 used: /2 is now the oldest
  map.learnHas("/3", "v2", "");                   // learning touches too: /3 newest
  map.learnHas("/4", "v1", "");
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.lookup("/2", view, t0).has, 0u);
  EXPECT_EQ(map.lookup("/1", view, t0).has, 1u);
  EXPECT_EQ(map.lookup("/3", view, t0).has, 3u);
  EXPECT_EQ(map.lookup("/4", view, t0).has, 1u);
  map.learnHas("/5", "v1", "");  // /1 is the oldest now
  EXPECT_EQ(map.lookup("/1", view, t0).has, 0u);
  EXPECT_EQ(map.size(), 3u);
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.lookup("/5", view, t0).has, 0u);
}

TEST(PinMap, ZeroCapacityLearnsNothing) {
  LearnedMap map(0, seconds(60));
  map.learnHas("/a", "v1", "");
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.lookup("/a", twoVersions(), t0).has, 0u);
}

TEST(PinMap, ManyPathsStayBoundedAndFindable) {
  LearnedMap map(10'000, seconds(60));
  const GroupView view = twoVersions();
  for (int i = 0; i < 25'000; ++i) map.learnHas("/assets/f" + std::to_string(i), "v2", "");
  EXPECT_EQ(map.size(), 10'000u);
  EXPECT_EQ(map.lookup("/assets/f14999", view, t0).has, 0u);
  EXPECT_EQ(map.lookup("/assets/f15000", view, t0).has, 0b10u);
  EXPECT_EQ(map.lookup("/assets/f24999", view, t0).has, 0b10u);
}

TEST(PinMap, EtagLookup) {
  LearnedMap map(100, seconds(60));
  const GroupView view = twoVersions();
  map.learnHas("/a.js", "v1", "\"aaa\"");
  map.learnHas("/a.js", "v2", "W/\"b,b\"");  // a comma inside a quoted entity-tag
  EXPECT_EQ(map.versionForEtag("/a.js", "\"aaa\"", view), 0);
  EXPECT_EQ(map.versionForEtag("/a.js", "W/\"aaa\"", view), 0);  // weak comparison
  EXPECT_EQ(map.versionForEtag("/a.js", "\"b,b\"", view), 1);
  EXPECT_EQ(map.versionForEtag("/a.js", "\"x\", W/\"b,b\"", view), 1);
  EXPECT_EQ(map.versionForEtag("/a.js", " \"zz\" ,\"aaa\"", view), 0);
  EXPECT_EQ(map.versionForEtag("/a.js", "*", view), -1);
  EXPECT_EQ(map.versionForEtag("/a.js", "\"x\"", view), -1);
  EXPECT_EQ(map.versionForEtag("/a.js", "", view), -1);
  EXPECT_EQ(map.versionForEtag("/b.js", "\"aaa\"", view), -1);  // per path
  EXPECT_EQ(map.versionForEtag("/a.js", "\"aa", view), -1);     // unterminated
  // A 404 forgets the version's ETag.
  map.learnLacks("/a.js", "v1", t0);
  EXPECT_EQ(map.versionForEtag("/a.js", "\"aaa\"", view), -1);
}

}  // namespace
}  // namespace baton::routing::pin
