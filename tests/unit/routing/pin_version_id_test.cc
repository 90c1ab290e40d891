// derivedVersionId: the id every baton instance derives for a Marathon app without
// BATON_PIN_VERSION. The golden values were computed independently (Python: FNV-1a 64 over
// app_id + '\n' + timestamp, splitmix64 finaliser, top 40 bits in hex): a change of the hash
// would break cookies and `?dpl=` tokens across a baton upgrade, so it must fail here.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

TEST(DerivedVersionId, GoldenValues) {
  EXPECT_EQ(derivedVersionId("/shop-blue", "2024-01-01T00:00:00.000Z"), "ae03a5f209");
  EXPECT_EQ(derivedVersionId("/shop-green", "2024-01-01T00:00:00.000Z"), "631a449255");
  EXPECT_EQ(derivedVersionId("/shop-blue", "2024-01-01T00:00:01.000Z"), "3b3cfe8bf9");
  EXPECT_EQ(derivedVersionId("", ""), "8f322bb967");
}

TEST(DerivedVersionId, TenLowerCaseHexDigits) {
  const std::string id = derivedVersionId("/team/app", "2025-06-30T12:34:56.789Z");
  ASSERT_EQ(id.size(), 10u);
  for (const char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_EQ(id, derivedVersionId("/team/app", "2025-06-30T12:34:56.789Z"));  // deterministic
}

// The separator keeps (app, time) pairs apart that concatenate to the same bytes.
TEST(DerivedVersionId, SeparatorKeepsFieldsApart) {
  EXPECT_NE(derivedVersionId("/a", "b2024"), derivedVersionId("/ab", "2024"));
}

// Colour reuse (scenario 10): blue -> green -> blue again gets a new id, because the app's
// lastConfigChangeAt moved. Many nearby timestamps stay distinct.
TEST(DerivedVersionId, NearbyTimestampsDiffer) {
  std::set<std::string> ids;
  for (int s = 0; s < 60; ++s) {
    const std::string at =
        "2024-01-01T00:00:" + std::string(s < 10 ? "0" : "") + std::to_string(s) + ".000Z";
    ids.insert(derivedVersionId("/shop-blue", at));
  }
  EXPECT_EQ(ids.size(), 60u);
}

}  // namespace
}  // namespace baton::routing::pin
