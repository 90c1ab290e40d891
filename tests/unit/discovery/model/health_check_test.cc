// Marathon healthChecks + BATON_{n}_HEALTH_CHECK* labels -> conf::HealthCheckSpec (issue 8).
#include <gtest/gtest.h>

#include "discovery/model/labels.h"
#include "discovery/model/translate.h"

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

App appWith(std::vector<HealthCheck> checks, std::map<std::string, std::string> labels = {}) {
  App app;
  app.id = "/shop/web";
  app.service_ports = {10000, 10001};
  app.health_checks = std::move(checks);
  app.labels = std::move(labels);
  return app;
}

HealthCheck check(std::string protocol, std::optional<uint32_t> port_index,
                  std::optional<uint16_t> port = std::nullopt) {
  HealthCheck hc;
  hc.protocol = std::move(protocol);
  hc.path = "/health";
  hc.port_index = port_index;
  hc.port = port;
  hc.interval_seconds = 3;
  hc.timeout_seconds = 2;
  hc.max_consecutive_failures = 4;
  hc.grace_period_seconds = 15;
  return hc;
}

std::optional<conf::HealthCheckSpec> specOf(const App& app, size_t index) {
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels labels = readPortLabels(app, index, issues);
  EXPECT_TRUE(issues.empty()) << issues.front().text();
  return healthCheckSpecFor(app, index, labels);
}

TEST(HealthCheckSpecFor, HttpCheckOfItsPortIndex) {
  const App app = appWith({check("HTTP", 0)});
  const auto spec = specOf(app, 0);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->protocol, conf::HealthCheckProtocol::Http);
  EXPECT_EQ(spec->path, "/health");
  EXPECT_FALSE(spec->port.has_value());
  EXPECT_EQ(spec->interval, seconds(3));
  EXPECT_EQ(spec->timeout, seconds(2));
  EXPECT_EQ(spec->unhealthy_threshold, 4u);
  EXPECT_EQ(spec->healthy_threshold, 2u);
  EXPECT_EQ(spec->grace, seconds(15));
  EXPECT_EQ(spec->expect_min, 200);
  EXPECT_EQ(spec->expect_max, 399);
  EXPECT_FALSE(specOf(app, 1).has_value());  // no check names port index 1
}

TEST(HealthCheckSpecFor, ProtocolsMap) {
  EXPECT_EQ(specOf(appWith({check("MESOS_HTTP", 0)}), 0)->protocol,
            conf::HealthCheckProtocol::Http);
  EXPECT_EQ(specOf(appWith({check("HTTPS", 0)}), 0)->protocol, conf::HealthCheckProtocol::Https);
  EXPECT_EQ(specOf(appWith({check("MESOS_HTTPS", 0)}), 0)->protocol,
            conf::HealthCheckProtocol::Https);
  EXPECT_EQ(specOf(appWith({check("TCP", 0)}), 0)->protocol, conf::HealthCheckProtocol::Tcp);
  EXPECT_EQ(specOf(appWith({check("MESOS_TCP", 0)}), 0)->protocol, conf::HealthCheckProtocol::Tcp);
  EXPECT_FALSE(specOf(appWith({check("COMMAND", 0)}), 0).has_value());
}

TEST(HealthCheckSpecFor, ExplicitPortCoversEveryServicePort) {
  const App app = appWith({check("TCP", std::nullopt, 8080), check("HTTP", 1)});
  // marathon-lb's get_health_check: in order, the first check with an explicit port or this
  // port's index; an explicit port then covers every port.
  for (size_t i : {0u, 1u}) {
    const auto spec = specOf(app, i);
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(spec->protocol, conf::HealthCheckProtocol::Tcp);
    EXPECT_EQ(spec->port, uint16_t{8080});
  }
}

TEST(HealthCheckSpecFor, OrderDecidesLikeMarathonLb) {
  const App app = appWith({check("HTTP", 1), check("TCP", std::nullopt, 8080)});
  EXPECT_EQ(specOf(app, 0)->protocol, conf::HealthCheckProtocol::Tcp);
  EXPECT_EQ(specOf(app, 0)->port, uint16_t{8080});
  EXPECT_EQ(specOf(app, 1)->protocol, conf::HealthCheckProtocol::Http);
  EXPECT_FALSE(specOf(app, 1)->port.has_value());
}

TEST(HealthCheckSpecFor, SecondCheckByPortIndex) {
  const App app = appWith({check("HTTP", 0), check("TCP", 1)});
  EXPECT_EQ(specOf(app, 0)->protocol, conf::HealthCheckProtocol::Http);
  EXPECT_EQ(specOf(app, 1)->protocol, conf::HealthCheckProtocol::Tcp);
}

TEST(HealthCheckSpecFor, ZeroFailuresStillNeedsOne) {
  HealthCheck hc = check("HTTP", 0);
  hc.max_consecutive_failures = 0;
  hc.interval_seconds = 0;
  const auto spec = specOf(appWith({hc}), 0);
  EXPECT_EQ(spec->unhealthy_threshold, 1u);
  EXPECT_EQ(spec->interval, seconds(1));
}

TEST(HealthCheckSpecFor, LabelsOverrideOrTurnOff) {
  const App app = appWith({check("HTTP", 0)}, {{"BATON_0_HEALTH_CHECK_PATH", "/ready"},
                                               {"BATON_0_HEALTH_CHECK_INTERVAL", "0.5"},
                                               {"BATON_1_HEALTH_CHECK", "off"}});
  const auto spec = specOf(app, 0);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->path, "/ready");
  EXPECT_EQ(spec->interval, milliseconds(500));
  const App off = appWith({check("HTTP", std::nullopt, 9000)}, {{"BATON_1_HEALTH_CHECK", "OFF"}});
  EXPECT_TRUE(specOf(off, 0).has_value());
  EXPECT_FALSE(specOf(off, 1).has_value());
  const App unit = appWith({check("HTTP", 0)}, {{"BATON_0_HEALTH_CHECK_INTERVAL", "200ms"}});
  EXPECT_EQ(specOf(unit, 0)->interval, milliseconds(200));
}

TEST(HealthCheckSpecFor, BadLabelsAreIssuesAndIgnored) {
  const App app = appWith({check("HTTP", 0)}, {{"BATON_0_HEALTH_CHECK", "maybe"},
                                               {"BATON_0_HEALTH_CHECK_PATH", "no-slash"},
                                               {"BATON_0_HEALTH_CHECK_INTERVAL", "-1"}});
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels labels = readPortLabels(app, 0, issues);
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].subject, "BATON_0_HEALTH_CHECK");
  EXPECT_EQ(issues[1].subject, "BATON_0_HEALTH_CHECK_PATH");
  EXPECT_EQ(issues[2].subject, "BATON_0_HEALTH_CHECK_INTERVAL");
  const auto spec = healthCheckSpecFor(app, 0, labels);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->path, "/health");
  EXPECT_EQ(spec->interval, seconds(3));
}

TEST(HealthCheckSpecFor, LabelsAreKnownToTheLabelCheck) {
  const App app = appWith({check("HTTP", 0)}, {{"BATON_0_HEALTH_CHECK", "on"},
                                               {"BATON_0_HEALTH_CHECK_PATH", "/h"},
                                               {"BATON_0_HEALTH_CHECK_INTERVAL", "2"}});
  std::vector<conf::DiscoveryIssue> issues;
  checkAppLabels(app, issues);
  EXPECT_TRUE(issues.empty()) << issues.front().text();
}

}  // namespace
}  // namespace baton::discovery
