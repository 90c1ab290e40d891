// [[cluster]] health_check and panic (issue 8).
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

TEST(LoaderHealth, AbsentMeansNoCheckAndPanicOn) {
  const ConfigSpec spec = load(base());
  EXPECT_FALSE(spec.clusters[0].health_check.has_value());
  EXPECT_TRUE(spec.clusters[0].panic);
}

TEST(LoaderHealth, EmptyTableTakesDefaults) {
  const ConfigSpec spec = load(withClusterKeys("health_check = {}\n"));
  ASSERT_TRUE(spec.clusters[0].health_check.has_value());
  EXPECT_EQ(*spec.clusters[0].health_check, HealthCheckSpec{});
  EXPECT_EQ(spec.clusters[0].health_check->interval, milliseconds(5'000));
  EXPECT_EQ(spec.clusters[0].health_check->unhealthy_threshold, 3u);
}

TEST(LoaderHealth, EveryKey) {
  const ConfigSpec spec = load(withClusterKeys(
      "panic = false\n"
      "health_check = { protocol = \"https\", path = \"/health\", port = 8443, interval = "
      "\"200ms\", timeout = \"1s\", healthy_threshold = 1, unhealthy_threshold = 5, grace = "
      "\"30s\", expect = \"204\", host = \"svc.internal\" }\n"));
  const ClusterSpec& c = spec.clusters[0];
  EXPECT_FALSE(c.panic);
  ASSERT_TRUE(c.health_check.has_value());
  const HealthCheckSpec& h = *c.health_check;
  EXPECT_EQ(h.protocol, HealthCheckProtocol::Https);
  EXPECT_EQ(h.path, "/health");
  EXPECT_EQ(h.port, uint16_t{8443});
  EXPECT_EQ(h.interval, milliseconds(200));
  EXPECT_EQ(h.timeout, milliseconds(1'000));
  EXPECT_EQ(h.healthy_threshold, 1u);
  EXPECT_EQ(h.unhealthy_threshold, 5u);
  EXPECT_EQ(h.grace, milliseconds(30'000));
  EXPECT_EQ(h.expect_min, 204);
  EXPECT_EQ(h.expect_max, 204);
  EXPECT_EQ(h.host_header, "svc.internal");
}

TEST(LoaderHealth, SubTableForm) {
  std::string text = base() + "";
  text.insert(text.find("[[vhost]]"), "[cluster.health_check]\nprotocol = \"tcp\"\n\n");
  const ConfigSpec spec = load(text);
  ASSERT_TRUE(spec.clusters[0].health_check.has_value());
  EXPECT_EQ(spec.clusters[0].health_check->protocol, HealthCheckProtocol::Tcp);
}

TEST(LoaderHealth, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { protocol = \"udp\" }\n")),
            "t.toml:8: cluster[0].health_check.protocol: unknown value \"udp\" (expected one of "
            "\"http\", \"https\", \"tcp\")");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { interval = \"0s\" }\n")),
            "t.toml:8: cluster[0].health_check.interval: must be greater than 0");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { unhealthy_threshold = 0 }\n")),
            "t.toml:8: cluster[0].health_check.unhealthy_threshold: must be 1..100, got 0");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { port = 0 }\n")),
            "t.toml:8: cluster[0].health_check.port: must be 1..65535, got 0");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { expect = \"399-200\" }\n")),
            "t.toml:8: cluster[0].health_check.expect: expected a status or a range such as "
            "\"200-399\" (100..599)");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { expect = \"2xx\" }\n")),
            "t.toml:8: cluster[0].health_check.expect: expected a status or a range such as "
            "\"200-399\" (100..599)");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { path = \"health\" }\n")).substr(0, 39),
            "t.toml:8: cluster[0].health_check.path:");
  EXPECT_EQ(errorOf(withClusterKeys("health_check = { protocol = \"tcp\", path = \"/h\" }\n")),
            "t.toml:8: cluster[0].health_check.path: only with protocol = \"http\" or \"https\"");
  EXPECT_EQ(errorOf(withClusterKeys("panic = \"yes\"\n")).substr(0, 28),
            "t.toml:8: cluster[0].panic: ");
  const std::string unknown = errorOf(withClusterKeys("health_check = { intervl = \"1s\" }\n"));
  EXPECT_EQ(unknown.rfind("t.toml:8: cluster[0].health_check.intervl: unknown key (expected one "
                          "of: protocol, path, port, interval,",
                          0),
            0u)
      << unknown;
}

}  // namespace
}  // namespace baton::conf
