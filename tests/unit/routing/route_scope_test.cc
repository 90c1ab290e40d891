// RouteTable scopes and app-id routing (marathon-lb's per-service-port frontends and :9091
// X-Marathon-App-Id listener), and the route actions create() compiles from RouteSpec.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "routing/route_table.h"

namespace baton::routing {
namespace {

using conf::RouteSpec;
using conf::VirtualHostSpec;

const std::vector<std::string> kClusters = {"shared", "svc", "app", "other"};

RouteSpec route(std::string prefix, std::string cluster) {
  RouteSpec r;
  r.loc = {"t.toml", 3};
  r.prefix = std::move(prefix);
  r.cluster = std::move(cluster);
  return r;
}

VirtualHostSpec vhost(std::string name, std::vector<std::string> domains, std::string scope,
                      std::vector<RouteSpec> routes) {
  VirtualHostSpec v;
  v.loc = {"t.toml", 2};
  v.name = std::move(name);
  v.domains = std::move(domains);
  v.scope = std::move(scope);
  v.routes = std::move(routes);
  return v;
}

std::string clusterOf(const Route* r) {
  return r == nullptr ? "-" : r->cluster_name;
}

std::shared_ptr<const RouteTable> build(const std::vector<VirtualHostSpec>& vhosts) {
  auto table = RouteTable::create(vhosts, kClusters, 0);
  EXPECT_TRUE(table.has_value()) << table.error().detail;
  return table ? *table : nullptr;
}

TEST(RouteScopeTest, SameDomainInDifferentScopesRoutesPerScope) {
  auto t = build({vhost("a", {"*"}, "", {route("/", "shared")}),
                  vhost("b", {"*"}, "port_10001", {route("/", "svc")}),
                  vhost("c", {"www.example.com"}, "port_10001", {route("/", "other")})});
  ASSERT_TRUE(t);
  EXPECT_EQ(clusterOf(t->match("www.example.com", "/x")), "shared");
  EXPECT_EQ(clusterOf(t->match("", "www.example.com", "/x")), "shared");
  EXPECT_EQ(clusterOf(t->match("port_10001", "www.example.com", "/x")), "other");
  EXPECT_EQ(clusterOf(t->match("port_10001", "anything", "/x")), "svc");
}

TEST(RouteScopeTest, ScopedListenerNeverFallsBackToSharedVhosts) {
  auto t = build({vhost("a", {"*"}, "", {route("/", "shared")}),
                  vhost("b", {"only.example.com"}, "s1", {route("/api", "svc")})});
  ASSERT_TRUE(t);
  EXPECT_EQ(clusterOf(t->match("s1", "other.example.com", "/api")), "-");
  EXPECT_EQ(clusterOf(t->match("s1", "only.example.com", "/web")), "-");
  EXPECT_EQ(clusterOf(t->match("s1", "only.example.com", "/api/x")), "svc");
  // A scope no vhost has matches nothing (not the shared vhosts either).
  EXPECT_FALSE(t->findScope("nope").has_value());
  EXPECT_EQ(clusterOf(t->match("nope", "only.example.com", "/api")), "-");
}

TEST(RouteScopeTest, SharedScopeIsZeroWithoutLookup) {
  auto t = build({vhost("a", {"*"}, "", {route("/", "shared")})});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->findScope(""), RouteTable::kSharedScope);
}

TEST(RouteScopeTest, DuplicateDomainWithinOneScopeIsAnError) {
  auto t = RouteTable::create({vhost("a", {"x.com"}, "s", {route("/", "svc")}),
                               vhost("b", {"X.com."}, "s", {route("/", "svc")})},
                              kClusters, 0);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().detail.find("duplicate domain \"X.com.\""), std::string::npos)
      << t.error().detail;
}

TEST(RouteScopeTest, AppIdMatchesExactlyAndOnlyByAppId) {
  auto t = build({vhost("web", {"/shop/web"}, "app_id", {route("/", "app")}),
                  vhost("api", {"/shop/api"}, "app_id", {route("/v1", "other")}),
                  vhost("any", {"*"}, "", {route("/", "shared")})});
  ASSERT_TRUE(t);
  const auto scope = t->findScope("app_id");
  ASSERT_TRUE(scope.has_value());
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "/shop/web", "/x")), "app");
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "/shop/api", "/v1/x")), "other");
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "/shop/api", "/v2")), "-");
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "/shop/web/", "/x")), "-");  // exact
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "/SHOP/web", "/x")), "-");
  EXPECT_EQ(clusterOf(t->matchAppId(*scope, "", "/x")), "-");  // missing header
  // App ids are not host names: Host routing in that scope never finds them.
  EXPECT_EQ(clusterOf(t->match(*scope, "/shop/web", "/x")), "-");
  // And the shared scope does not see them.
  EXPECT_EQ(clusterOf(t->matchAppId(RouteTable::kSharedScope, "/shop/web", "/x")), "-");
}

TEST(RouteActionsTest, CompiledFromSpec) {
  RouteSpec r = route("/app", "svc");
  r.allowed_sources = {"10.0.0.0/8", "::1/128"};
  r.strip_prefix = "/app/";
  r.upstream_host = "internal";
  r.hsts = true;
  r.location_rewrite = "/app/";
  auto t = build({vhost("a", {"*"}, "", {r, route("/", "shared")})});
  ASSERT_TRUE(t);
  const Route* m = t->match("h", "/app/x");
  ASSERT_NE(m, nullptr);
  const RouteActions& a = *m->actions;
  EXPECT_TRUE(a.any_request_action);
  EXPECT_EQ(a.strip_prefix, "/app");
  EXPECT_EQ(a.strip_segments, 1u);
  EXPECT_EQ(a.upstream_host, "internal");
  EXPECT_TRUE(a.hsts);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(0x0a010203);
  EXPECT_TRUE(a.allowed_sources.contains(reinterpret_cast<const sockaddr*>(&in)));
  in.sin_addr.s_addr = htonl(0x0b010203);
  EXPECT_FALSE(a.allowed_sources.contains(reinterpret_cast<const sockaddr*>(&in)));
  const Route* plain = t->match("h", "/other");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->actions->any_request_action);
  EXPECT_TRUE(plain->actions->allowed_sources.empty());
  EXPECT_EQ(plain->actions, noRouteActions()) << "a route without actions shares the empty set";
  EXPECT_NE(m->actions, noRouteActions());
}

TEST(RouteActionsTest, ResponseOnlyActionsKeepTheRequestFastPath) {
  RouteSpec r = route("/", "svc");
  r.hsts = true;
  r.location_rewrite = "/";
  auto t = build({vhost("a", {"*"}, "", {r})});
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->match("h", "/")->actions->any_request_action);
  EXPECT_TRUE(t->match("h", "/")->actions->hsts) << "not taken for a route without actions";
}

TEST(RouteActionsTest, BadCidrIsAConfigErrorNamingTheRoute) {
  RouteSpec r = route("/", "svc");
  r.allowed_sources = {"10.0.0.1/8"};
  auto t = RouteTable::create({vhost("a", {"*"}, "", {r})}, kClusters, 0);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().detail,
            "t.toml:3: allowed_sources: route 1 in vhost \"a\": invalid CIDR \"10.0.0.1/8\": "
            "host bits set after prefix");
}

}  // namespace
}  // namespace baton::routing
