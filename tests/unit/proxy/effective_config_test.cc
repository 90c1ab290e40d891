// mergeDiscovered: the file wins every collision with what discovery found, and each discovered
// item left out is reported once.
#include "proxy/effective_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::proxy {
namespace {

conf::ClusterSpec cluster(std::string name, std::string origin = "config") {
  conf::ClusterSpec c;
  c.name = std::move(name);
  c.origin = std::move(origin);
  return c;
}

conf::VirtualHostSpec vhost(std::string name, std::vector<std::string> domains,
                            std::vector<std::string> clusters) {
  conf::VirtualHostSpec v;
  v.name = std::move(name);
  v.domains = std::move(domains);
  for (auto& c : clusters) {
    conf::RouteSpec route;
    route.cluster = std::move(c);
    v.routes.push_back(std::move(route));
  }
  return v;
}

std::vector<std::string> names(const auto& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

std::vector<std::string> subjects(const std::vector<conf::DiscoveryIssue>& issues) {
  std::vector<std::string> out;
  for (const auto& issue : issues) out.push_back(issue.subject);
  return out;
}

// The file: cluster "web" serving vhost "site" at www.example.com.
conf::ConfigSpec fileSpec() {
  conf::ConfigSpec file;
  file.clusters.push_back(cluster("web"));
  file.vhosts.push_back(vhost("site", {"www.example.com"}, {"web"}));
  return file;
}

TEST(MergeDiscovered, DiscoveredItemsJoinTheFilesAfterThem) {
  conf::DiscoveredSpec found;
  found.clusters.push_back(cluster("shop_10000", "marathon:/shop"));
  found.vhosts.push_back(vhost("mlb_shop", {"shop.example.com"}, {"shop_10000"}));
  std::vector<conf::DiscoveryIssue> issues;
  const conf::ConfigSpec merged = mergeDiscovered(fileSpec(), found, issues);
  EXPECT_EQ(names(merged.clusters), (std::vector<std::string>{"web", "shop_10000"}));
  EXPECT_EQ(names(merged.vhosts), (std::vector<std::string>{"site", "mlb_shop"}));
  EXPECT_TRUE(issues.empty());
}

TEST(MergeDiscovered, AClusterNamedLikeAConfiguredOneIsLeftOutWithItsRoutes) {
  conf::DiscoveredSpec found;
  found.clusters.push_back(cluster("web", "marathon:/web"));  // the file's name
  found.clusters.push_back(cluster("api_10001", "marathon:/api"));
  // One vhost routes only to the clash (it goes), one to both (it keeps the other route).
  found.vhosts.push_back(vhost("mlb_web", {"web.example.com"}, {"web"}));
  found.vhosts.push_back(vhost("mlb_api", {"api.example.com"}, {"web", "api_10001"}));
  std::vector<conf::DiscoveryIssue> issues;
  const conf::ConfigSpec merged = mergeDiscovered(fileSpec(), found, issues);
  EXPECT_EQ(names(merged.clusters), (std::vector<std::string>{"web", "api_10001"}));
  EXPECT_EQ(merged.clusters[0].origin, "config");
  EXPECT_EQ(names(merged.vhosts), (std::vector<std::string>{"site", "mlb_api"}));
  ASSERT_EQ(merged.vhosts[1].routes.size(), 1u);
  EXPECT_EQ(merged.vhosts[1].routes[0].cluster, "api_10001");
  EXPECT_EQ(found.vhosts[1].routes.size(), 2u);  // the discovered spec keeps its own
  EXPECT_EQ(subjects(issues), (std::vector<std::string>{"cluster web"}));
  EXPECT_EQ(issues[0].app_id, "/web");
}

TEST(MergeDiscovered, ADomainTheFileServesIsTakenFromTheDiscoveredVhost) {
  conf::DiscoveredSpec found;
  found.clusters.push_back(cluster("shop_10000", "marathon:/shop"));
  found.vhosts.push_back(
      vhost("mlb_shop", {"www.example.com", "shop.example.com"}, {"shop_10000"}));
  found.vhosts.push_back(vhost("mlb_www", {"www.example.com"}, {"shop_10000"}));  // nothing left
  conf::VirtualHostSpec scoped = vhost("mlb_scoped", {"www.example.com"}, {"shop_10000"});
  scoped.scope = "marathon_10000";  // another scope: no clash with the file's shared vhost
  found.vhosts.push_back(scoped);
  std::vector<conf::DiscoveryIssue> issues;
  const conf::ConfigSpec merged = mergeDiscovered(fileSpec(), found, issues);
  EXPECT_EQ(names(merged.vhosts), (std::vector<std::string>{"site", "mlb_shop", "mlb_scoped"}));
  EXPECT_EQ(merged.vhosts[1].domains, (std::vector<std::string>{"shop.example.com"}));
  EXPECT_EQ(merged.vhosts[2].domains, (std::vector<std::string>{"www.example.com"}));
  EXPECT_EQ(subjects(issues),
            (std::vector<std::string>{"vhost www.example.com", "vhost www.example.com"}));
}

TEST(MergeDiscovered, AVhostNameAlreadyInUseIsLeftOut) {
  conf::DiscoveredSpec found;
  found.clusters.push_back(cluster("a_10000", "marathon:/a"));
  found.vhosts.push_back(vhost("site", {"a.example.com"}, {"a_10000"}));  // the file's name
  found.vhosts.push_back(vhost("mlb_a", {"a1.example.com"}, {"a_10000"}));
  found.vhosts.push_back(vhost("mlb_a", {"a2.example.com"}, {"a_10000"}));  // twice
  std::vector<conf::DiscoveryIssue> issues;
  const conf::ConfigSpec merged = mergeDiscovered(fileSpec(), found, issues);
  ASSERT_EQ(names(merged.vhosts), (std::vector<std::string>{"site", "mlb_a"}));
  EXPECT_EQ(merged.vhosts[0].domains, (std::vector<std::string>{"www.example.com"}));
  EXPECT_EQ(merged.vhosts[1].domains, (std::vector<std::string>{"a1.example.com"}));
  EXPECT_EQ(subjects(issues), (std::vector<std::string>{"vhost site", "vhost mlb_a"}));
}

TEST(MergeDiscovered, AListenerOverlappingTheFilesIsLeftOut) {
  conf::ConfigSpec file = fileSpec();
  conf::ListenerSpec http;
  http.name = "http";
  http.address = ":8080";
  file.listeners.push_back(http);
  conf::DiscoveredSpec found;
  found.clusters.push_back(cluster("db_10001", "marathon:/db"));
  conf::ListenerSpec clash;
  clash.name = "marathon_10001";
  clash.address = "127.0.0.1:8080";  // inside the file's all-addresses bind
  clash.kind = conf::ListenerKind::Tcp;
  clash.tcp_cluster = "db_10001";
  clash.origin = "marathon:/db";
  conf::ListenerSpec fine = clash;
  fine.name = "marathon_10002";
  fine.address = "127.0.0.1:10002";
  found.listeners.push_back(clash);
  found.listeners.push_back(fine);
  std::vector<conf::DiscoveryIssue> issues;
  const conf::ConfigSpec merged = mergeDiscovered(file, found, issues);
  EXPECT_EQ(names(merged.listeners), (std::vector<std::string>{"http", "marathon_10002"}));
  EXPECT_EQ(subjects(issues), (std::vector<std::string>{"listener marathon_10001"}));
}

}  // namespace
}  // namespace baton::proxy
