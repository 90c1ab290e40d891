// RouteTable: vhost precedence, host canonicalisation, segment-aware prefixes in first-match
// order, and the config errors create() must refuse (shadowing, unknown cluster, duplicate
// domains), each naming file:line and key.
#include "routing/route_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "routing/request_target.h"

namespace baton::routing {
namespace {

using conf::RouteSpec;
using conf::SourceLoc;
using conf::VirtualHostSpec;

const std::vector<std::string> kClusters = {"web", "api", "static", "admin"};

RouteSpec route(std::string prefix, std::string cluster, uint32_t line = 1) {
  RouteSpec r;
  r.loc = SourceLoc{"baton.toml", line};
  r.prefix = std::move(prefix);
  r.cluster = std::move(cluster);
  return r;
}

VirtualHostSpec vhost(std::string name, std::vector<std::string> domains,
                      std::vector<RouteSpec> routes, uint32_t line = 1) {
  VirtualHostSpec v;
  v.loc = SourceLoc{"baton.toml", line};
  v.name = std::move(name);
  v.domains = std::move(domains);
  v.routes = std::move(routes);
  return v;
}

std::shared_ptr<const RouteTable> build(const std::vector<VirtualHostSpec>& vhosts,
                                        uint64_t body_limit = 0) {
  auto table = RouteTable::create(vhosts, kClusters, body_limit);
  EXPECT_TRUE(table.has_value()) << table.error().detail;
  return table.has_value() ? *table : nullptr;
}

std::string createError(const std::vector<VirtualHostSpec>& vhosts) {
  auto table = RouteTable::create(vhosts, kClusters, 0);
  if (table.has_value()) return "<no error>";
  EXPECT_EQ(table.error().code, core::ErrorCode::ConfigInvalid);
  EXPECT_EQ(table.error().source, core::ErrorSource::Config);
  return table.error().detail;
}

// The cluster a request is routed to, or "-" for no route; the target goes through the parser.
std::string clusterFor(const RouteTable& table, std::string_view host, std::string_view target) {
  auto parsed = parseRequestTarget(target, false);
  EXPECT_TRUE(parsed.has_value()) << target;
  if (!parsed) return "<bad target>";
  const Route* r = table.match(host, parsed->route_key);
  return r == nullptr ? "-" : r->cluster_name;
}

// ---------------------------------------------------------------------------------------------
// Prefix boundaries.

struct PrefixCase {
  std::string prefix;
  std::string target;
  bool matches;
};

void PrintTo(const PrefixCase& c, std::ostream* os) {
  *os << c.prefix << " vs " << c.target;
}

class PrefixBoundary : public ::testing::TestWithParam<PrefixCase> {};

TEST_P(PrefixBoundary, MatchesOnSegmentBoundaries) {
  const PrefixCase& c = GetParam();
  auto table = build({vhost("v", {"*"}, {route(c.prefix, "api")})});
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(clusterFor(*table, "h", c.target), c.matches ? "api" : "-");
}

INSTANTIATE_TEST_SUITE_P(
    Routes, PrefixBoundary,
    ::testing::Values(
        PrefixCase{"/api", "/api", true}, PrefixCase{"/api", "/api/", true},
        PrefixCase{"/api", "/api/x", true}, PrefixCase{"/api", "/api?x=1", true},
        PrefixCase{"/api", "/api#f", true}, PrefixCase{"/api", "/apix", false},
        PrefixCase{"/api", "/ap", false}, PrefixCase{"/api", "/API", false},
        PrefixCase{"/api", "/", false}, PrefixCase{"/api", "/x/api", false},
        PrefixCase{"/api/", "/api", true}, PrefixCase{"/api/", "/apix", false},
        PrefixCase{"/api", "//api//x", true}, PrefixCase{"/api", "/%61pi/x", true},
        PrefixCase{"/api", "/x/../api/y", true}, PrefixCase{"/api", "/api/../admin", false},
        PrefixCase{"/api", "/api/%2e%2e/admin", false}, PrefixCase{"/api", "/api%2Fx", false},
        PrefixCase{"/api", "/api%2fx", false}, PrefixCase{"/api", "/api\\x", false},
        PrefixCase{"/api/v1", "/api/v1/users", true}, PrefixCase{"/api/v1", "/api/v10", false},
        PrefixCase{"/", "/", true}, PrefixCase{"/", "/anything/at/all", true},
        PrefixCase{"/电影", "/电影/x", true}, PrefixCase{"/电影", "/%E7%94%B5%E5%BD%B1", true},
        PrefixCase{"/%E7%94%B5%E5%BD%B1", "/电影", true}, PrefixCase{"/电影", "/电影院", false},
        PrefixCase{"/\xD6\xD0", "/%d6%d0/x", true}, PrefixCase{"/\x95\x5C", "/\x95\x5C/x", true},
        PrefixCase{"/\x95", "/\x95\x5C/x", false}));

TEST(PrefixMatches, Direct) {
  EXPECT_TRUE(prefixMatches("/", "*"));  // OPTIONS * goes to a catch-all route
  EXPECT_TRUE(prefixMatches("/a", "/a"));
  EXPECT_TRUE(prefixMatches("/a", "/a?"));
  EXPECT_FALSE(prefixMatches("/a", "/ab"));
  EXPECT_FALSE(prefixMatches("/a", ""));
}

// ---------------------------------------------------------------------------------------------
// Virtual-host precedence and host canonicalisation.

class VhostLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = build({
        vhost("exact", {"a.example.com", "[::1]", "127.0.0.1"}, {route("/", "web")}),
        vhost("wild", {"*.example.com"}, {route("/", "api")}),
        vhost("deeper", {"*.b.example.com"}, {route("/", "static")}),
        vhost("fallback", {"*"}, {route("/", "admin")}),
    });
    ASSERT_NE(table_, nullptr);
  }
  std::string vhostFor(std::string_view host) {
    const Route* r = table_->match(host, "/");
    return r == nullptr ? "-" : r->vhost_name;
  }
  std::shared_ptr<const RouteTable> table_;
};

