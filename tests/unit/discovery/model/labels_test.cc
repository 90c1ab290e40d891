#include "discovery/model/labels.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace baton::discovery {
namespace {

using conf::DiscoveryIssue;

App appWith(std::map<std::string, std::string> labels) {
  App app;
  app.id = "/shop/web";
  app.labels = std::move(labels);
  app.service_ports = {10300, 10301};
  return app;
}

bool hasIssue(const std::vector<DiscoveryIssue>& issues, std::string_view subject,
              std::string_view text = {}) {
  return std::any_of(issues.begin(), issues.end(), [&](const DiscoveryIssue& i) {
    return i.subject == subject && i.message.find(text) != std::string::npos;
  });
}

TEST(Labels, BooleansFollowMarathonLb) {
  for (const char* v : {"true", "TRUE", "t", "T", "yes", "Yes", "y", " Y "}) {
    EXPECT_TRUE(parseMlbBool(v)) << v;
  }
  for (const char* v : {"false", "1", "on", "", "no", "tru"}) EXPECT_FALSE(parseMlbBool(v)) << v;
}

TEST(Labels, SplitTrimsAndDropsEmpty) {
  EXPECT_EQ(splitTrimmed(" a, b ,,c ", ','), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(splitTrimmed("", ',').empty());
}

TEST(Labels, PerPortGroupWinsOverAppGroup) {
  std::vector<DiscoveryIssue> issues;
  const App app = appWith({{"HAPROXY_GROUP", "external, edge"}, {"HAPROXY_1_GROUP", "internal"}});
  EXPECT_EQ(readPortLabels(app, 0, issues).groups, (std::vector<std::string>{"external", "edge"}));
  EXPECT_EQ(readPortLabels(app, 1, issues).groups, (std::vector<std::string>{"internal"}));
  EXPECT_TRUE(issues.empty());
}

TEST(Labels, VhostsLowerCasedTrimmedAndChecked) {
  std::vector<DiscoveryIssue> issues;
  const App app = appWith({{"HAPROXY_0_VHOST", " Shop.Example.com,*.Example.org, bad host,"}});
  const PortLabels l = readPortLabels(app, 0, issues);
  EXPECT_EQ(l.vhosts, (std::vector<std::string>{"shop.example.com", "*.example.org"}));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_VHOST", "bad host"));
}

TEST(Labels, PathFlagsReportedAndIgnored) {
  std::vector<DiscoveryIssue> issues;
  const PortLabels l = readPortLabels(appWith({{"HAPROXY_0_PATH", "-i /api  /v2"}}), 0, issues);
  EXPECT_EQ(l.paths, (std::vector<std::string>{"/api", "/v2"}));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_PATH", "-i"));
}

TEST(Labels, AuthSplitsOnFirstTwoColons) {
  std::vector<DiscoveryIssue> issues;
  const PortLabels l =
      readPortLabels(appWith({{"HAPROXY_0_AUTH", "My Realm:alice:$6$salt$hash"}}), 0, issues);
  ASSERT_TRUE(l.auth.has_value());
  EXPECT_EQ(l.auth->realm, "My Realm");
  ASSERT_EQ(l.auth->users.size(), 1u);
  EXPECT_EQ(l.auth->users[0].user, "alice");
  EXPECT_EQ(l.auth->users[0].password_hash, "$6$salt$hash");
  EXPECT_FALSE(l.fail_closed);
}

TEST(Labels, MalformedAuthFailsClosed) {
  for (const char* v : {"realm:alice", "realm::hash", ":alice:hash", "realm:alice:", "nocolon"}) {
    std::vector<DiscoveryIssue> issues;
    const PortLabels l = readPortLabels(appWith({{"HAPROXY_0_AUTH", v}}), 0, issues);
    EXPECT_TRUE(l.fail_closed) << v;
    EXPECT_FALSE(l.auth.has_value()) << v;
    EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_AUTH", "not exposed")) << v;
  }
}

TEST(Labels, AllowedAclValidatedFailClosed) {
  std::vector<DiscoveryIssue> issues;
  PortLabels l = readPortLabels(
      appWith({{"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL", "10.0.0.0/8 192.168.1.7"}}), 0, issues);
  EXPECT_EQ(l.allowed_sources, (std::vector<std::string>{"10.0.0.0/8", "192.168.1.7/32"}));
  EXPECT_FALSE(l.fail_closed);
  l = readPortLabels(appWith({{"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL", "10.0.0.0/8 nope"}}), 0,
                     issues);
  EXPECT_TRUE(l.fail_closed);
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL", "nope"));
}

TEST(Labels, ModeBalanceStickyPort) {
  std::vector<DiscoveryIssue> issues;
  PortLabels l = readPortLabels(appWith({{"HAPROXY_0_MODE", "TCP"},
                                         {"HAPROXY_0_BALANCE", "leastconn"},
                                         {"HAPROXY_0_STICKY", "yes"},
                                         {"HAPROXY_0_PORT", "8443"},
                                         {"HAPROXY_0_BIND_ADDR", "*"},
                                         {"HAPROXY_1_BALANCE", "source"}}),
                                0, issues);
  EXPECT_EQ(l.mode, conf::ListenerKind::Tcp);
  EXPECT_EQ(l.balance, conf::LbPolicyKind::LeastRequest);
  EXPECT_TRUE(l.sticky);
  EXPECT_EQ(l.port, 8443);
  EXPECT_EQ(l.bind_addr, "");
  EXPECT_TRUE(issues.empty());

  l = readPortLabels(appWith({{"HAPROXY_0_MODE", "udp"},
                              {"HAPROXY_0_BALANCE", "uri"},
                              {"HAPROXY_0_PORT", "70000"},
                              {"HAPROXY_0_BACKEND_WEIGHT", "x"}}),
                     0, issues);
  EXPECT_FALSE(l.mode.has_value());
  EXPECT_EQ(l.balance, conf::LbPolicyKind::RoundRobin);
  EXPECT_FALSE(l.port.has_value());
  EXPECT_FALSE(l.backend_weight.has_value());
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_MODE"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BALANCE", "roundrobin"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_PORT"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BACKEND_WEIGHT"));
}

