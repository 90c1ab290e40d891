// VerdictApplier: the health thread's verdicts applied to the clusters the control thread
// publishes (Host::healthy, panic, copies memoised while nothing flips).
#include "proxy/health/health_verdicts.h"

#include <gtest/gtest.h>

namespace baton::proxy::health {
namespace {

std::shared_ptr<const upstream::Cluster> checkedCluster(const std::string& name, size_t hosts,
                                                        bool check = true, bool panic = true) {
  conf::ClusterSpec spec;
  spec.name = name;
  spec.panic = panic;
  if (check) spec.health_check = conf::HealthCheckSpec{};
  for (size_t i = 1; i <= hosts; ++i) {
    spec.hosts.push_back(conf::HostSpec{{}, "10.0.0." + std::to_string(i) + ":80", 1});
  }
  auto cluster = upstream::Cluster::create(spec);
  EXPECT_TRUE(cluster.has_value());
  return *cluster;
}

std::shared_ptr<const ClusterVerdict> verdict(uint64_t epoch, std::vector<std::string> out) {
  auto v = std::make_shared<ClusterVerdict>();
  v->epoch = epoch;
  v->unroutable.insert(out.begin(), out.end());
  return v;
}

std::vector<bool> healthyFlags(const upstream::Cluster& cluster) {
  std::vector<bool> flags;
  for (const upstream::Host& host : cluster.hosts()) flags.push_back(host.healthy);
  return flags;
}

TEST(VerdictApplier, UnroutableHostsAreMarkedAndOthersLeftAlone) {
  VerdictApplier applier;
  auto web = checkedCluster("web", 3);
  auto plain = checkedCluster("plain", 2, /*check=*/false);
  auto pending = checkedCluster("pending", 2);  // checked, no verdict published yet
  Verdicts verdicts{{"web", verdict(1, {"10.0.0.2:80"})}, {"plain", verdict(1, {"10.0.0.1:80"})}};

  auto out = applier.apply({web, plain, pending}, verdicts);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(healthyFlags(*out[0]), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(out[1], plain) << "no check: a verdict left over for its name is not applied";
  EXPECT_EQ(out[2], pending);
}

TEST(VerdictApplier, CopiesAreMemoisedUntilTheVerdictChanges) {
  VerdictApplier applier;
  auto web = checkedCluster("web", 2);
  Verdicts verdicts{{"web", verdict(1, {"10.0.0.1:80"})}};
  auto first = applier.apply({web}, verdicts)[0];
  EXPECT_EQ(applier.apply({web}, verdicts)[0], first) << "same cluster, same verdict";
  EXPECT_EQ(applier.apply({first}, verdicts)[0], first) << "the published copy re-applied";

  verdicts["web"] = verdict(2, {});
  auto second = applier.apply({first}, verdicts)[0];
  EXPECT_NE(second, first);
  EXPECT_EQ(healthyFlags(*second), (std::vector<bool>{true, true}));
  EXPECT_EQ(applier.apply({web}, verdicts)[0], web) << "every host passes: no copy";
}

TEST(VerdictApplier, EveryHostFailingRoutesToAllUnlessPanicIsOff) {
  VerdictApplier applier;
  auto web = checkedCluster("web", 2);
  auto strict = checkedCluster("strict", 2, /*check=*/true, /*panic=*/false);
  auto all_out = verdict(1, {"10.0.0.1:80", "10.0.0.2:80"});
  auto out = applier.apply({web, strict}, Verdicts{{"web", all_out}, {"strict", all_out}});
  EXPECT_EQ(healthyFlags(*out[0]), (std::vector<bool>{true, true})) << "panic: route to all";
  EXPECT_EQ(healthyFlags(*out[1]), (std::vector<bool>{false, false}));

  admin::EdgeStatus status;
  status.clusters.resize(2);
  status.clusters[0].name = "web";
  status.clusters[1].name = "strict";
  applier.fillStatus(status);
  EXPECT_TRUE(status.clusters[0].health_panic);
  EXPECT_FALSE(status.clusters[1].health_panic);
}

}  // namespace
}  // namespace baton::proxy::health