TEST_F(VhostLookup, ExactBeatsWildcardBeatsDefault) {
  EXPECT_EQ(vhostFor("a.example.com"), "exact");
  EXPECT_EQ(vhostFor("x.example.com"), "wild");
  EXPECT_EQ(vhostFor("x.y.example.com"), "wild");
  EXPECT_EQ(vhostFor("x.b.example.com"), "deeper");  // longest wildcard wins
  EXPECT_EQ(vhostFor("y.x.b.example.com"), "deeper");
  EXPECT_EQ(vhostFor("b.example.com"), "wild");    // "*.b.example.com" needs a label before
  EXPECT_EQ(vhostFor("example.com"), "fallback");  // "*.example.com" never matches the apex
  EXPECT_EQ(vhostFor("other.org"), "fallback");
  EXPECT_EQ(vhostFor(""), "fallback");
  EXPECT_EQ(vhostFor(".example.com"), "fallback");
  EXPECT_EQ(vhostFor("aexample.com"), "fallback");
}

TEST_F(VhostLookup, HostIsCanonicalised) {
  EXPECT_EQ(vhostFor("A.Example.COM"), "exact");
  EXPECT_EQ(vhostFor("a.example.com:8080"), "exact");
  EXPECT_EQ(vhostFor("a.example.com."), "exact");
  EXPECT_EQ(vhostFor("A.EXAMPLE.COM.:443"), "exact");
  EXPECT_EQ(vhostFor("X.Example.Com:80"), "wild");
  EXPECT_EQ(vhostFor("[::1]"), "exact");
  EXPECT_EQ(vhostFor("[::1]:8080"), "exact");
  EXPECT_EQ(vhostFor("127.0.0.1:80"), "exact");
  EXPECT_EQ(vhostFor(std::string(300, 'a') + ".example.com"), "wild");  // long: slow path
}

TEST(VhostLookupNoDefault, UnknownHostHasNoRoute) {
  auto table = build({vhost("only", {"a.com"}, {route("/", "web")})});
  ASSERT_NE(table, nullptr);
  EXPECT_NE(table->match("a.com", "/x"), nullptr);
  EXPECT_EQ(table->match("b.com", "/x"), nullptr);
  EXPECT_EQ(table->match("", "/x"), nullptr);
}

