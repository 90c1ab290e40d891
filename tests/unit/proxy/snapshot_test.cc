// buildSnapshot's clusters: many hosts to create are created on two threads, with the same
// clusters in the same order as on one, and the first error in cluster order; the clusters'
// index by name.
#include "proxy/snapshot.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::proxy {
namespace {

// `clusters` clusters of `hosts` hosts each (127.<c>.<h/250>.<h%250+1>:8080); with `bad`, host
// 10 of each cluster listed there has a name instead of an address.
std::shared_ptr<const conf::ConfigSpec> manyHosts(int clusters, int hosts,
                                                  std::vector<int> bad = {}) {
  auto config = std::make_shared<conf::ConfigSpec>();
  for (int c = 0; c < clusters; ++c) {
    conf::ClusterSpec cluster;
    cluster.name = "c" + std::to_string(c);
    cluster.origin = "marathon:/c" + std::to_string(c);
    std::vector<conf::HostSpec> list;
    for (int h = 0; h < hosts; ++h) {
      conf::HostSpec host;
      host.address = "127." + std::to_string(c) + "." + std::to_string(h / 250) + "." +
                     std::to_string(h % 250 + 1) + ":8080";
      if (h == 10 && std::find(bad.begin(), bad.end(), c) != bad.end()) {
        host.address = "name.example:8080";
      }
      host.name = "h" + std::to_string(h);
      list.push_back(std::move(host));
    }
    cluster.hosts = std::move(list);
    config->clusters.push_back(std::move(cluster));
  }
  return config;
}

TEST(Snapshot, ManyHostsCreatedOnTwoThreadsInOrder) {
  auto built = buildSnapshot(manyHosts(4, 8000), 1, nullptr, 1);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  const auto& clusters = (*built)->clusters;
  ASSERT_EQ(clusters.size(), 4u);
  for (size_t c = 0; c < clusters.size(); ++c) {
    EXPECT_EQ(clusters[c]->name(), "c" + std::to_string(c));
    EXPECT_EQ(clusters[c]->hosts().size(), 8000u);
  }
}

TEST(Snapshot, FirstErrorInClusterOrderWhicheverThreadFoundIt) {
  // Clusters 1 and 3 are bad: 3 lies in the helper's half, 1 in this thread's.
  auto built = buildSnapshot(manyHosts(4, 8000, {1, 3}), 1, nullptr, 1);
  ASSERT_FALSE(built.has_value());
  EXPECT_NE(built.error().detail.find("c1"), std::string::npos) << built.error().detail;
  auto only_last = buildSnapshot(manyHosts(4, 8000, {3}), 1, nullptr, 1);
  ASSERT_FALSE(only_last.has_value());
  EXPECT_NE(only_last.error().detail.find("c3"), std::string::npos) << only_last.error().detail;
}

TEST(Snapshot, ClustersAreIndexedByName) {
  auto built = buildSnapshot(manyHosts(3, 2), 1, nullptr, 1);
  ASSERT_TRUE(built.has_value()) << built.error().detail;
  const ProxySnapshot& snapshot = **built;
  for (uint32_t c = 0; c < 3; ++c) {
    EXPECT_EQ(snapshot.clusterIndexOf("c" + std::to_string(c)), c);
  }
  EXPECT_EQ(snapshot.clusterIndexOf("c3"), std::nullopt);
  EXPECT_EQ(ProxySnapshot{}.clusterIndexOf("c0"), std::nullopt);  // none built
}

}  // namespace
}  // namespace baton::proxy
