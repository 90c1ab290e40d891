// network.h without JSON: mode order, service ports per mode, marathon-lb's hashed service
// ports for IP-per-task apps, and task endpoints (marathon.md §1.3).
#include "discovery/model/network.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace baton::discovery {
namespace {

using Ports = std::vector<uint16_t>;

std::vector<uint16_t> ports(const Endpoints& endpoints) {
  std::vector<uint16_t> out;
  for (const Endpoint& e : endpoints) out.push_back(e.port);
  return out;
}

TEST(NetworkModeTest, Names) {
  EXPECT_EQ(networkModeFromName("host"), NetworkMode::Host);
  EXPECT_EQ(networkModeFromName("container/bridge"), NetworkMode::Bridge);
  EXPECT_EQ(networkModeFromName("container"), NetworkMode::Container);
  EXPECT_EQ(networkModeFromName("HOST"), std::nullopt);
  EXPECT_EQ(networkModeFromName("bridge"), std::nullopt);
  EXPECT_EQ(dockerNetworkMode("USER"), NetworkMode::Container);
  EXPECT_EQ(dockerNetworkMode("BRIDGE"), NetworkMode::Bridge);
  EXPECT_EQ(dockerNetworkMode("HOST"), std::nullopt);  // leaves the other rules in charge
  EXPECT_EQ(dockerNetworkMode("NONE"), std::nullopt);
}

TEST(NetworkModeTest, ResolutionOrder) {
  AppNetwork app;
  EXPECT_EQ(resolveMode(app), NetworkMode::Host);  // default
  app.has_ip_address = true;
  EXPECT_EQ(resolveMode(app), NetworkMode::Container);  // ipAddress
  app.docker_network = NetworkMode::Bridge;
  EXPECT_EQ(resolveMode(app), NetworkMode::Bridge);  // docker.network after ipAddress
  app.last_networks_mode = NetworkMode::Host;
  EXPECT_EQ(resolveMode(app), NetworkMode::Host);  // networks[] last, overrides all
  AppNetwork user;
  user.docker_network = NetworkMode::Container;
  EXPECT_EQ(resolveMode(user), NetworkMode::Container);
}

TEST(ServicePortsTest, HostMode) {
  ServicePortAssigner assigner;
  AppNetwork app;
  app.legacy_ports = {10001, 10002};
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Host, "/a", assigner), (Ports{10001, 10002}));
  app.has_port_definitions = true;  // present, even empty, portDefinitions win over `ports`
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Host, "/a", assigner), Ports{});
  app.port_definitions = {10005};
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Host, "/a", assigner), Ports{10005});
  // portMappings are not host-mode service ports.
  app.port_mappings = {{80, 10100}};
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Host, "/a", assigner), Ports{10005});
}

TEST(ServicePortsTest, BridgeMode) {
  ServicePortAssigner assigner;
  AppNetwork app;
  app.port_mappings = {{80, 10010}, {81, std::nullopt}, {82, 10012}};
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Bridge, "/a", assigner),
            (Ports{10010, 0, 10012}));       // a missing service port keeps its index
  app.docker_port_mappings = {{90, 10020}};  // legacy docker mappings first
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Bridge, "/a", assigner), Ports{10020});
  AppNetwork none;  // no mapping has a service port: portDefinitions, as marathon-lb
  none.port_mappings = {{80, std::nullopt}};
  none.has_port_definitions = true;
  none.port_definitions = {10030};
  EXPECT_EQ(resolveServicePorts(none, NetworkMode::Bridge, "/a", assigner), Ports{10030});
  none.port_definitions.clear();
  EXPECT_EQ(resolveServicePorts(none, NetworkMode::Bridge, "/a", assigner), Ports{});
}

TEST(ServicePortsTest, ContainerModeHashesWhenMarathonGaveNone) {
  ServicePortAssigner assigner;
  AppNetwork app;
  app.has_ip_address = true;
  app.discovery_ports = {80, 443};
  // Values of marathon-lb's formula: 10050 + int(sha1("/web-80-0").hexdigest()[:8], 16) % 51.
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Container, "/web", assigner),
            (Ports{10071, 10100}));
  // Same key again: the same ports, nothing new consumed.
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Container, "/web", assigner),
            (Ports{10071, 10100}));
  // Explicit service ports win.
  app.port_mappings = {{80, 10500}};
  EXPECT_EQ(resolveServicePorts(app, NetworkMode::Container, "/web", assigner), Ports{10500});
}

TEST(ServicePortAssignerTest, TrialPortMatchesMarathonLb) {
  ServicePortAssigner assigner;
  EXPECT_EQ(assigner.trialPort("/web", 80, 0), 10071);
  EXPECT_EQ(assigner.trialPort("/web", 80, 1), 10056);
  EXPECT_EQ(assigner.trialPort("/web", 80, 2), 10094);
  EXPECT_EQ(assigner.trialPort("/web", 443, 0), 10100);
  EXPECT_EQ(assigner.trialPort("/a", 80, 0), 10065);
}

