// BATON_{n}_RETRY_ON, _RETRIES and the circuit-breaking labels -> the app cluster's specs.
#include <gtest/gtest.h>

#include "discovery/model/labels.h"

namespace baton::discovery {
namespace {

App appWith(std::map<std::string, std::string> labels) {
  App app;
  app.id = "/shop/web";
  app.service_ports = {10000, 10001};
  app.labels = std::move(labels);
  return app;
}

PortLabels read(const App& app, size_t index, std::vector<conf::DiscoveryIssue>& issues) {
  return readPortLabels(app, index, issues);
}

TEST(RetryLabels, AbsentKeepsTheDefaults) {
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels labels = read(appWith({}), 0, issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(labels.retry, conf::RetryPolicySpec{});
  EXPECT_EQ(labels.limits, conf::CircuitLimitsSpec{});
}

TEST(RetryLabels, PolicyAndLimitsPerPort) {
  std::vector<conf::DiscoveryIssue> issues;
  const App app = appWith({{"BATON_0_RETRY_ON", "Reset, 503"},
                           {"BATON_0_RETRIES", "1"},
                           {"BATON_0_MAX_REQUESTS", "100"},
                           {"BATON_0_MAX_PENDING", "5"},
                           {"BATON_0_MAX_CONNECTIONS", "50"},
                           {"BATON_1_RETRY_ON", "none"}});
  const PortLabels zero = read(app, 0, issues);
  EXPECT_TRUE(zero.retry.on_reset);
  EXPECT_EQ(zero.retry.statuses, (std::vector<uint16_t>{503}));
  EXPECT_EQ(zero.retry.retries, 1u);
  EXPECT_EQ(zero.limits.max_requests, 100u);
  EXPECT_EQ(zero.limits.max_pending, 5u);
  EXPECT_EQ(zero.limits.max_connections, 50u);
  const PortLabels one = read(app, 1, issues);
  EXPECT_FALSE(one.retry.on_reset);
  EXPECT_TRUE(one.retry.statuses.empty());
  EXPECT_EQ(one.limits, conf::CircuitLimitsSpec{});
  EXPECT_TRUE(issues.empty()) << issues.front().text();
}

TEST(RetryLabels, BadValuesAreIssuesAndTheDefaultsStay) {
  std::vector<conf::DiscoveryIssue> issues;
  const App app = appWith({{"BATON_0_RETRY_ON", "reset,404"},
                           {"BATON_0_RETRIES", "many"},
                           {"BATON_0_MAX_REQUESTS", "-3"}});
  const PortLabels labels = read(app, 0, issues);
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].subject, "BATON_0_RETRY_ON");
  EXPECT_EQ(issues[1].subject, "BATON_0_RETRIES");
  EXPECT_EQ(issues[2].subject, "BATON_0_MAX_REQUESTS");
  EXPECT_EQ(labels.retry, conf::RetryPolicySpec{});
  EXPECT_EQ(labels.limits.max_requests, 0u);
}

}  // namespace
}  // namespace baton::discovery
