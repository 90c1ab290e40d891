#include "discovery/model/translate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "routing/route_table.h"

namespace baton::discovery {
namespace {

using conf::DiscoveredSpec;
using conf::DiscoveryIssue;
using conf::ListenerKind;

Task task(std::string id, std::string host, uint16_t port, bool alive = true) {
  Task t;
  t.id = std::move(id);
  t.host = host;
  t.state = TaskState::Running;
  if (alive) t.health.push_back({true});
  t.endpoints = {{std::move(host), port}};
  return t;
}

App app(std::string id, uint16_t service_port, std::map<std::string, std::string> labels) {
  App a;
  a.id = std::move(id);
  a.service_ports = {service_port};
  a.labels = std::move(labels);
  a.labels.try_emplace("HAPROXY_GROUP", "external");
  a.instances = 1;
  return a;
}

// The two apps of marathon.md §1.5, as H1 types them.
std::vector<App> exampleApps() {
  App py = app("/pywebserver", 10101, {{"HAPROXY_0_VHOST", "myvhost.com"}});
  py.network = NetworkMode::Bridge;
  py.tasks = {task("pywebserver.8cad6a69-6ca8-11e7-beb2-0e2beceebfcc", "10.0.2.148", 1565)};
  App shop = app("/shop/web", 10300,
                 {{"HAPROXY_0_VHOST", "shop.example.com"},
                  {"HAPROXY_0_PATH", "/"},
                  {"HAPROXY_0_REDIRECT_TO_HTTPS", "true"}});
  shop.instances = 2;
  HealthCheck hc;
  hc.path = "/health";
  hc.port_index = 0;
  shop.health_checks = {hc};
  Task staging = task("shop_web.5dd78972-6771-11e5-94e1-be5b2935a987", "10.0.6.26", 31182, false);
  staging.state = TaskState::Staging;
  shop.tasks = {task("shop_web.01da9a15-68a7-11e7-a229-e6a514ca0c21", "10.0.6.25", 31704), staging};
  shop.deploying = true;
  return {py, shop};
}

struct Fixture {
  TranslateOptions options;
  std::unordered_set<std::string> draining;
  std::unordered_set<std::string> deployment_drained;
  TranslateContext context;