TEST(ServicePortAssignerTest, ClashTakesNextAttempt) {
  ServicePortAssigner assigner;
  // "/app5-80-0" and "/app10-80-0" both hash to 10099; "/app10-80-1" to 10078.
  EXPECT_EQ(assigner.assign("/app5", 80), 10099);
  EXPECT_EQ(assigner.assign("/app10", 80), 10078);
}

TEST(ServicePortAssignerTest, ExhaustedRangeGivesZero) {
  ServicePortAssigner assigner(20000, 20001);
  std::set<uint16_t> got{assigner.assign("/a", 1), assigner.assign("/b", 1)};
  EXPECT_EQ(got, (std::set<uint16_t>{20000, 20001}));
  EXPECT_EQ(assigner.assign("/c", 1), 0);
  EXPECT_NE(assigner.assign("/a", 1), 0);  // already assigned keys keep their port
}

TEST(EndpointsTest, HostMode) {
  AppNetwork app;
  app.has_port_definitions = true;
  app.port_definitions = {10001, 10002};
  TaskNetwork task{"agent1", {31001, 31002}, std::nullopt};
  auto endpoints = resolveEndpoints(app, NetworkMode::Host, task, 2);
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].host, "agent1");
  EXPECT_EQ(ports(endpoints), (Ports{31001, 31002}));
  task.ports.clear();  // no task ports: the portDefinitions ports
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Host, task, 2)), (Ports{10001, 10002}));
  task.host = "";  // no host: nothing
  EXPECT_TRUE(resolveEndpoints(app, NetworkMode::Host, task, 2).empty());
}

// The parser marks dotted-quad hosts so translate can skip the resolver; anything else (an
// agent name, IPv6, an invalid quad) is left to the resolver.
TEST(EndpointsTest, NumericIpv4HostsAreMarked) {
  AppNetwork app;
  for (const auto& [host, ipv4] : std::vector<std::pair<std::string, bool>>{{"10.0.6.25", true},
                                                                            {"0.0.0.0", true},
                                                                            {"agent1", false},
                                                                            {"fd00::5", false},
                                                                            {"10.0.6.256", false},
                                                                            {"10.0.06.25", false},
                                                                            {"10.0.6", false}}) {
    TaskNetwork task{host, {31001, 31002}, std::nullopt};
    const auto endpoints = resolveEndpoints(app, NetworkMode::Host, task, 2);
    ASSERT_EQ(endpoints.size(), 2u) << host;
    EXPECT_EQ(endpoints[0].ipv4, ipv4) << host;
    EXPECT_EQ(endpoints[1].ipv4, ipv4) << host;
  }
  // Derived from the host, so not part of equality (an Endpoint built by hand compares equal).
  EXPECT_EQ((Endpoint{"10.0.6.25", 1, true}), (Endpoint{"10.0.6.25", 1, false}));
}

TEST(EndpointsTest, ZipShorterWins) {
  AppNetwork app;
  TaskNetwork task{"agent1", {31001}, std::nullopt};
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Host, task, 3)), Ports{31001});
  task.ports = {31001, 31002, 31003};
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Host, task, 2)), (Ports{31001, 31002}));
  EXPECT_TRUE(resolveEndpoints(app, NetworkMode::Host, task, 0).empty());
}

TEST(EndpointsTest, BridgeModeUsesAgentNotBridgeIp) {
  AppNetwork app;
  app.port_mappings = {{80, 10001}};
  TaskNetwork task{"10.0.2.148", {1565}, "172.17.0.2"};
  auto endpoints = resolveEndpoints(app, NetworkMode::Bridge, task, 1);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].host, "10.0.2.148");
  EXPECT_EQ(endpoints[0].port, 1565);
  task.ports.clear();  // fallbacks: the container ports, after portDefinitions
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Bridge, task, 1)), Ports{80});
  app.port_definitions = {10009};
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Bridge, task, 1)), Ports{10009});
}

TEST(EndpointsTest, ContainerMode) {
  AppNetwork app;
  app.port_mappings = {{8080, 10001}, {8081, 10002}};
  TaskNetwork task{"agent1", {31001}, "9.0.0.1"};
  auto endpoints = resolveEndpoints(app, NetworkMode::Container, task, 2);
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].host, "9.0.0.1");  // the task's IP, never the agent
  EXPECT_EQ(ports(endpoints), (Ports{8080, 8081}));
  app.discovery_ports = {9000};  // ipAddress.discovery ports first
  EXPECT_EQ(ports(resolveEndpoints(app, NetworkMode::Container, task, 2)), Ports{9000});
  task.first_ip.reset();  // no IP yet: no endpoints
  EXPECT_TRUE(resolveEndpoints(app, NetworkMode::Container, task, 2).empty());
  task.first_ip = "";
  EXPECT_TRUE(resolveEndpoints(app, NetworkMode::Container, task, 2).empty());
}

}  // namespace
}  // namespace baton::discovery
