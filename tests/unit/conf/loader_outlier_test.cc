// [[cluster]] outlier (passive outlier ejection, issue 8).
#include <gtest/gtest.h>

#include <string>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using test::base;
using test::errorOf;
using test::load;
using test::withClusterKeys;

TEST(LoaderOutlier, OnByDefault) {
  const OutlierSpec& o = load(base()).clusters[0].outlier;
  EXPECT_TRUE(o.enabled());
  EXPECT_EQ(o.consecutive_failures, 5u);
  EXPECT_EQ(o.consecutive_5xx, 0u);
  EXPECT_EQ(o.base_ejection, milliseconds(10'000));
  EXPECT_EQ(o.max_ejection, milliseconds(300'000));
  EXPECT_EQ(o.max_ejected_percent, 50u);
}

TEST(LoaderOutlier, EveryKey) {
  const OutlierSpec o =
      load(withClusterKeys("outlier = { consecutive_failures = 3, consecutive_5xx = 7, "
                           "base_ejection = \"300ms\", max_ejection = \"2s\", "
                           "max_ejected_percent = 34 }\n"))
          .clusters[0]
          .outlier;
  EXPECT_EQ(o.consecutive_failures, 3u);
  EXPECT_EQ(o.consecutive_5xx, 7u);
  EXPECT_EQ(o.base_ejection, milliseconds(300));
  EXPECT_EQ(o.max_ejection, milliseconds(2'000));
  EXPECT_EQ(o.max_ejected_percent, 34u);
}

TEST(LoaderOutlier, ZeroThresholdsTurnItOff) {
  EXPECT_FALSE(load(withClusterKeys("outlier = { consecutive_failures = 0 }\n"))
                   .clusters[0]
                   .outlier.enabled());
  EXPECT_TRUE(load(withClusterKeys("outlier = { consecutive_failures = 0, consecutive_5xx = 2 }\n"))
                  .clusters[0]
                  .outlier.enabled());
}

TEST(LoaderOutlier, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf(withClusterKeys("outlier = { base_ejection = \"0s\" }\n")),
            "t.toml:8: cluster[0].outlier.base_ejection: must be greater than 0");
  EXPECT_EQ(errorOf(withClusterKeys("outlier = { max_ejected_percent = 101 }\n")),
            "t.toml:8: cluster[0].outlier.max_ejected_percent: must be 0..100, got 101");
  EXPECT_EQ(
      errorOf(withClusterKeys("outlier = { base_ejection = \"10s\", max_ejection = \"5s\" }\n")),
      "t.toml:8: cluster[0].outlier.max_ejection: max_ejection must be >= base_ejection");
  EXPECT_EQ(errorOf(withClusterKeys("outlier = { base_ejection = \"600s\" }\n")),
            "t.toml:8: cluster[0].outlier.base_ejection: max_ejection must be >= base_ejection");
  const std::string unknown = errorOf(withClusterKeys("outlier = { consecutive = 3 }\n"));
  EXPECT_EQ(unknown.rfind("t.toml:8: cluster[0].outlier.consecutive: unknown key", 0), 0u)
      << unknown;
}

}  // namespace
}  // namespace baton::conf
