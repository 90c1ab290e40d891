// conf::SharedList (HostList, a vhost's routes): shared between copies of the spec, copied on
// the first write.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "conf/config_spec.h"

namespace baton::conf {
namespace {

HostSpec host(const char* address) {
  HostSpec h;
  h.address = address;
  return h;
}

TEST(HostList, CopiesShareUntilOneWrites) {
  ClusterSpec a;
  a.hosts = {host("10.0.0.1:80"), host("10.0.0.2:80")};
  ClusterSpec b = a;
  EXPECT_EQ(a.hosts.shared(), b.hosts.shared());  // no copy of the hosts
  EXPECT_EQ(a, b);

  b.hosts[1].draining = true;  // b takes its own copy first
  EXPECT_NE(a.hosts.shared(), b.hosts.shared());
  EXPECT_FALSE(a.hosts[1].draining);
  EXPECT_TRUE(b.hosts[1].draining);
  EXPECT_NE(a, b);

  b.hosts[1].draining = false;  // equal again, element by element
  EXPECT_EQ(a, b);
}

TEST(HostList, ReadsLikeAVector) {
  HostList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
  list.push_back(host("10.0.0.1:80"));
  list.emplace_back(host("10.0.0.2:80"));
  const std::vector<HostSpec>& view = list;
  ASSERT_EQ(view.size(), 2u);
  EXPECT_EQ(list.front().address, "10.0.0.1:80");
  EXPECT_EQ(list.back().address, "10.0.0.2:80");
  list.erase(list.begin());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].address, "10.0.0.2:80");
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(HostList(), list);
}

TEST(HostList, ASharedConstListIsNeverWrittenInPlace) {
  const auto frozen =
      std::make_shared<const std::vector<HostSpec>>(std::vector<HostSpec>{host("10.0.0.1:80")});
  HostList list(frozen);
  EXPECT_EQ(list.shared(), frozen);
  list[0].weight = 7;  // writes a private copy, even when it is the only holder
  EXPECT_NE(list.shared(), frozen);
  EXPECT_EQ((*frozen)[0].weight, 1u);
  EXPECT_EQ(list[0].weight, 7u);
}

TEST(HostList, ErasingFromASharedListLeavesTheOtherHolderAlone) {
  HostList a = {host("10.0.0.1:80"), host("10.0.0.2:80"), host("10.0.0.3:80")};
  HostList b = a;
  const HostList& view = b;
  b.erase(view.begin() + 1, view.end());  // iterators of the shared list
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b[0].address, "10.0.0.1:80");
}

RouteSpec route(const char* prefix, const char* cluster) {
  RouteSpec r;
  r.prefix = prefix;
  r.cluster = cluster;
  return r;
}

// The merged config copies every discovered vhost: the routes are shared, not copied.
TEST(SharedRoutes, VhostCopiesShareRoutesUntilOneWrites) {
  VirtualHostSpec a;
  a.name = "mlb_shop.example.com";
  a.routes = {route("/", "shop_web_10000")};
  VirtualHostSpec b = a;
  EXPECT_EQ(a.routes.shared(), b.routes.shared());
  EXPECT_EQ(a, b);

  const VirtualHostSpec& read = b;  // reads never copy
  EXPECT_EQ(read.routes[0].cluster, "shop_web_10000");
  EXPECT_EQ(read.routes.at(0).prefix, "/");
  EXPECT_EQ(a.routes.shared(), b.routes.shared());

  b.routes.insert(b.routes.begin(), {route("/api", "shop_api_10001")});
  EXPECT_NE(a.routes.shared(), b.routes.shared());
  ASSERT_EQ(a.routes.size(), 1u);
  ASSERT_EQ(b.routes.size(), 2u);
  EXPECT_EQ(b.routes[0].prefix, "/api");
  EXPECT_EQ(b.routes[1].prefix, "/");
  EXPECT_NE(a, b);

  b.routes.erase(b.routes.get().begin());
  EXPECT_EQ(a, b);  // equal again, element by element
  const std::vector<RouteSpec>& as_vector = b.routes;
  EXPECT_EQ(as_vector.size(), 1u);
}

}  // namespace
}  // namespace baton::conf