  Fixture() {
    options.groups = {"external"};
    context.resolve = [](std::string_view host) -> std::optional<std::string> {
      if (host == "agent-1") return "10.1.0.1";
      if (host.starts_with("unresolved")) return std::nullopt;
      return std::string(host);
    };
    context.include = [](const App&, const Task& t) { return t.state == TaskState::Running; };
    context.draining = &draining;
    context.deployment_drained = &deployment_drained;
  }
  DiscoveredSpec run(const std::vector<App>& apps) { return translate(apps, options, context); }
};

const conf::ClusterSpec* cluster(const DiscoveredSpec& s, std::string_view name) {
  for (const auto& c : s.clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}
const conf::ListenerSpec* listener(const DiscoveredSpec& s, std::string_view name) {
  for (const auto& l : s.listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}
const conf::VirtualHostSpec* vhost(const DiscoveredSpec& s, std::string_view domain,
                                   std::string_view scope = "") {
  for (const auto& v : s.vhosts) {
    if (v.scope == scope &&
        std::find(v.domains.begin(), v.domains.end(), domain) != v.domains.end()) {
      return &v;
    }
  }
  return nullptr;
}
bool hasIssue(const DiscoveredSpec& s, std::string_view app_id, std::string_view text) {
  return std::any_of(s.issues.begin(), s.issues.end(), [&](const DiscoveryIssue& i) {
    return i.app_id == app_id &&
           (i.message.find(text) != std::string::npos || i.subject.find(text) != std::string::npos);
  });
}
std::vector<std::string> routeClusters(const conf::VirtualHostSpec& v) {
  std::vector<std::string> out;
  for (const auto& r : v.routes) out.push_back(r.prefix + " " + r.cluster);
  return out;
}

// The route table accepts what translate produced: one table per listener scope.
void expectRouteTablesBuild(const DiscoveredSpec& s) {
  std::vector<std::string> names;
  for (const auto& c : s.clusters) names.push_back(c.name);
  std::map<std::string, std::vector<conf::VirtualHostSpec>> by_scope;
  for (const auto& v : s.vhosts) {
    if (v.scope != "app_id") by_scope[v.scope].push_back(v);  // app ids are not DNS names
  }
  for (const auto& [scope, vhosts] : by_scope) {
    auto table = routing::RouteTable::create(vhosts, names, 0);
    EXPECT_TRUE(table.has_value()) << scope << ": " << table.error().detail;
  }
}

TEST(Translate, MarathonDocExample) {
  Fixture f;
  const DiscoveredSpec s = f.run(exampleApps());
  EXPECT_TRUE(s.issues.empty()) << s.issues.front().subject << ": " << s.issues.front().message;

  const auto* py = cluster(s, "pywebserver_10101");
  ASSERT_NE(py, nullptr);
  ASSERT_EQ(py->hosts.size(), 1u);
  EXPECT_EQ(py->hosts[0].address, "10.0.2.148:1565");
  EXPECT_EQ(py->hosts[0].name, "10_0_2_148_1565");
  EXPECT_EQ(py->origin, "marathon:/pywebserver");

  const auto* shop = cluster(s, "shop_web_10300");
  ASSERT_NE(shop, nullptr);
  ASSERT_EQ(shop->hosts.size(), 1u);  // the staging task is not included
  EXPECT_EQ(shop->hosts[0].address, "10.0.6.25:31704");
  EXPECT_EQ(shop->hosts[0].task_id, "shop_web.01da9a15-68a7-11e7-a229-e6a514ca0c21");
  EXPECT_FALSE(shop->hosts[0].draining);

  const auto* http = listener(s, "marathon_http");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->address, ":80");
  EXPECT_EQ(http->route_scope, "");
  const auto* app_id = listener(s, "marathon_app_id");
  ASSERT_NE(app_id, nullptr);
  EXPECT_EQ(app_id->address, ":9091");
  EXPECT_EQ(app_id->route_by, conf::RouteBy::AppIdHeader);
  EXPECT_EQ(app_id->route_scope, "app_id");

  const auto* shop_vh = vhost(s, "shop.example.com");
  ASSERT_NE(shop_vh, nullptr);
  EXPECT_EQ(shop_vh->name, "mlb_shop.example.com");
  ASSERT_EQ(shop_vh->routes.size(), 1u);
  EXPECT_EQ(shop_vh->routes[0].cluster, "shop_web_10300");
  EXPECT_TRUE(shop_vh->routes[0].redirect_to_https);
  ASSERT_NE(vhost(s, "myvhost.com"), nullptr);

  const auto* by_id = vhost(s, "/shop/web", "app_id");
  ASSERT_NE(by_id, nullptr);
  EXPECT_EQ(by_id->routes.at(0).cluster, "shop_web_10300");
  EXPECT_FALSE(by_id->routes.at(0).redirect_to_https);

  const auto* port = listener(s, "port_10300");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->kind, ListenerKind::Http);
  EXPECT_EQ(port->route_scope, "port_10300");
  EXPECT_EQ(port->origin, "marathon:/shop/web");
  const auto* port_vh = vhost(s, "*", "port_10300");
  ASSERT_NE(port_vh, nullptr);
  EXPECT_EQ(routeClusters(*port_vh), (std::vector<std::string>{"/ shop_web_10300"}));
  expectRouteTablesBuild(s);
}

TEST(Translate, GroupSelection) {
  Fixture f;
  App ext = app("/ext", 10000, {});
  App internal = app("/int", 10001, {{"HAPROXY_GROUP", "internal"}});
  App none = app("/none", 10002, {});
  none.labels.erase("HAPROXY_GROUP");
  App split = app("/split", 10003, {{"HAPROXY_1_GROUP", "internal"}});
  split.service_ports = {10003, 10004};
  const std::vector<App> apps = {ext, internal, none, split};

  DiscoveredSpec s = f.run(apps);
  EXPECT_NE(cluster(s, "ext_10000"), nullptr);
  EXPECT_EQ(cluster(s, "int_10001"), nullptr);
  EXPECT_EQ(cluster(s, "none_10002"), nullptr);
  EXPECT_NE(cluster(s, "split_10003"), nullptr);
  EXPECT_EQ(cluster(s, "split_10004"), nullptr);

  f.options.groups = {"internal"};
  s = f.run(apps);
  EXPECT_EQ(s.clusters.size(), 2u);
  EXPECT_NE(cluster(s, "int_10001"), nullptr);
  EXPECT_NE(cluster(s, "split_10004"), nullptr);

  f.options.groups = {"*"};
  s = f.run(apps);
  EXPECT_EQ(s.clusters.size(), 5u);  // every app, including the one with no group
}

TEST(Translate, EnabledAndStrictMode) {
  Fixture f;
  const std::vector<App> apps = {app("/off", 10000, {{"HAPROXY_0_ENABLED", "false"}}),
                                 app("/on", 10001, {{"HAPROXY_0_ENABLED", "Yes"}}),
                                 app("/default", 10002, {})};
  DiscoveredSpec s = f.run(apps);
  EXPECT_EQ(cluster(s, "off_10000"), nullptr);
  EXPECT_NE(cluster(s, "on_10001"), nullptr);
  EXPECT_NE(cluster(s, "default_10002"), nullptr);
  f.options.strict_mode = true;
  s = f.run(apps);
  ASSERT_EQ(s.clusters.size(), 1u);
  EXPECT_EQ(s.clusters[0].name, "on_10001");
}

TEST(Translate, SelfAppNeverExposed) {
  Fixture f;
  f.options.self_app_id = "baton";
  const DiscoveredSpec s = f.run({app("/baton", 10000, {}), app("/other", 10001, {})});
  EXPECT_EQ(cluster(s, "baton_10000"), nullptr);
  EXPECT_NE(cluster(s, "other_10001"), nullptr);
}

TEST(Translate, ModeDefaulting) {
  Fixture f;
  App plain = app("/plain", 10000, {});
  App vhosted = app("/vhosted", 10001, {{"HAPROXY_0_VHOST", "v.example.com"}});
  App checked = app("/checked", 10002, {});
  HealthCheck http_check;
  http_check.protocol = "MESOS_HTTP";
  http_check.port_index = 0;
  checked.health_checks = {http_check};
  App tcp_check = app("/tcpcheck", 10003, {});
  HealthCheck tcp;
  tcp.protocol = "TCP";
  tcp.port_index = 0;
  tcp_check.health_checks = {tcp};
  App forced = app("/forced", 10004, {{"HAPROXY_0_MODE", "tcp"}});
  forced.health_checks = {http_check};
  App bad = app("/bad", 10005, {{"HAPROXY_0_MODE", "quic"}});
  // The first check naming an explicit port applies to every service port (marathon-lb quirk).
  App multi = app("/multi", 10006, {});
  multi.service_ports = {10006, 10007};
  HealthCheck explicit_port;
  explicit_port.protocol = "HTTPS";
  explicit_port.port = 8080;
  multi.health_checks = {explicit_port};

  f.options.app_id_port = 0;
  const DiscoveredSpec s = f.run({plain, vhosted, checked, tcp_check, forced, bad, multi});
  auto kind = [&](std::string_view name) { return listener(s, name)->kind; };
  EXPECT_EQ(kind("port_10000"), ListenerKind::Tcp);
  EXPECT_EQ(listener(s, "port_10000")->tcp_cluster, "plain_10000");
  EXPECT_EQ(kind("port_10001"), ListenerKind::Http);
  EXPECT_EQ(kind("port_10002"), ListenerKind::Http);
  EXPECT_EQ(kind("port_10003"), ListenerKind::Tcp);
  EXPECT_EQ(kind("port_10004"), ListenerKind::Tcp);
  EXPECT_EQ(kind("port_10005"), ListenerKind::Tcp);
  EXPECT_TRUE(hasIssue(s, "/bad", "HAPROXY_0_MODE"));
  EXPECT_EQ(kind("port_10006"), ListenerKind::Http);
  EXPECT_EQ(kind("port_10007"), ListenerKind::Http);
  EXPECT_EQ(vhost(s, "*", "port_10000"), nullptr);  // tcp listeners have no vhost
}

TEST(Translate, BackendWeightOrdersRoutes) {
  Fixture f;
  const std::vector<App> apps = {
      app("/a-root", 10000, {{"HAPROXY_0_VHOST", "x.example.com"}}),
      app("/b-api", 10001, {{"HAPROXY_0_VHOST", "x.example.com"}, {"HAPROXY_0_PATH", "/api"}}),
      app("/c-api-v2", 10002,
          {{"HAPROXY_0_VHOST", "x.example.com"}, {"HAPROXY_0_PATH", "/api/v2"}}),
      app("/d-heavy", 10003,
          {{"HAPROXY_0_VHOST", "x.example.com"},
           {"HAPROXY_0_PATH", "/static"},
           {"HAPROXY_0_BACKEND_WEIGHT", "10"}})};
  const DiscoveredSpec s = f.run(apps);
  const auto* v = vhost(s, "x.example.com");
  ASSERT_NE(v, nullptr);
  // weight 10 first; then PATH (weight 1) longer prefix first; the root (weight 0) last.
  EXPECT_EQ(routeClusters(*v),
            (std::vector<std::string>{"/static d-heavy_10003", "/api/v2 c-api-v2_10002",
                                      "/api b-api_10001", "/ a-root_10000"}));
  EXPECT_TRUE(s.issues.empty());
  expectRouteTablesBuild(s);
}

TEST(Translate, PathCollisionReportedNeverSilent) {
  Fixture f;
  const std::vector<App> apps = {
      app("/first", 10000, {{"HAPROXY_0_VHOST", "x.example.com"}, {"HAPROXY_0_PATH", "/api"}}),
      app("/second", 10001, {{"HAPROXY_0_VHOST", "x.example.com"}, {"HAPROXY_0_PATH", "/api"}}),
      // Weighted above, a root route shadows every later prefix of the vhost.
      app("/greedy", 10002,
          {{"HAPROXY_0_VHOST", "y.example.com"}, {"HAPROXY_0_BACKEND_WEIGHT", "5"}}),
      app("/starved", 10003, {{"HAPROXY_0_VHOST", "y.example.com"}, {"HAPROXY_0_PATH", "/a"}}),
      app("/nopath", 10004, {{"HAPROXY_0_PATH", "/x"}})};
  const DiscoveredSpec s = f.run(apps);
  EXPECT_EQ(routeClusters(*vhost(s, "x.example.com")),
            (std::vector<std::string>{"/api first_10000"}));
  EXPECT_TRUE(hasIssue(s, "/second", "collision"));
  EXPECT_TRUE(hasIssue(s, "/second", "/first"));
  EXPECT_EQ(routeClusters(*vhost(s, "y.example.com")),
            (std::vector<std::string>{"/ greedy_10002"}));
  EXPECT_TRUE(hasIssue(s, "/starved", "/greedy"));
  EXPECT_TRUE(hasIssue(s, "/nopath", "needs a VHOST"));
  expectRouteTablesBuild(s);
}

TEST(Translate, BadAuthOrAclFailsClosed) {
  Fixture f;
  const std::vector<App> apps = {
      app("/badauth", 10000, {{"HAPROXY_0_VHOST", "a.example.com"}, {"HAPROXY_0_AUTH", "realm"}}),
      app("/badacl", 10001,
          {{"HAPROXY_0_VHOST", "b.example.com"},
           {"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL", "10.0.0.0/8 300.1.1.1"}}),
      app("/good", 10002,
          {{"HAPROXY_0_VHOST", "c.example.com"},
           {"HAPROXY_0_AUTH", "r:bob:$5$s$h"},
           {"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL", "10.0.0.0/8"}})};
  const DiscoveredSpec s = f.run(apps);
  for (std::string_view id : {"badauth", "badacl"}) {
    for (const auto& c : s.clusters) EXPECT_EQ(c.name.find(id), std::string::npos);
    for (const auto& l : s.listeners) EXPECT_EQ(l.origin.find(id), std::string::npos);
  }
  EXPECT_EQ(vhost(s, "a.example.com"), nullptr);
  EXPECT_EQ(vhost(s, "b.example.com"), nullptr);
  EXPECT_EQ(listener(s, "port_10000"), nullptr);
  EXPECT_EQ(listener(s, "port_10001"), nullptr);
  EXPECT_EQ(vhost(s, "/badauth", "app_id"), nullptr);
  EXPECT_TRUE(hasIssue(s, "/badauth", "HAPROXY_0_AUTH"));
  EXPECT_TRUE(hasIssue(s, "/badacl", "300.1.1.1"));
  // The good app carries both actions on all three routes.
  for (const auto* v :
       {vhost(s, "c.example.com"), vhost(s, "*", "port_10002"), vhost(s, "/good", "app_id")}) {
    ASSERT_NE(v, nullptr);
    ASSERT_TRUE(v->routes.at(0).basic_auth.has_value());
    EXPECT_EQ(v->routes.at(0).basic_auth->users.at(0).user, "bob");
    EXPECT_EQ(v->routes.at(0).allowed_sources, (std::vector<std::string>{"10.0.0.0/8"}));
  }
}

TEST(Translate, RouteActionsAndClusterSettings) {
  Fixture f;
  App a = app("/site", 10000,
              {{"HAPROXY_0_VHOST", "site.example.com,www.site.example.com"},
               {"HAPROXY_0_USE_HSTS", "t"},
               {"HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH", "/site"},
               {"HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH", "/site"},
               {"HAPROXY_0_HTTP_BACKEND_REDIR", "/home"},
               {"HAPROXY_0_BALANCE", "source"},
               {"HAPROXY_0_STICKY", "true"},
               {"BATON_0_TIMEOUT_SERVER", "90s"},
               {"BATON_0_TIMEOUT_TUNNEL", "2m"}});
  const DiscoveredSpec s = f.run({a});
  const auto& r = vhost(s, "www.site.example.com")->routes.at(0);
  EXPECT_TRUE(r.hsts);
  EXPECT_EQ(r.strip_prefix, "/site");
  EXPECT_EQ(r.upstream_host, "site.example.com");
  EXPECT_EQ(r.location_rewrite, "/site");
  EXPECT_EQ(r.redirect_root_to, "/home");
  const auto* c = cluster(s, "site_10000");
  EXPECT_EQ(c->policy, conf::LbPolicyKind::SourceHash);
  EXPECT_EQ(c->sticky_cookie, "mesosphere_server_id");
  EXPECT_EQ(c->timeouts.upstream_first_byte, conf::Duration(90'000));
  EXPECT_EQ(c->timeouts.tunnel_idle, conf::Duration(120'000));
  EXPECT_FALSE(c->timeouts.upstream_connect.has_value());
}

TEST(Translate, ProtoLabelPerPortCluster) {
  Fixture f;
  App a = app("/grpc", 10020, {{"HAPROXY_0_VHOST", "grpc.example.com"}, {"BATON_0_PROTO", "h2c"}});
  App b = app("/web", 10021, {{"HAPROXY_0_VHOST", "web.example.com"}});
  const DiscoveredSpec s = f.run({a, b});
  EXPECT_EQ(cluster(s, "grpc_10020")->protocol, conf::UpstreamProtocol::H2c);
  EXPECT_EQ(cluster(s, "web_10021")->protocol, conf::UpstreamProtocol::Http1);
}

TEST(Translate, WebSocketLabelPerPort) {
  Fixture f;
  App on = app("/chat", 10010, {{"HAPROXY_0_VHOST", "chat.example.com"}});
  App off = app("/plain", 10011,
                {{"HAPROXY_0_VHOST", "plain.example.com"}, {"BATON_0_WEBSOCKET", "false"}});
  App yes = app("/live", 10012,
                {{"HAPROXY_0_VHOST", "live.example.com"}, {"BATON_0_WEBSOCKET", " Yes "}});
  App bad =
      app("/odd", 10013, {{"HAPROXY_0_VHOST", "odd.example.com"}, {"BATON_0_WEBSOCKET", "maybe"}});
  const DiscoveredSpec s = f.run({on, off, yes, bad});
  EXPECT_TRUE(vhost(s, "chat.example.com")->routes.at(0).websocket);  // default: allowed
  EXPECT_FALSE(vhost(s, "plain.example.com")->routes.at(0).websocket);
  EXPECT_TRUE(vhost(s, "live.example.com")->routes.at(0).websocket);
  EXPECT_TRUE(vhost(s, "odd.example.com")->routes.at(0).websocket);
  EXPECT_TRUE(hasIssue(s, "/odd", "BATON_0_WEBSOCKET"));
  EXPECT_FALSE(hasIssue(s, "/plain", "BATON_0_WEBSOCKET"));  // a known label, no issue
}

TEST(Translate, SslCertLabelsMakeTlsPortsAndCertificates) {
  Fixture f;
  f.options.https_port = 10443;
  App shop = app("/shop", 10020,
                 {{"HAPROXY_0_VHOST", "shop.example.com"},
                  {"HAPROXY_0_SSL_CERT", "/etc/ssl/shop.pem, /etc/ssl/wild.pem"}});
  App blog =
      app("/blog", 10021,
          {{"HAPROXY_0_VHOST", "blog.example.com"}, {"HAPROXY_0_SSL_CERT", "/etc/ssl/wild.pem"}});
  App rel = app("/rel", 10022, {{"HAPROXY_0_SSL_CERT", "certs/rel.pem"}});
  App tcp =
      app("/db", 10023, {{"HAPROXY_0_MODE", "tcp"}, {"HAPROXY_0_SSL_CERT", "/etc/ssl/db.pem"}});
  App clash = app("/clash", 10443, {});
  const DiscoveredSpec s = f.run({shop, blog, rel, tcp, clash});
  ASSERT_EQ(s.certificates.size(), 2u);  // each file once, apps in id order
  EXPECT_EQ(s.certificates[0].cert, "/etc/ssl/wild.pem");
  EXPECT_EQ(s.certificates[0].key, "");  // marathon-lb's combined PEM
  EXPECT_EQ(s.certificates[0].origin, "marathon:/blog");
  EXPECT_EQ(s.certificates[1].cert, "/etc/ssl/shop.pem");
  ASSERT_NE(listener(s, "port_10020"), nullptr);
  EXPECT_TRUE(listener(s, "port_10020")->tls);
  EXPECT_FALSE(listener(s, "port_10020")->h2c);
  EXPECT_FALSE(listener(s, "port_10022")->tls);  // its only certificate was refused
  EXPECT_TRUE(listener(s, "port_10022")->h2c);
  EXPECT_TRUE(hasIssue(s, "/rel", "not an absolute path"));
  EXPECT_TRUE(hasIssue(s, "/db", "tcp-mode"));
  EXPECT_EQ(listener(s, "port_10443"), nullptr);  // reserved for the https listener
  EXPECT_TRUE(hasIssue(s, "/clash", "baton's own listener"));
}

// Hosts come out in task id order whatever the document's order, each host whole (its address,
// name and draining flag travel with its task id), ties broken by address.
TEST(Translate, HostsSortedByTaskIdThenAddress) {
  Fixture f;
  App a = app("/svc", 10000, {});
  for (int i : {7, 3, 11, 0, 9, 1, 5, 10, 2, 8, 4, 6}) {
    a.tasks.push_back(task("svc." + std::to_string(100 + i), "10.0.0." + std::to_string(i + 1),
                           static_cast<uint16_t>(31000 + i)));
  }
  Task twin = task("svc.105", "10.0.0.99", 30999);  // same task id, a lower address
  a.tasks.push_back(twin);
  f.draining = {"svc.103"};
  const DiscoveredSpec s = f.run({a});
  const auto* c = cluster(s, "svc_10000");
  ASSERT_EQ(c->hosts.size(), 13u);
  std::vector<std::string> order;
  for (const auto& h : c->hosts) order.push_back(h.task_id + "@" + h.address);
  EXPECT_EQ(order[0], "svc.100@10.0.0.1:31000");
  EXPECT_EQ(order[5], "svc.105@10.0.0.6:31005");
  EXPECT_EQ(order[6], "svc.105@10.0.0.99:30999");
  EXPECT_EQ(order[12], "svc.111@10.0.0.12:31011");
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_TRUE(c->hosts[3].draining);
  EXPECT_EQ(c->hosts[3].task_id, "svc.103");
  EXPECT_EQ(c->hosts[3].name, "10_0_0_4_31003");
}

// A LOST task whose port the agent gave to a new task: one backend entry for the address, marked
// shared, draining only when both tasks are; reported.
TEST(Translate, TasksSharingAnAddressAreOneSharedHost) {
  Fixture f;
  App a = app("/svc", 10000, {});
  a.tasks = {task("svc.1", "10.0.0.1", 31000), task("svc.2", "10.0.0.1", 31000),
             task("svc.3", "10.0.0.2", 31000)};
  f.draining = {"svc.1"};
  DiscoveredSpec s = f.run({a});
  const auto* c = cluster(s, "svc_10000");
  ASSERT_EQ(c->hosts.size(), 2u);
  EXPECT_EQ(c->hosts[0].address, "10.0.0.1:31000");
  EXPECT_TRUE(c->hosts[0].shared_address);
  EXPECT_FALSE(c->hosts[0].draining) << "svc.2 still serves on it";
  EXPECT_FALSE(c->hosts[1].shared_address);
  EXPECT_TRUE(hasIssue(s, "/svc", "one backend serves both"));
  f.draining = {"svc.1", "svc.2"};
  s = f.run({a});
  EXPECT_TRUE(cluster(s, "svc_10000")->hosts[0].draining);
}

TEST(Translate, ServerNamesAddressesAndDraining) {
  Fixture f;
  App a = app("/svc", 10000, {});
  Task by_name = task("svc.2", "agent-1", 31001);
  Task v6 = task("svc.1", "fd00::5", 31002);
  Task unresolved = task("svc.3", "unresolved.agent", 31003);
  Task container = task("svc.4", "agent-1", 8080);
  container.endpoints = {{"172.16.0.9", 8080}};  // IP-per-task: endpoint is the task IP
  a.tasks = {by_name, v6, unresolved, container};
  f.draining = {"svc.2"};
  const DiscoveredSpec s = f.run({a});
  const auto* c = cluster(s, "svc_10000");
  ASSERT_EQ(c->hosts.size(), 3u);
  EXPECT_EQ(c->hosts[0].task_id, "svc.1");  // sorted by task id
  EXPECT_EQ(c->hosts[0].address, "[fd00::5]:31002");
  EXPECT_EQ(c->hosts[0].name, "fd00__5_31002");
  EXPECT_EQ(c->hosts[1].name, "agent_1_10_1_0_1_31001");
  EXPECT_EQ(c->hosts[1].address, "10.1.0.1:31001");
  EXPECT_TRUE(c->hosts[1].draining);
  EXPECT_EQ(c->hosts[2].name, "agent_1_172_16_0_9_8080");
  EXPECT_FALSE(c->hosts[2].draining);
  EXPECT_TRUE(hasIssue(s, "/svc", "svc.3"));
  Task bad_resolve = task("svc.5", "agent-2", 31005);
  f.context.resolve = [](std::string_view) -> std::optional<std::string> { return "agent-2"; };
  a.tasks = {bad_resolve};
  const DiscoveredSpec named = f.run({a});
  EXPECT_TRUE(cluster(named, "svc_10000")->hosts.empty());
  EXPECT_TRUE(hasIssue(named, "/svc", "not a numeric address"));
  EXPECT_EQ(serverName("10.0.6.25", "10.0.6.25", 31704), "10_0_6_25_31704");
  EXPECT_EQ(serverName("Agent-7.dc", "10.0.6.25", 1), "Agent_7_dc_10_0_6_25_1");
  EXPECT_EQ(serverName("h\xc3\xa9", "fd00::5", 65535), "h___fd00__5_65535");  // bytes, not letters
  // Longer than the stack buffer names are built in (an agent's long DNS name).
  const std::string agent(100, 'a');
  EXPECT_EQ(serverName(agent + ".dc", "10.0.6.25", 8), agent + "_dc_10_0_6_25_8");
  EXPECT_EQ(backendName("/shop/web", 10300), "shop_web_10300");
}

// An endpoint the parser marked as IPv4 is its own address: no resolver call (100,000 of them
// per resync at Marathon scale). Unmarked hosts, numeric or not, still go to the resolver.
TEST(Translate, MarkedIpv4EndpointsSkipTheResolver) {
  Fixture f;
  std::vector<std::string> asked;
  f.context.resolve = [&](std::string_view host) -> std::optional<std::string> {
    asked.emplace_back(host);
    return host == "agent-1" ? "10.1.0.1" : std::string(host);
  };
  App a = app("/svc", 10000, {{"HAPROXY_0_VHOST", "svc.example.com"}});
  Task marked = task("svc.1", "10.0.0.7", 31001);
  marked.endpoints[0].ipv4 = true;
  a.tasks = {marked, task("svc.2", "10.0.0.8", 31002), task("svc.3", "agent-1", 31003)};
  const DiscoveredSpec s = f.run({a});
  EXPECT_EQ(asked, (std::vector<std::string>{"10.0.0.8", "agent-1"}));
  const auto* c = cluster(s, "svc_10000");
  ASSERT_EQ(c->hosts.size(), 3u);
  EXPECT_EQ(c->hosts[0].address, "10.0.0.7:31001");
  EXPECT_EQ(c->hosts[0].name, "10_0_0_7_31001");
  EXPECT_EQ(c->hosts[1].address, "10.0.0.8:31002");
  EXPECT_EQ(c->hosts[2].address, "10.1.0.1:31003");
}

TEST(Translate, ZeroHostClusterStillServed) {
  Fixture f;
  const DiscoveredSpec s = f.run({app("/empty", 10000, {{"HAPROXY_0_VHOST", "e.example.com"}})});
  ASSERT_NE(cluster(s, "empty_10000"), nullptr);
  EXPECT_TRUE(cluster(s, "empty_10000")->hosts.empty());
  EXPECT_NE(vhost(s, "e.example.com"), nullptr);
}

TEST(Translate, PerPortListeners) {
  Fixture f;
  f.options.bind_address = "10.0.0.2";
  App pinned = app("/a", 10000, {{"HAPROXY_0_PORT", "12000"}, {"HAPROXY_0_BIND_ADDR", "::1"}});
  App clash = app("/b", 12000, {});
  App unassigned = app("/c", 0, {{"HAPROXY_0_VHOST", "c.example.com"}});
  App own = app("/d", 80, {});
  const DiscoveredSpec s = f.run({clash, unassigned, pinned, own});
  const auto* l = listener(s, "port_12000");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->address, "[::1]:12000");
  EXPECT_EQ(l->tcp_cluster, "a_10000");
  EXPECT_TRUE(hasIssue(s, "/b", "/a"));  // first by app id wins
  EXPECT_EQ(listener(s, "port_0"), nullptr);
  EXPECT_NE(cluster(s, "c_0"), nullptr);  // still served through its vhost
  EXPECT_EQ(listener(s, "port_80"), nullptr);
  EXPECT_TRUE(hasIssue(s, "/d", "baton's own listener"));
  EXPECT_EQ(listener(s, "marathon_http")->address, "10.0.0.2:80");
  App named = app("/e", 10020, {{"HAPROXY_0_BIND_ADDR", "lb.internal"}});
  const DiscoveredSpec bad_bind = f.run({named});
  EXPECT_EQ(listener(bad_bind, "port_10020"), nullptr);
  EXPECT_TRUE(hasIssue(bad_bind, "/e", "HAPROXY_0_BIND_ADDR"));
  f.options.bind_service_ports = false;
  f.options.http_port = 0;
  f.options.app_id_port = 0;
  EXPECT_TRUE(f.run({pinned}).listeners.empty());
}

TEST(Translate, AccessLogLabelReachesTheRouteAndIsReportedOnATcpPort) {
  Fixture f;
  const DiscoveredSpec s =
      f.run({app("/web", 10000, {{"HAPROXY_0_VHOST", "web.example.com"},
                                 {"BATON_0_ACCESS_LOG", "errors"}}),
             app("/db", 10001, {{"BATON_0_ACCESS_LOG", "off"}})});  // tcp mode: no vhost
  EXPECT_EQ(vhost(s, "web.example.com")->routes.at(0).access_log, conf::AccessLogMode::Errors);
  EXPECT_TRUE(hasIssue(s, "/db", "BATON_0_ACCESS_LOG"));
  EXPECT_FALSE(hasIssue(s, "/web", "BATON_0_ACCESS_LOG"));
}

TEST(Translate, AutomaticDomains) {
  Fixture f;
  f.options.domain = "ns.example.com";
  HealthCheck http;
  http.port_index = 0;
  App branch = app("/team/project/branch", 10000, {});
  branch.health_checks = {http};
  App tcp_only = app("/team/db", 10001, {});  // tcp mode: no automatic domain
  App explicit_vhost = app("/zz", 10002, {{"HAPROXY_0_VHOST", "web.team.ns.example.com"}});
  App loser = app("/team/web", 10003, {});  // its automatic name is taken explicitly
  loser.health_checks = {http};
  App dup1 = app("/x/a_b", 10004, {});
  dup1.health_checks = {http};
  App dup2 = app("/x/a.b", 10005, {});  // also "a-b.x.ns.example.com"
  dup2.health_checks = {http};
  const DiscoveredSpec s = f.run({dup2, loser, tcp_only, branch, explicit_vhost, dup1});
  const auto* v = vhost(s, "branch.project.team.ns.example.com");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->routes.at(0).cluster, "team_project_branch_10000");
  EXPECT_EQ(vhost(s, "db.team.ns.example.com"), nullptr);
  EXPECT_EQ(routeClusters(*vhost(s, "web.team.ns.example.com")),
            (std::vector<std::string>{"/ zz_10002"}));
  EXPECT_TRUE(hasIssue(s, "/team/web", "explicit VHOST"));
  EXPECT_EQ(routeClusters(*vhost(s, "a-b.x.ns.example.com")),
            (std::vector<std::string>{"/ x_a.b_10005"}));  // "/x/a.b" < "/x/a_b"
  EXPECT_TRUE(hasIssue(s, "/x/a_b", "/x/a.b"));
  expectRouteTablesBuild(s);
}

TEST(Translate, DeploymentGroupServedAsOneCluster) {
  Fixture f;
  App blue = app("/shop-blue", 10000,
                 {{"HAPROXY_DEPLOYMENT_GROUP", "shop"},
                  {"HAPROXY_DEPLOYMENT_STARTED_AT", "2024-01-01T00:00:00Z"},
                  {"HAPROXY_DEPLOYMENT_TARGET_INSTANCES", "2"},
                  {"HAPROXY_0_PORT", "10000"}});
  blue.instances = 2;
  blue.tasks = {task("shop-blue.a", "10.0.0.1", 31000), task("shop-blue.b", "10.0.0.2", 31000)};
  App green = blue;
  green.id = "/shop-green";
  green.service_ports = {10001};
  green.instances = 1;
  green.labels["HAPROXY_DEPLOYMENT_STARTED_AT"] = "2024-02-01T00:00:00Z";
  green.tasks = {task("shop-green.x", "10.0.0.3", 31000)};
  const DiscoveredSpec s = f.run({green, blue});
  ASSERT_EQ(s.clusters.size(), 1u);
  const auto& c = s.clusters[0];
  EXPECT_EQ(c.name, "shop_10000");
  EXPECT_EQ(c.origin, "marathon:/shop");
  ASSERT_EQ(c.hosts.size(), 3u);
  EXPECT_TRUE(c.hosts[0].draining);  // shop-blue.a: N = min(2, 1, 1 + 2 - 2) = 1
  EXPECT_FALSE(c.hosts[1].draining);
  EXPECT_FALSE(c.hosts[2].draining);
  EXPECT_EQ(f.deployment_drained, (std::unordered_set<std::string>{"shop-blue.a"}));
  EXPECT_NE(listener(s, "port_10000"), nullptr);
}

// `show groups`: the groups this instance serves, in DiscoveredSpec::groups by group name.
TEST(Translate, DeploymentGroupsListedWhenServed) {
  Fixture f;
  App blue = app("/shop-blue", 10000,
                 {{"HAPROXY_DEPLOYMENT_GROUP", "shop"},
                  {"HAPROXY_DEPLOYMENT_STARTED_AT", "2024-01-01T00:00:00Z"},
                  {"HAPROXY_DEPLOYMENT_TARGET_INSTANCES", "2"}});
  blue.instances = 2;
  blue.tasks = {task("shop-blue.a", "10.0.0.1", 31000), task("shop-blue.b", "10.0.0.2", 31000)};
  App green = blue;
  green.id = "/shop-green";
  green.service_ports = {10001};
  green.instances = 1;
  green.labels["HAPROXY_DEPLOYMENT_STARTED_AT"] = "2024-02-01T00:00:00Z";
  green.tasks = {task("shop-green.x", "10.0.0.3", 31000)};
  App alone = app("/api-v1", 10010, {{"HAPROXY_DEPLOYMENT_GROUP", "api"}});
  alone.tasks = {task("api-v1.a", "10.0.0.4", 31000)};
  App internal =
      app("/int-v1", 10020, {{"HAPROXY_DEPLOYMENT_GROUP", "int"}, {"HAPROXY_GROUP", "internal"}});
  App plain = app("/plain", 10030, {});
  const DiscoveredSpec s = f.run({plain, internal, green, alone, blue});
  ASSERT_EQ(s.groups.size(), 2u);  // "int" belongs to another load balancer; /plain is no group
  EXPECT_EQ(s.groups[0], (conf::DeploymentGroupInfo{"api", "", "/api-v1", 0, 1, 0, 1, 1}));
  EXPECT_EQ(s.groups[1],
            (conf::DeploymentGroupInfo{"shop", "/shop-blue", "/shop-green", 2, 1, 1, 1, 2}));
  // Deterministic and part of spec equality: the same input gives an equal spec.
  EXPECT_EQ(s, f.run({blue, green, alone, internal, plain}));
  f.options.groups = {"*"};
  EXPECT_EQ(f.run({plain, internal, green, alone, blue}).groups.size(), 3u);
}

TEST(Translate, ClusterNameCollisionReported) {
  Fixture f;
  const DiscoveredSpec s = f.run({app("/a/b", 10000, {}), app("/a_b", 10000, {})});
  ASSERT_EQ(s.clusters.size(), 1u);
  EXPECT_EQ(s.clusters[0].origin, "marathon:/a/b");
  EXPECT_TRUE(hasIssue(s, "/a_b", "already used"));
}

TEST(Translate, LongDomainGetsSafeVhostName) {
  Fixture f;
  const std::string domain = std::string(60, 'a') + ".example.com";
  const DiscoveredSpec s = f.run({app("/w", 10000, {{"HAPROXY_0_VHOST", "*." + domain}})});
  const auto* v = vhost(s, "*." + domain);
  ASSERT_NE(v, nullptr);
  EXPECT_LE(v->name.size(), 64u);
  for (const char c : v->name)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  expectRouteTablesBuild(s);
}

TEST(Translate, DeterministicForShuffledInput) {
  Fixture f;
  f.options.domain = "d.io";
  std::vector<App> apps = exampleApps();
  apps.push_back(
      app("/a", 10010, {{"HAPROXY_0_VHOST", "shop.example.com"}, {"HAPROXY_0_PATH", "/"}}));
  apps.push_back(app("/b", 10011, {{"HAPROXY_0_VHOST", "x.io"}, {"HAPROXY_0_PATH", "/p /q"}}));
  apps.push_back(app("/c", 10010, {}));
  apps.push_back(app("/team/auto", 10012, {{"HAPROXY_0_MODE", "http"}}));
  apps.back().tasks = {task("team_auto.2", "10.0.0.2", 1), task("team_auto.1", "10.0.0.1", 2)};
  const DiscoveredSpec first = f.run(apps);
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(apps.begin(), apps.end(), rng);
    for (App& a : apps) std::shuffle(a.tasks.begin(), a.tasks.end(), rng);
    const DiscoveredSpec again = f.run(apps);
    EXPECT_EQ(again.listeners, first.listeners);
    EXPECT_EQ(again.clusters, first.clusters);
    EXPECT_EQ(again.vhosts, first.vhosts);
    ASSERT_EQ(again.issues.size(), first.issues.size());
    for (size_t k = 0; k < again.issues.size(); ++k) {
      EXPECT_EQ(again.issues[k].app_id, first.issues[k].app_id);
      EXPECT_EQ(again.issues[k].message, first.issues[k].message);
    }
  }
  expectRouteTablesBuild(first);
}

}  // namespace
}  // namespace baton::discovery

namespace baton::discovery {
namespace {

// design.md's target size: 10,000 apps / 100,000 tasks in one resync (no timing assertion:
// the figure is printed so a regression is visible in the log).
TEST(Translate, TenThousandApps) {
  Fixture f;
  f.options.domain = "d.io";
  std::vector<App> apps;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = "/team" + std::to_string(i % 100) + "/app" + std::to_string(i);
    std::map<std::string, std::string> labels;
    if (i % 2 == 0) labels["HAPROXY_0_VHOST"] = "shared" + std::to_string(i % 50) + ".example.com";
    if (i % 2 == 0) labels["HAPROXY_0_PATH"] = "/p" + std::to_string(i);
    App a = app(id, static_cast<uint16_t>(10'000 + i), std::move(labels));
    for (int t = 0; t < 10; ++t) {
      a.tasks.push_back(task(id.substr(1) + "." + std::to_string(t),
                             "10.0." + std::to_string(t) + "." + std::to_string(i % 250),
                             static_cast<uint16_t>(31'000 + t)));
    }
    apps.push_back(std::move(a));
  }
  const auto start = std::chrono::steady_clock::now();
  const DiscoveredSpec s = f.run(apps);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::printf("translate: 10000 apps, 100000 tasks: %lld ms\n", static_cast<long long>(ms.count()));
  EXPECT_EQ(s.clusters.size(), 10'000u);
  EXPECT_EQ(vhost(s, "shared0.example.com")->routes.size(), 200u);  // i % 50 == 0
  EXPECT_TRUE(s.issues.empty());
}

}  // namespace
}  // namespace baton::discovery
