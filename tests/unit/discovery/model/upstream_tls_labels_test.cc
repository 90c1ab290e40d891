// BATON_{n}_TLS_VERIFY, _TLS_CA_FILE, _TLS_SERVER_NAME: how an h2 port's tasks are verified.
#include <gtest/gtest.h>

#include "discovery/model/labels.h"

namespace baton::discovery {
namespace {

App appWith(std::map<std::string, std::string> labels) {
  App app;
  app.id = "/shop/grpc";
  app.service_ports = {10000, 10001};
  app.labels = std::move(labels);
  return app;
}

TEST(UpstreamTlsLabels, H2PortTakesThem) {
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels labels =
      readPortLabels(appWith({{"BATON_0_PROTO", "h2"},
                              {"BATON_0_TLS_VERIFY", "false"},
                              {"BATON_0_TLS_CA_FILE", "/etc/ssl/ca.pem"},
                              {"BATON_0_TLS_SERVER_NAME", "GRPC.svc.Internal"}}),
                     0, issues);
  EXPECT_TRUE(issues.empty()) << issues.front().text();
  EXPECT_FALSE(labels.tls_verify);
  EXPECT_EQ(labels.tls_ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(labels.tls_server_name, "grpc.svc.internal");
}

TEST(UpstreamTlsLabels, OtherProtocolsOrBadValuesAreIssues) {
  std::vector<conf::DiscoveryIssue> issues;
  const PortLabels plain =
      readPortLabels(appWith({{"BATON_0_TLS_SERVER_NAME", "grpc.svc.internal"}}), 0, issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].subject, "BATON_0_TLS_SERVER_NAME");
  EXPECT_TRUE(plain.tls_server_name.empty());
  issues.clear();
  const PortLabels bad = readPortLabels(appWith({{"BATON_0_PROTO", "h2"},
                                                 {"BATON_0_TLS_VERIFY", "perhaps"},
                                                 {"BATON_0_TLS_CA_FILE", "ca.pem"},
                                                 {"BATON_0_TLS_SERVER_NAME", "bad name"}}),
                                        0, issues);
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_TRUE(bad.tls_verify);
  EXPECT_TRUE(bad.tls_ca_file.empty());
  EXPECT_TRUE(bad.tls_server_name.empty());
}

}  // namespace
}  // namespace baton::discovery