TEST(VhostLookupNoFallThrough, MatchedVhostWithoutMatchingRouteIsNoRoute) {
  auto table = build(
      {vhost("a", {"a.com"}, {route("/api", "api")}), vhost("d", {"*"}, {route("/", "web")})});
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(clusterFor(*table, "a.com", "/api/x"), "api");
  EXPECT_EQ(clusterFor(*table, "a.com", "/other"), "-");
  EXPECT_EQ(clusterFor(*table, "b.com", "/other"), "web");
}

TEST(CanonicalHost, Table) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"Example.COM", "example.com"},
      {"example.com:8080", "example.com"},
      {"example.com.", "example.com"},
      {"example.com.:80", "example.com"},
      {"example.com..", "example.com."},
      {"[::1]:8080", "[::1]"},
      {"[2001:DB8::1]", "[2001:db8::1]"},
      {"[::1]", "[::1]"},
      {"", ""},
      {"127.0.0.1:80", "127.0.0.1"},
      {"ÄB", "Äb"},  // ASCII only, no IDNA
  };
  for (const auto& c : cases) EXPECT_EQ(canonicalHost(c.in), c.out) << c.in;
}

// ---------------------------------------------------------------------------------------------
// Routes: order, fields, hostile paths.

TEST(Routes, FirstMatchInOrderWritten) {
  auto table = build({vhost("v", {"*"},
                            {route("/api/v1", "admin"), route("/api", "api"),
                             route("/static", "static"), route("/", "web")})});
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->routeCount(), 4u);
  EXPECT_EQ(clusterFor(*table, "h", "/api/v1/users"), "admin");
  EXPECT_EQ(clusterFor(*table, "h", "/api/v2/users"), "api");
  EXPECT_EQ(clusterFor(*table, "h", "/static/app.js"), "static");
  EXPECT_EQ(clusterFor(*table, "h", "/staticx"), "web");
  EXPECT_EQ(clusterFor(*table, "h", "/"), "web");
}

TEST(Routes, HostileInputsRouteOnTheCanonicalTarget) {
  auto table = build(
      {vhost("v", {"*"}, {route("/admin", "admin"), route("/api", "api"), route("/", "web")})});
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(clusterFor(*table, "h", "/api/../admin/x"), "admin");
  EXPECT_EQ(clusterFor(*table, "h", "/api/%2e%2e/admin/x"), "admin");
  EXPECT_EQ(clusterFor(*table, "h", "/api/.%2E/admin/x"), "admin");
  EXPECT_EQ(clusterFor(*table, "h", "/api%2F..%2Fadmin"), "web");  // %2F is not a separator
  EXPECT_EQ(clusterFor(*table, "h", "/api%5C..%5Cadmin"), "web");
  EXPECT_EQ(clusterFor(*table, "h", "/api/%252e%252e/admin"), "api");    // decoded once only
  EXPECT_EQ(clusterFor(*table, "h", "/api/%c0%ae%c0%ae/admin"), "api");  // overlong: opaque
  EXPECT_EQ(clusterFor(*table, "h", "/api/\xC0\xAE\xC0\xAE/admin"), "api");
  EXPECT_EQ(clusterFor(*table, "h", "/ADMIN"), "web");
  EXPECT_EQ(clusterFor(*table, "h", "/adminx"), "web");
  EXPECT_EQ(clusterFor(*table, "h", "//admin"), "admin");
  EXPECT_EQ(clusterFor(*table, "h", "/%61dmin"), "admin");
}