TEST(Labels, PathActionsChecked) {
  std::vector<DiscoveryIssue> issues;
  const PortLabels l = readPortLabels(appWith({{"HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH", "/api"},
                                               {"HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH", "api"},
                                               {"HAPROXY_0_HTTP_BACKEND_REDIR", "/a b"}}),
                                      0, issues);
  EXPECT_EQ(l.proxypass_path, "/api");
  EXPECT_EQ(l.revproxy_path, "");
  EXPECT_EQ(l.redirect_root_to, "");
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH", "not a path"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_HTTP_BACKEND_REDIR", "not a path"));
}

TEST(Labels, BatonTimeouts) {
  std::vector<DiscoveryIssue> issues;
  const PortLabels l = readPortLabels(appWith({{"BATON_0_TIMEOUT_CONNECT", "250ms"},
                                               {"BATON_0_TIMEOUT_SERVER", "10s"},
                                               {"BATON_0_TIMEOUT_BODY_IDLE", "2m"},
                                               {"BATON_0_TIMEOUT_TUNNEL", "1 hour"}}),
                                      0, issues);
  EXPECT_EQ(l.timeouts.upstream_connect, conf::Duration(250));
  EXPECT_EQ(l.timeouts.upstream_first_byte, conf::Duration(10'000));
  EXPECT_EQ(l.timeouts.body_idle, conf::Duration(120'000));
  EXPECT_FALSE(l.timeouts.tunnel_idle.has_value());
  EXPECT_TRUE(hasIssue(issues, "BATON_0_TIMEOUT_TUNNEL", "invalid duration"));
}

TEST(Labels, WebSocketValueChecked) {
  std::vector<DiscoveryIssue> issues;
  readPortLabels(appWith({{"BATON_0_WEBSOCKET", "off"}}), 0, issues);
  EXPECT_TRUE(hasIssue(issues, "BATON_0_WEBSOCKET", "not a boolean"));
  issues.clear();
  readPortLabels(appWith({{"BATON_0_WEBSOCKET", "False"}}), 0, issues);
  readPortLabels(appWith({{"BATON_0_WEBSOCKET", "true"}}), 0, issues);
  EXPECT_TRUE(issues.empty());
  checkAppLabels(appWith({{"BATON_0_WEBSOCKET", "n"}}), issues);
  EXPECT_TRUE(issues.empty());  // known to checkAppLabels
}

TEST(Labels, BatonAccessLog) {
  std::vector<DiscoveryIssue> issues;
  using conf::AccessLogMode;
  EXPECT_EQ(readPortLabels(appWith({}), 0, issues).access_log, AccessLogMode::All);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_ACCESS_LOG", "Errors"}}), 0, issues).access_log,
            AccessLogMode::Errors);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_ACCESS_LOG", "off"}}), 0, issues).access_log,
            AccessLogMode::Off);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_ACCESS_LOG", "false"}}), 0, issues).access_log,
            AccessLogMode::Off);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_ACCESS_LOG", "true"}}), 0, issues).access_log,
            AccessLogMode::All);
  EXPECT_TRUE(issues.empty());
  checkAppLabels(appWith({{"BATON_0_ACCESS_LOG", "all"}}), issues);
  EXPECT_TRUE(issues.empty()) << "known to checkAppLabels";
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_ACCESS_LOG", "some"}}), 0, issues).access_log,
            AccessLogMode::All);
  EXPECT_TRUE(hasIssue(issues, "BATON_0_ACCESS_LOG", "is not all, errors or off"));
}

