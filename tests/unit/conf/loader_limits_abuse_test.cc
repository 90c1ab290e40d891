// [limits] keys against slow and abusive clients (issue 5): body_min_rate, body_rate_window,
// max_connections_total, buffer_budget, fd_reserve.
#include <gtest/gtest.h>

#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf::test {
namespace {

TEST(LoaderLimitsAbuseTest, DefaultsAreOffExceptTheFdReserve) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.limits.body_min_rate, 0u);
  EXPECT_EQ(spec.limits.body_rate_window, Duration(10'000));
  EXPECT_EQ(spec.limits.max_connections_total, 0u);
  EXPECT_EQ(spec.limits.buffer_budget, 0u);
  EXPECT_EQ(spec.limits.fd_reserve, 32u);
}

TEST(LoaderLimitsAbuseTest, ReadsEveryKey) {
  const ConfigSpec spec = load(R"([limits]
body_min_rate = "1KiB/s"
body_rate_window = "5s"
max_connections_total = 50000
buffer_budget = "512MiB"
fd_reserve = 64
)" + base());
  EXPECT_EQ(spec.limits.body_min_rate, 1024u);
  EXPECT_EQ(spec.limits.body_rate_window, Duration(5'000));
  EXPECT_EQ(spec.limits.max_connections_total, 50'000u);
  EXPECT_EQ(spec.limits.buffer_budget, 512ull << 20);
  EXPECT_EQ(spec.limits.fd_reserve, 64u);
}

TEST(LoaderLimitsAbuseTest, RateAsIntegerOrZero) {
  EXPECT_EQ(load("[limits]\nbody_min_rate = 300\n" + base()).limits.body_min_rate, 300u);
  EXPECT_EQ(load("[limits]\nbody_min_rate = \"0/s\"\n" + base()).limits.body_min_rate, 0u);
}

TEST(LoaderLimitsAbuseTest, RefusesBadValuesAtTheirLine) {
  EXPECT_NE(errorOf("[limits]\nbody_min_rate = \"1KiB\"\n" + base()).find("t.toml:2"),
            std::string::npos);
  EXPECT_NE(errorOf("[limits]\nbody_min_rate = \"fast/s\"\n" + base()), "OK");
  EXPECT_NE(errorOf("[limits]\nbody_min_rate = -1\n" + base()), "OK");
  EXPECT_NE(errorOf("[limits]\nbody_rate_window = \"0s\"\n" + base()), "OK");
  EXPECT_NE(errorOf("[limits]\nfd_reserve = 100000\n" + base()), "OK");
  EXPECT_NE(errorOf("[limits]\nbuffer_budget = \"lots\"\n" + base()), "OK");
}

}  // namespace
}  // namespace baton::conf::test