TEST(Routes, FieldsResolved) {
  RouteSpec limited = route("/upload/", "static");
  limited.body_bytes = 1024;
  limited.raw_bytes = conf::RawByteMode::Encode;
  limited.merge_slashes = false;
  auto table = build({vhost("v", {"*"}, {limited, route("/", "api")})}, 4096);
  ASSERT_NE(table, nullptr);
  const Route* r = table->match("h", "/upload/x");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r, &table->route(0));
  EXPECT_EQ(r->vhost_name, "v");
  EXPECT_EQ(r->prefix, "/upload");
  EXPECT_EQ(r->cluster_name, "static");
  EXPECT_EQ(r->cluster_index, 2u);
  EXPECT_EQ(r->body_limit, 1024u);
  EXPECT_EQ(r->raw_bytes, conf::RawByteMode::Encode);
  EXPECT_FALSE(r->merge_slashes);
  const Route& fallback = table->route(1);
  EXPECT_EQ(fallback.cluster_index, 1u);
  EXPECT_EQ(fallback.body_limit, 4096u);  // the default limit
  EXPECT_FALSE(fallback.raw_bytes.has_value());
  EXPECT_TRUE(fallback.merge_slashes);
}

TEST(Routes, EmptyTableAndVhostWithoutRoutes) {
  auto empty = build({});
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->routeCount(), 0u);
  EXPECT_EQ(empty->match("h", "/"), nullptr);
  auto no_routes = build({vhost("v", {"*"}, {})});
  ASSERT_NE(no_routes, nullptr);
  EXPECT_EQ(no_routes->match("h", "/"), nullptr);
}

TEST(Routes, ManyVhosts) {
  std::vector<VirtualHostSpec> vhosts;
  for (int i = 0; i < 1000; ++i) {
    vhosts.push_back(vhost("v" + std::to_string(i), {"host" + std::to_string(i) + ".example.com"},
                           {route("/a", "api"), route("/", "web")}));
  }
  vhosts.push_back(vhost("wild", {"*.example.com"}, {route("/", "static")}));
  auto table = build(vhosts);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->routeCount(), 2001u);
  EXPECT_EQ(table->match("host999.example.com", "/a/b")->vhost_name, "v999");
  EXPECT_EQ(table->match("host999.example.com", "/a/b")->cluster_name, "api");
  EXPECT_EQ(table->match("host1000.example.com", "/a/b")->vhost_name, "wild");
}

// ---------------------------------------------------------------------------------------------
// Config errors.

TEST(RouteTableErrors, ShadowedByEarlierCatchAll) {
  EXPECT_EQ(createError({vhost("site", {"*"}, {route("/", "web", 10), route("/api", "api", 14)})}),
            "baton.toml:14: prefix: route 2 in vhost \"site\" (baton.toml:14) can never match: "
            "shadowed by route 1 (baton.toml:10)");
}

TEST(RouteTableErrors, ShadowedBySegmentPrefix) {
  EXPECT_EQ(createError({vhost("site", {"*"},
                               {route("/static", "static", 3), route("/api", "api", 5),
                                route("/api/v1", "admin", 7)})}),
            "baton.toml:7: prefix: route 3 in vhost \"site\" (baton.toml:7) can never match: "
            "shadowed by route 2 (baton.toml:5)");
}

TEST(RouteTableErrors, ShadowedBySameNormalisedPrefix) {
  EXPECT_NE(createError({vhost("s", {"*"}, {route("/api/", "api", 3), route("/api", "web", 4)})})
                .find("route 2 in vhost \"s\" (baton.toml:4) can never match: shadowed by route "
                      "1 (baton.toml:3)"),
            std::string::npos);
  EXPECT_NE(
      createError(
          {vhost("s", {"*"}, {route("/电影", "api", 3), route("/%E7%94%B5%E5%BD%B1/x", "web", 4)})})
          .find("can never match"),
      std::string::npos);
}

TEST(RouteTableErrors, NotShadowedAcrossSegmentBoundaryOrVhosts) {
  EXPECT_NE(build({vhost("s", {"*"}, {route("/api", "api"), route("/apix", "web")})}), nullptr);
  EXPECT_NE(build({vhost("a", {"a.com"}, {route("/", "api")}),
                   vhost("b", {"b.com"}, {route("/api", "web")})}),
            nullptr);
}

TEST(RouteTableErrors, UnknownCluster) {
  EXPECT_EQ(createError({vhost("site", {"*"}, {route("/", "nope", 21)})}),
            "baton.toml:21: cluster: route 1 in vhost \"site\": unknown cluster \"nope\"");
}