TEST(Labels, BatonProto) {
  std::vector<DiscoveryIssue> issues;
  EXPECT_EQ(readPortLabels(appWith({}), 0, issues).protocol, conf::UpstreamProtocol::Http1);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_PROTO", "h2c"}}), 0, issues).protocol,
            conf::UpstreamProtocol::H2c);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_PROTO", " H2 "}}), 0, issues).protocol,
            conf::UpstreamProtocol::H2);
  EXPECT_EQ(readPortLabels(appWith({{"BATON_0_PROTO", "http1"}}), 0, issues).protocol,
            conf::UpstreamProtocol::Http1);
  EXPECT_TRUE(issues.empty());
  const PortLabels bad = readPortLabels(appWith({{"BATON_0_PROTO", "grpc"}}), 0, issues);
  EXPECT_EQ(bad.protocol, conf::UpstreamProtocol::Http1);
  EXPECT_TRUE(hasIssue(issues, "BATON_0_PROTO", "not one of http1, h2c, h2"));
  issues.clear();
  checkAppLabels(appWith({{"BATON_0_PROTO", "h2c"}}), issues);
  EXPECT_TRUE(issues.empty());  // known to checkAppLabels
}

TEST(Labels, UnsupportedTemplateAndUnknownLabelsReported) {
  std::vector<DiscoveryIssue> issues;
  checkAppLabels(appWith({{"HAPROXY_GROUP", "external"},
                          {"HAPROXY_0_VHOST", "a.example.com"},
                          {"HAPROXY_DEPLOYMENT_GROUP", "shop"},
                          {"BATON_0_TIMEOUT_SERVER", "5s"},
                          {"HAPROXY_0_SSL_CERT", "/etc/ssl/a.pem"},
                          {"HAPROXY_1_BIND_OPTIONS", "alpn h2"},
                          {"HAPROXY_0_BACKEND_HEALTHCHECK_PORT_INDEX", "1"},
                          {"HAPROXY_0_BACKEND_HEAD", "timeout server 1h"},
                          {"HAPROXY_0_HTTP_FRONTEND_ACL", "x"},
                          {"HAPROXY_0_FROBNICATE", "1"},
                          {"BATON_0_TIMEOUT_QUEUE", "1s"},
                          {"HAPROXY_2_VHOST", "c.example.com"},
                          {"team", "payments"}}),
                 issues);
  EXPECT_EQ(issues.size(), 7u);
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_2_VHOST", "no service port 2"));
  EXPECT_FALSE(hasIssue(issues, "HAPROXY_0_SSL_CERT", ""));  // supported since issue 6
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_1_BIND_OPTIONS", "not supported"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BACKEND_HEALTHCHECK_PORT_INDEX", "not supported"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BACKEND_HEAD", "BATON_{n}_TIMEOUT"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_BACKEND_HEAD", "BATON_{n}_ACCESS_LOG"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_HTTP_FRONTEND_ACL", "template"));
  EXPECT_TRUE(hasIssue(issues, "HAPROXY_0_FROBNICATE", "unknown"));
  EXPECT_TRUE(hasIssue(issues, "BATON_0_TIMEOUT_QUEUE", "unknown"));
}

}  // namespace
}  // namespace baton::discovery
