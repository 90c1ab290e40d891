// BATON_{n}_OUTLIER* labels -> conf::OutlierSpec of the port's cluster (issue 8).
#include <gtest/gtest.h>

#include "discovery/model/labels.h"

namespace baton::discovery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

App appWith(std::map<std::string, std::string> labels) {
  App app;
  app.id = "/shop/web";
  app.service_ports = {10000, 10001};
  app.labels = std::move(labels);
  return app;
}

conf::OutlierSpec outlierOf(const App& app, size_t index,
                            std::vector<conf::DiscoveryIssue>* issues_out = nullptr) {
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels labels = readPortLabels(app, index, issues);
  if (issues_out != nullptr) {
    *issues_out = issues;
  } else {
    EXPECT_TRUE(issues.empty()) << issues.front().text();
  }
  return labels.outlier;
}

TEST(OutlierLabels, OnByDefault) {
  const conf::OutlierSpec spec = outlierOf(appWith({}), 0);
  EXPECT_TRUE(spec.enabled());
  EXPECT_EQ(spec, conf::OutlierSpec{});
  EXPECT_EQ(spec.consecutive_failures, 5u);
  EXPECT_EQ(spec.base_ejection, seconds(10));
}

TEST(OutlierLabels, OffPerPort) {
  const App app = appWith({{"BATON_1_OUTLIER", "off"}, {"BATON_1_OUTLIER_CONSECUTIVE", "9"}});
  EXPECT_TRUE(outlierOf(app, 0).enabled());
  EXPECT_FALSE(outlierOf(app, 1).enabled());
}

TEST(OutlierLabels, ConsecutiveAndBaseEjection) {
  const App app = appWith({{"BATON_0_OUTLIER", "on"},
                           {"BATON_0_OUTLIER_CONSECUTIVE", "3"},
                           {"BATON_0_OUTLIER_BASE_EJECTION", "0.5"},
                           {"BATON_1_OUTLIER_BASE_EJECTION", "600s"}});
  const conf::OutlierSpec spec = outlierOf(app, 0);
  EXPECT_EQ(spec.consecutive_failures, 3u);
  EXPECT_EQ(spec.base_ejection, milliseconds(500));
  EXPECT_EQ(spec.max_ejection, seconds(300));
  // A base above the default max raises the max with it.
  const conf::OutlierSpec longer = outlierOf(app, 1);
  EXPECT_EQ(longer.base_ejection, seconds(600));
  EXPECT_EQ(longer.max_ejection, seconds(600));
}

TEST(OutlierLabels, BadValuesAreIssuesAndTheDefaultsStay) {
  const App app = appWith({{"BATON_0_OUTLIER", "maybe"},
                           {"BATON_0_OUTLIER_CONSECUTIVE", "0"},
                           {"BATON_0_OUTLIER_BASE_EJECTION", "-1"}});
  std::vector<conf::DiscoveryIssue> issues;
  const conf::OutlierSpec spec = outlierOf(app, 0, &issues);
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].subject, "BATON_0_OUTLIER");
  EXPECT_EQ(issues[1].subject, "BATON_0_OUTLIER_CONSECUTIVE");
  EXPECT_EQ(issues[2].subject, "BATON_0_OUTLIER_BASE_EJECTION");
  EXPECT_EQ(spec, conf::OutlierSpec{});
}

TEST(OutlierLabels, KnownToTheLabelCheck) {
  const App app = appWith({{"BATON_0_OUTLIER", "off"},
                           {"BATON_1_OUTLIER_CONSECUTIVE", "2"},
                           {"BATON_1_OUTLIER_BASE_EJECTION", "1s"}});
  std::vector<conf::DiscoveryIssue> issues;
  checkAppLabels(app, issues);
  EXPECT_TRUE(issues.empty()) << issues.front().text();
}

}  // namespace
}  // namespace baton::discovery