TEST(RouteTableErrors, BadPrefix) {
  const std::string e1 = createError({vhost("site", {"*"}, {route("/../x", "web", 9)})});
  EXPECT_EQ(e1.rfind("baton.toml:9: prefix: route 1 in vhost \"site\": \"/../x\": ", 0), 0u) << e1;
  const std::string e2 = createError({vhost("site", {"*"}, {route("api", "web", 9)})});
  EXPECT_EQ(e2.rfind("baton.toml:9: prefix: ", 0), 0u) << e2;
  const std::string e3 = createError({vhost("site", {"*"}, {route("/a b", "web", 9)})});
  EXPECT_EQ(e3.rfind("baton.toml:9: prefix: ", 0), 0u) << e3;
}

TEST(RouteTableErrors, DuplicateDomainNamesBothLocations) {
  EXPECT_EQ(createError({vhost("one", {"a.com"}, {route("/", "web")}, 3),
                         vhost("two", {"b.com", "A.COM."}, {route("/", "web")}, 8)}),
            "baton.toml:8: domains: duplicate domain \"A.COM.\" in vhost \"two\"; already in "
            "vhost \"one\" (baton.toml:3)");
}

TEST(RouteTableErrors, DuplicateWildcardAndDefault) {
  EXPECT_NE(createError({vhost("one", {"*.a.com"}, {}, 3), vhost("two", {"*.A.com"}, {}, 8)})
                .find("already in vhost \"one\" (baton.toml:3)"),
            std::string::npos);
  EXPECT_NE(createError({vhost("one", {"*"}, {}, 3), vhost("two", {"*"}, {}, 8)})
                .find("baton.toml:8: domains: duplicate domain \"*\""),
            std::string::npos);
  EXPECT_NE(createError({vhost("one", {"x.com", "x.com"}, {}, 3)}).find("duplicate domain"),
            std::string::npos);
}

TEST(RouteTableErrors, InvalidDomains) {
  for (const std::string bad : {"a.com:80", "", "*.", "a.*.com", "*a.com", "**", "a b.com", "a/b",
                                "user@a.com", "[::1]:80", "*.[::1]", ".a.com"}) {
    const std::string e = createError({vhost("v", {bad}, {}, 4)});
    EXPECT_EQ(e.rfind("baton.toml:4: domains: ", 0), 0u) << bad << " -> " << e;
  }
  EXPECT_EQ(createError({vhost("v", {}, {}, 4)}),
            "baton.toml:4: domains: vhost \"v\" has no domains");
}

}  // namespace
}  // namespace baton::routing

namespace baton::routing {
namespace {

// Asset pinning: a vhost's own asset patterns become its routes' classification rules, merged
// into [pinning]'s (the rest of which, e.g. the hashed-name rule, still applies).
TEST(RouteTablePinRules, VhostOverridesMergeIntoPinning) {
  VirtualHostSpec own = vhost("own", {"own.test"}, {route("/", "web")});
  own.pin_asset_suffixes = std::vector<std::string>{".bundle"};
  VirtualHostSpec plain = vhost("plain", {"plain.test"}, {route("/", "web")});
  conf::PinningSpec pinning;
  pinning.asset_prefixes = {"/files/"};
  pinning.hashed_min_hex = 6;
  auto table = RouteTable::create({own, plain}, kClusters, 0, &pinning);
  ASSERT_TRUE(table.has_value());
  const Route* r = (*table)->match("own.test", "/x");
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->pin_rules, nullptr);
  EXPECT_EQ(r->pin_rules->asset_suffixes, (std::vector<std::string>{".bundle"}));
  EXPECT_EQ(r->pin_rules->asset_prefixes, (std::vector<std::string>{"/files/"}));
  EXPECT_EQ(r->pin_rules->hashed_min_hex, 6u);
  const Route* p = (*table)->match("plain.test", "/x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pin_rules, nullptr);  // [pinning]'s, held by the snapshot
}

}  // namespace
}  // namespace baton::routing
