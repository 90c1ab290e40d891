// parseApps(): the marathon.md §1.5 example field by field, every network mode through JSON,
// and the document-level validation (all or nothing, errors naming the path).
#include "discovery/model/parse_apps.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "tests/unit/discovery/model/apps_document.h"

namespace baton::discovery {
namespace {

// marathon.md §1.5, verbatim.
constexpr std::string_view kExample = R"json(
{
  "apps": [
    {
      "id": "/pywebserver",
      "cmd": "echo \"host $HOST and port $PORT\" > index.html && python -m http.server 80",
      "instances": 1, "cpus": 0.1, "mem": 128, "disk": 0,
      "container": {
        "type": "DOCKER",
        "docker": { "image": "python:3", "forcePullImage": false, "privileged": false, "parameters": [] },
        "volumes": [],
        "portMappings": [
          { "containerPort": 80, "hostPort": 0, "servicePort": 10101,
            "protocol": "tcp", "name": "test", "labels": {} }
        ]
      },
      "networks": [ { "mode": "container/bridge" } ],
      "labels": { "HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "myvhost.com" },
      "requirePorts": false,
      "upgradeStrategy": { "minimumHealthCapacity": 1, "maximumOverCapacity": 1 },
      "version": "2017-07-19T17:34:41.967Z",
      "versionInfo": { "lastScalingAt": "2017-07-19T17:34:41.967Z",
                       "lastConfigChangeAt": "2017-07-19T17:34:41.967Z" },
      "tasksStaged": 0, "tasksRunning": 1, "tasksHealthy": 0, "tasksUnhealthy": 0,
      "deployments": [],
      "tasks": [
        {
          "id": "pywebserver.8cad6a69-6ca8-11e7-beb2-0e2beceebfcc",
          "appId": "/pywebserver",
          "host": "10.0.2.148",
          "slaveId": "db7b40e2-791c-445f-b373-183e2a648a86-S1",
          "ipAddresses": [ { "ipAddress": "172.17.0.2", "protocol": "IPv4" } ],
          "ports": [ 1565 ],
          "stagedAt": "2017-07-19T17:34:43.039Z",
          "startedAt": "2017-07-19T17:35:15.654Z",
          "state": "TASK_RUNNING",
          "version": "2017-07-19T17:34:41.967Z"
        }
      ]
    },
    {
      "id": "/shop/web",
      "cmd": "nginx -g 'daemon off;'",
      "instances": 2, "cpus": 0.1, "mem": 32, "disk": 0,
      "networks": [ { "mode": "host" } ],
      "portDefinitions": [ { "port": 10300, "protocol": "tcp", "name": "http", "labels": {} } ],
      "requirePorts": false,
      "healthChecks": [
        { "protocol": "HTTP", "path": "/health", "portIndex": 0,
          "gracePeriodSeconds": 15, "intervalSeconds": 3, "timeoutSeconds": 15,
          "maxConsecutiveFailures": 10, "delaySeconds": 15, "ignoreHttp1xx": false }
      ],
      "labels": { "HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "shop.example.com",
                  "HAPROXY_0_PATH": "/", "HAPROXY_0_REDIRECT_TO_HTTPS": "true" },
      "version": "2017-07-14T15:13:34.402Z",
      "versionInfo": { "lastScalingAt": "2017-07-14T15:13:34.402Z",
                       "lastConfigChangeAt": "2017-07-14T15:13:34.402Z" },
      "tasksStaged": 1, "tasksRunning": 1, "tasksHealthy": 1, "tasksUnhealthy": 0,
      "deployments": [ { "id": "9538079c-3898-4e32-aa31-799bf9097f74" } ],
      "tasks": [
        {
          "id": "shop_web.01da9a15-68a7-11e7-a229-e6a514ca0c21",
          "appId": "/shop/web",
          "host": "10.0.6.25",
          "slaveId": "c28a2184-c702-482c-91c8-5af9318434d4-S0",
          "ports": [ 31704 ],
          "stagedAt": "2017-07-14T15:13:35.804Z",
          "startedAt": "2017-07-14T15:13:58.326Z",
          "state": "TASK_RUNNING",
          "version": "2017-07-14T15:13:34.402Z",
          "healthCheckResults": [
            { "alive": true, "consecutiveFailures": 0,
              "firstSuccess": "2017-07-14T15:14:18.395Z", "lastSuccess": "2017-07-14T15:14:18.395Z",
              "lastFailure": null, "lastFailureCause": null,
              "instanceId": "shop_web.marathon-01da9a15-68a7-11e7-a229-e6a514ca0c21" }
          ]
        },
        {
          "id": "shop_web.5dd78972-6771-11e5-94e1-be5b2935a987",
          "appId": "/shop/web",
          "host": "10.0.6.26",
          "slaveId": "c28a2184-c702-482c-91c8-5af9318434d4-S1",
          "ports": [ 31182 ],
          "stagedAt": "2017-07-14T15:20:01.100Z",
          "state": "TASK_STAGING",
          "version": "2017-07-14T15:13:34.402Z"
        }
      ]
    }
  ]
}
)json";

std::vector<App> parseOk(std::string_view json) {
  auto apps = parseApps(json);
  EXPECT_TRUE(apps.has_value()) << (apps ? "" : apps.error().detail);
  return apps ? std::move(*apps) : std::vector<App>{};
}

std::string parseError(std::string_view json) {
  auto apps = parseApps(json);
  EXPECT_FALSE(apps.has_value());
  if (apps) return "";
  EXPECT_EQ(apps.error().code, core::ErrorCode::ConfigInvalid);
  return apps.error().detail;
}

// One app built from its JSON members (the braces and "id" are added).
App parseOneApp(const std::string& members) {
  auto apps = parseOk(R"({"apps":[{"id":"/a",)" + members + "}]}");
  EXPECT_EQ(apps.size(), 1u);
  return apps.empty() ? App{} : apps.front();
}

TEST(ParseAppsTest, ExampleBridgeApp) {
  auto apps = parseOk(kExample);
  ASSERT_EQ(apps.size(), 2u);
  const App& app = apps[0];
  EXPECT_EQ(app.id, "/pywebserver");
  EXPECT_EQ(app.instances, 1u);
  EXPECT_EQ(app.network, NetworkMode::Bridge);
  EXPECT_EQ(app.service_ports, std::vector<uint16_t>{10101});
  EXPECT_EQ(app.labels.size(), 2u);
  EXPECT_EQ(app.labels.at("HAPROXY_GROUP"), "external");
  EXPECT_EQ(app.labels.at("HAPROXY_0_VHOST"), "myvhost.com");
  EXPECT_TRUE(app.health_checks.empty());
  EXPECT_EQ(app.version, "2017-07-19T17:34:41.967Z");
  EXPECT_EQ(app.last_scaling_at, "2017-07-19T17:34:41.967Z");
  EXPECT_EQ(app.last_config_change_at, "2017-07-19T17:34:41.967Z");
  EXPECT_FALSE(app.deploying);
  ASSERT_EQ(app.tasks.size(), 1u);
  const Task& task = app.tasks[0];
  EXPECT_EQ(task.id, "pywebserver.8cad6a69-6ca8-11e7-beb2-0e2beceebfcc");
  EXPECT_EQ(task.app_id, "/pywebserver");
  EXPECT_EQ(task.host, "10.0.2.148");
  EXPECT_EQ(task.state, TaskState::Running);
  EXPECT_TRUE(task.health.empty());
  // The agent and the host port, not the bridge IP 172.17.0.2 and container port 80.
  ASSERT_EQ(task.endpoints.size(), 1u);
  EXPECT_EQ(task.endpoints[0].host, "10.0.2.148");
  EXPECT_EQ(task.endpoints[0].port, 1565);
}

TEST(ParseAppsTest, ExampleHostApp) {
  auto apps = parseOk(kExample);
  ASSERT_EQ(apps.size(), 2u);
  const App& app = apps[1];
  EXPECT_EQ(app.id, "/shop/web");
  EXPECT_EQ(app.instances, 2u);
  EXPECT_EQ(app.network, NetworkMode::Host);
  EXPECT_EQ(app.service_ports, std::vector<uint16_t>{10300});
  EXPECT_EQ(app.labels.size(), 4u);
  EXPECT_EQ(app.labels.at("HAPROXY_0_REDIRECT_TO_HTTPS"), "true");
  ASSERT_EQ(app.health_checks.size(), 1u);
  const HealthCheck& hc = app.health_checks[0];
  EXPECT_EQ(hc.protocol, "HTTP");
  EXPECT_EQ(hc.path, "/health");
  EXPECT_EQ(hc.port_index, 0u);
  EXPECT_FALSE(hc.port.has_value());
  EXPECT_EQ(hc.grace_period_seconds, 15u);
  EXPECT_EQ(hc.interval_seconds, 3u);
  EXPECT_EQ(hc.timeout_seconds, 15u);
  EXPECT_EQ(hc.max_consecutive_failures, 10u);
  EXPECT_EQ(app.version, "2017-07-14T15:13:34.402Z");
  EXPECT_TRUE(app.deploying);
  ASSERT_EQ(app.tasks.size(), 2u);

  const Task& running = app.tasks[0];
  EXPECT_EQ(running.id, "shop_web.01da9a15-68a7-11e7-a229-e6a514ca0c21");
  EXPECT_EQ(running.state, TaskState::Running);
  ASSERT_EQ(running.health.size(), 1u);
  EXPECT_TRUE(running.health[0].alive);
  ASSERT_EQ(running.endpoints.size(), 1u);
  EXPECT_EQ(running.endpoints[0].host, "10.0.6.25");
  EXPECT_EQ(running.endpoints[0].port, 31704);

  const Task& staging = app.tasks[1];
  EXPECT_EQ(staging.state, TaskState::Staging);
  EXPECT_TRUE(staging.health.empty());
  ASSERT_EQ(staging.endpoints.size(), 1u);
  EXPECT_EQ(staging.endpoints[0].host, "10.0.6.26");
  EXPECT_EQ(staging.endpoints[0].port, 31182);
}

TEST(ParseAppsTest, HealthCheckDefaults) {
  App app = parseOneApp(R"("healthChecks":[{}, {"protocol":"TCP","port":8080}])");
  ASSERT_EQ(app.health_checks.size(), 2u);
  const HealthCheck& d = app.health_checks[0];
  EXPECT_EQ(d.protocol, "HTTP");
  EXPECT_EQ(d.path, "/");
  EXPECT_FALSE(d.port_index.has_value());
  EXPECT_FALSE(d.port.has_value());
  EXPECT_EQ(d.interval_seconds, 60u);
  EXPECT_EQ(d.timeout_seconds, 20u);
  EXPECT_EQ(d.max_consecutive_failures, 3u);
  EXPECT_EQ(d.grace_period_seconds, 300u);
  EXPECT_EQ(app.health_checks[1].protocol, "TCP");
  EXPECT_EQ(app.health_checks[1].port, 8080);
}

TEST(ParseAppsTest, EmptyAppListAndMinimalApp) {
  EXPECT_TRUE(parseOk(R"({"apps":[]})").empty());
  auto apps = parseOk(R"({"apps":[{"id":"/x"}]})");
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0].network, NetworkMode::Host);
  EXPECT_TRUE(apps[0].service_ports.empty());
  EXPECT_TRUE(apps[0].tasks.empty());
  EXPECT_FALSE(apps[0].deploying);
}

TEST(ParseAppsTest, NullsAreAbsentAndUnknownFieldsIgnored) {
  App app = parseOneApp(R"(
      "labels": {"A": "1", "B": null}, "instances": null, "container": null,
      "ipAddress": null, "networks": null, "portDefinitions": [{"port": 10000, "name": null}],
      "healthChecks": null, "version": null, "deployments": null, "whatever": {"x": [1, 2]},
      "tasks": [{"id": "a.1", "host": "h", "ports": [31000], "state": null, "startedAt": null,
                 "ipAddresses": null, "healthCheckResults": null, "unknownField": true}])");
  EXPECT_EQ(app.labels.size(), 1u);
  EXPECT_EQ(app.labels.at("A"), "1");
  EXPECT_EQ(app.instances, 0u);
  EXPECT_EQ(app.network, NetworkMode::Host);  // a null ipAddress is no ipAddress
  EXPECT_EQ(app.service_ports, std::vector<uint16_t>{10000});
  ASSERT_EQ(app.tasks.size(), 1u);
  EXPECT_EQ(app.tasks[0].state, TaskState::Unknown);
  ASSERT_EQ(app.tasks[0].endpoints.size(), 1u);
  EXPECT_EQ(app.tasks[0].endpoints[0].port, 31000);
}

TEST(ParseAppsTest, TaskStates) {
  const std::pair<std::string_view, TaskState> cases[] = {
      {"TASK_STAGING", TaskState::Staging},
      {"TASK_STARTING", TaskState::Starting},
      {"TASK_RUNNING", TaskState::Running},
      {"TASK_KILLING", TaskState::Killing},
      {"TASK_FINISHED", TaskState::Finished},
      {"TASK_FAILED", TaskState::Failed},
      {"TASK_KILLED", TaskState::Killed},
      {"TASK_ERROR", TaskState::Error},
      {"TASK_LOST", TaskState::Lost},
      {"TASK_DROPPED", TaskState::Dropped},
      {"TASK_UNREACHABLE", TaskState::Unreachable},
      {"TASK_GONE", TaskState::Gone},
      {"TASK_GONE_BY_OPERATOR", TaskState::GoneByOperator},
      {"TASK_UNKNOWN", TaskState::Unknown},
      {"TASK_SOMETHING_NEW", TaskState::Unknown},
      {"task_running", TaskState::Unknown},
      {"", TaskState::Unknown},
  };
  for (const auto& [name, state] : cases) {
    EXPECT_EQ(taskStateFromName(name), state) << name;
    App app = parseOneApp(R"("tasks":[{"id":"a.1","state":")" + std::string(name) + R"("}])");
    ASSERT_EQ(app.tasks.size(), 1u);
    EXPECT_EQ(app.tasks[0].state, state) << name;
  }
}

TEST(ParseAppsTest, HealthResultsAnyShape) {
  App app = parseOneApp(R"("tasks":[{"id":"a.1","healthCheckResults":[
      {"alive":false,"consecutiveFailures":2},{"alive":true},{"taskId":"x"}]}])");
  ASSERT_EQ(app.tasks[0].health.size(), 3u);
  EXPECT_FALSE(app.tasks[0].health[0].alive);
  EXPECT_TRUE(app.tasks[0].health[1].alive);
  EXPECT_FALSE(app.tasks[0].health[2].alive);  // no `alive`: not alive
}

// ---- network modes through JSON -----------------------------------------------------------

TEST(ParseAppsNetworkTest, LegacyDockerBridge) {
  App app = parseOneApp(R"(
      "container": {"type": "DOCKER", "docker": {"network": "BRIDGE", "portMappings": [
          {"containerPort": 80, "hostPort": 0, "servicePort": 10001},
          {"containerPort": 81, "hostPort": 0, "servicePort": 10002}]}},
      "tasks": [{"id": "a.1", "host": "agent1", "ports": [31001, 31002],
                 "ipAddresses": [{"ipAddress": "172.17.0.5", "protocol": "IPv4"}]}])");
  EXPECT_EQ(app.network, NetworkMode::Bridge);
  EXPECT_EQ(app.service_ports, (std::vector<uint16_t>{10001, 10002}));
  ASSERT_EQ(app.tasks[0].endpoints.size(), 2u);
  EXPECT_EQ(app.tasks[0].endpoints[0].host, "agent1");
  EXPECT_EQ(app.tasks[0].endpoints[0].port, 31001);
  EXPECT_EQ(app.tasks[0].endpoints[1].port, 31002);
}

TEST(ParseAppsNetworkTest, LegacyDockerUserIsContainer) {
  App app = parseOneApp(R"(
      "container": {"type": "DOCKER", "docker": {"network": "USER", "portMappings": [
          {"containerPort": 8080, "servicePort": 10005}]}},
      "tasks": [{"id": "a.1", "host": "agent1", "ports": [],
                 "ipAddresses": [{"ipAddress": "10.200.0.7", "protocol": "IPv4"}]}])");
  EXPECT_EQ(app.network, NetworkMode::Container);
  EXPECT_EQ(app.service_ports, std::vector<uint16_t>{10005});
  ASSERT_EQ(app.tasks[0].endpoints.size(), 1u);
  EXPECT_EQ(app.tasks[0].endpoints[0].host, "10.200.0.7");
  EXPECT_EQ(app.tasks[0].endpoints[0].port, 8080);
}

TEST(ParseAppsNetworkTest, LegacyIpAddressHashesServicePorts) {
  App app = parseOneApp(R"(
      "ipAddress": {"discovery": {"ports": [{"number": 80, "name": "http", "protocol": "tcp"},
                                            {"number": 443}]}, "networkName": "dcos"},
      "portDefinitions": [],
      "tasks": [{"id": "a.1", "host": "agent1",
                 "ipAddresses": [{"ipAddress": "9.0.0.1"}, {"ipAddress": "9.0.0.2"}]},
                {"id": "a.2", "host": "agent2", "ipAddresses": []}])");
  EXPECT_EQ(app.network, NetworkMode::Container);
  ASSERT_EQ(app.service_ports.size(), 2u);
  for (uint16_t port : app.service_ports) {
    EXPECT_GE(port, 10050);
    EXPECT_LE(port, 10100);
  }
  EXPECT_NE(app.service_ports[0], app.service_ports[1]);
  ASSERT_EQ(app.tasks[0].endpoints.size(), 2u);
  EXPECT_EQ(app.tasks[0].endpoints[0].host, "9.0.0.1");
  EXPECT_EQ(app.tasks[0].endpoints[0].port, 80);
  EXPECT_EQ(app.tasks[0].endpoints[1].port, 443);
  EXPECT_TRUE(app.tasks[1].endpoints.empty());  // no IP yet
}

TEST(ParseAppsNetworkTest, NetworksOverrideEverythingLastWins) {
  App app = parseOneApp(R"(
      "ipAddress": {}, "container": {"docker": {"network": "USER"}},
      "networks": [{"mode": "container", "name": "dcos"}, {"mode": "host"}],
      "portDefinitions": [{"port": 10010}],
      "tasks": [{"id": "a.1", "host": "agent1", "ports": [31010]}])");
  EXPECT_EQ(app.network, NetworkMode::Host);
  EXPECT_EQ(app.service_ports, std::vector<uint16_t>{10010});
  ASSERT_EQ(app.tasks[0].endpoints.size(), 1u);
  EXPECT_EQ(app.tasks[0].endpoints[0].port, 31010);

  App named = parseOneApp(R"("networks": [{"mode": "host"}, {"name": "dcos"}],
      "container": {"portMappings": [{"containerPort": 80, "servicePort": 10011}]},
      "tasks": [{"id": "a.1", "host": "agent1", "ipAddresses": [{"ipAddress": "9.1.1.1"}]}])");
  EXPECT_EQ(named.network, NetworkMode::Container);  // an entry without mode = container
  EXPECT_EQ(named.service_ports, std::vector<uint16_t>{10011});
  ASSERT_EQ(named.tasks[0].endpoints.size(), 1u);
  EXPECT_EQ(named.tasks[0].endpoints[0].host, "9.1.1.1");
  EXPECT_EQ(named.tasks[0].endpoints[0].port, 80);
}

TEST(ParseAppsNetworkTest, MissingServicePortsAndShortTaskPorts) {
  App app = parseOneApp(R"("networks": [{"mode": "container/bridge"}],
      "container": {"portMappings": [{"containerPort": 80, "servicePort": 10020},
                                     {"containerPort": 81},
                                     {"containerPort": 82, "servicePort": 10022}]},
      "tasks": [{"id": "a.1", "host": "agent1", "ports": [31000, 31001]}])");
  EXPECT_EQ(app.service_ports, (std::vector<uint16_t>{10020, 0, 10022}));
  // Two task ports for three service ports: the third service port has no endpoint here.
  ASSERT_EQ(app.tasks[0].endpoints.size(), 2u);
  EXPECT_EQ(app.tasks[0].endpoints[1].port, 31001);
}

TEST(ParseAppsNetworkTest, LegacyPortsAndDockerMappingsFirst) {
  App legacy = parseOneApp(R"("ports": [10030, 10031],
      "tasks": [{"id": "a.1", "host": "agent1", "ports": [31000, 31001, 31002]}])");
  EXPECT_EQ(legacy.service_ports, (std::vector<uint16_t>{10030, 10031}));
  EXPECT_EQ(legacy.tasks[0].endpoints.size(), 2u);  // extra task port dropped

  App both = parseOneApp(R"("networks": [{"mode": "container/bridge"}], "container": {
      "docker": {"portMappings": [{"containerPort": 80, "servicePort": 10040}]},
      "portMappings": [{"containerPort": 90, "servicePort": 10041}]})");
  EXPECT_EQ(both.service_ports, std::vector<uint16_t>{10040});
}

TEST(ParseAppsNetworkTest, HashedServicePortsDistinctAcrossApps) {
  // "/app5" and "/app10" hash to the same first trial port (10099): the second app moves on.
  auto apps = parseOk(R"({"apps":[
      {"id":"/app5","ipAddress":{"discovery":{"ports":[{"number":80}]}}},
      {"id":"/app10","ipAddress":{"discovery":{"ports":[{"number":80}]}}}]})");
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].service_ports, std::vector<uint16_t>{10099});
  EXPECT_EQ(apps[1].service_ports, std::vector<uint16_t>{10078});
}

// ---- validation -----------------------------------------------------------------------------

TEST(ParseAppsErrorTest, NotJson) {
  EXPECT_TRUE(parseError("").starts_with("document: not valid JSON")) << parseError("");
  EXPECT_TRUE(parseError("garbage").starts_with("document: not valid JSON"));
  EXPECT_TRUE(parseError("\xff\xfe{}").starts_with("document: not valid JSON"));
  std::string truncated(kExample.substr(0, kExample.size() / 2));
  EXPECT_TRUE(parseError(truncated).starts_with("document: not valid JSON"));
  EXPECT_TRUE(parseError(R"({"apps":[]} trailing)").starts_with("document: not valid JSON"));
}

TEST(ParseAppsErrorTest, EveryTruncationIsRejected) {
  // Cut the example after every byte: never a crash, never a partial result.
  std::string_view doc = kExample;
  while (!doc.empty() && (doc.back() == '\n' || doc.back() == ' ')) doc.remove_suffix(1);
  for (size_t n = 0; n < doc.size(); ++n) {
    auto apps = parseApps(doc.substr(0, n));
    EXPECT_FALSE(apps.has_value()) << "prefix of " << n << " bytes parsed";
  }
  EXPECT_TRUE(parseApps(doc).has_value());
}

TEST(ParseAppsErrorTest, DocumentShape) {
  EXPECT_EQ(parseError("[]"), "document: expected an object");
  EXPECT_EQ(parseError("5"), "document: expected an object");
  EXPECT_EQ(parseError("{}"), "apps: missing");
  EXPECT_EQ(parseError(R"({"apps":null})"), "apps: missing");
  EXPECT_EQ(parseError(R"({"apps":5})"), "apps: expected an array");
  EXPECT_EQ(parseError(R"({"apps":{}})"), "apps: expected an array");
  EXPECT_EQ(parseError(R"({"apps":[5]})"), "apps[0]: expected an object");
}

TEST(ParseAppsErrorTest, AppId) {
  EXPECT_EQ(parseError(R"({"apps":[{"id":"/a"},{"id":"/b"},{"id":"/c"},{"instances":1}]})"),
            "apps[3].id: missing");
  EXPECT_EQ(parseError(R"({"apps":[{"id":null}]})"), "apps[0].id: missing");
  // Fuzzer finding: task ids key the drain sets and the health verdicts.
  EXPECT_EQ(parseError(R"({"apps":[{"id":"/a","tasks":[{"id":""}]}]})"),
            "apps[0].tasks[0].id: empty");
  EXPECT_EQ(parseError(R"({"apps":[{"id":7}]})"), "apps[0].id: expected a string");
  EXPECT_EQ(parseError(R"({"apps":[{"id":"a"}]})"), "apps[0].id: must start with \"/\"");
  EXPECT_EQ(parseError(R"({"apps":[{"id":""}]})"), "apps[0].id: must start with \"/\"");
}

TEST(ParseAppsErrorTest, WrongTypesNameThePath) {
  auto app_error = [](const std::string& members) {
    return parseError(R"({"apps":[{"id":"/ok"},{"id":"/a",)" + members + "}]}");
  };
  EXPECT_EQ(app_error(R"("labels":{"A":"x","B":1})"), "apps[1].labels.B: expected a string");
  EXPECT_EQ(app_error(R"("labels":["A"])"), "apps[1].labels: expected an object");
  EXPECT_EQ(app_error(R"("instances":"2")"),
            "apps[1].instances: expected an integer in 0..4294967295");
  EXPECT_EQ(app_error(R"("instances":-1)"),
            "apps[1].instances: expected an integer in 0..4294967295");
  EXPECT_EQ(app_error(R"("instances":1.5)"),
            "apps[1].instances: expected an integer in 0..4294967295");
  EXPECT_EQ(app_error(R"("portDefinitions":[{"port":70000}])"),
            "apps[1].portDefinitions[0].port: expected an integer in 0..65535");
  EXPECT_EQ(app_error(R"("ports":[1,"2"])"), "apps[1].ports[1]: expected an integer in 0..65535");
  EXPECT_EQ(app_error(R"("container":{"docker":{"network":5}})"),
            "apps[1].container.docker.network: expected a string");
  EXPECT_EQ(app_error(R"("container":{"portMappings":[{"servicePort":"x"}]})"),
            "apps[1].container.portMappings[0].servicePort: expected an integer in 0..65535");
  EXPECT_EQ(app_error(R"("networks":[{"mode":"overlay"}])"),
            "apps[1].networks[0].mode: unknown network mode \"overlay\"");
  EXPECT_EQ(app_error(R"("ipAddress":{"discovery":{"ports":[{"name":"http"}]}})"),
            "apps[1].ipAddress.discovery.ports[0].number: missing");
  EXPECT_EQ(app_error(R"("healthChecks":[{"path":5}])"),
            "apps[1].healthChecks[0].path: expected a string");
  EXPECT_EQ(app_error(R"("versionInfo":{"lastScalingAt":false})"),
            "apps[1].versionInfo.lastScalingAt: expected a string");
  EXPECT_EQ(app_error(R"("deployments":{})"), "apps[1].deployments: expected an array");
  // A task's version and startedAt are not kept, but a wrong type is still refused.
  EXPECT_EQ(app_error(R"("tasks":[{"id":"a.1","version":5}])"),
            "apps[1].tasks[0].version: expected a string");
  EXPECT_EQ(app_error(R"("tasks":[{"id":"a.1","startedAt":[]}])"),
            "apps[1].tasks[0].startedAt: expected a string");
  EXPECT_EQ(app_error(R"("tasks":{})"), "apps[1].tasks: expected an array");
  EXPECT_EQ(app_error(R"("tasks":[{"host":"h"}])"), "apps[1].tasks[0].id: missing");
  EXPECT_EQ(app_error(R"("tasks":[{"id":"t","ports":[-1]}])"),
            "apps[1].tasks[0].ports[0]: expected an integer in 0..65535");
  EXPECT_EQ(app_error(R"("tasks":[{"id":"t","ipAddresses":[{"ipAddress":1}]}])"),
            "apps[1].tasks[0].ipAddresses[0].ipAddress: expected a string");
  EXPECT_EQ(app_error(R"("tasks":[{"id":"t","healthCheckResults":[{"alive":"yes"}]}])"),
            "apps[1].tasks[0].healthCheckResults[0].alive: expected a boolean");
  EXPECT_EQ(app_error(R"("tasks":[{"id":"t","state":1}])"),
            "apps[1].tasks[0].state: expected a string");
}

TEST(ParseAppsErrorTest, LaterErrorRejectsWholeDocument) {
  // The first app is fine; the error in the last task of the last app still rejects everything.
  std::string doc(kExample);
  auto pos = doc.rfind(R"("state": "TASK_STAGING")");
  ASSERT_NE(pos, std::string::npos);
  doc.replace(pos, 23, R"("state": 42)");
  EXPECT_EQ(parseError(doc), "apps[1].tasks[1].state: expected a string");
}

// Prints (never asserts) the parse time of a synthetic 10,000-app / 100,000-task document.
TEST(ParseAppsTest, LargeDocumentTiming) {
  const std::string doc = testing::makeAppsDocument(10000, 10);
  AppsParser parser;
  for (const char* run : {"fresh parser", "reused parser"}) {
    auto start = std::chrono::steady_clock::now();
    auto apps = parser.parse(doc);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(apps.has_value()) << apps.error().detail;
    ASSERT_EQ(apps->size(), 10000u);
    EXPECT_EQ(apps->back().tasks.size(), 10u);
    EXPECT_EQ(apps->back().tasks.back().endpoints.size(), 1u);
    std::printf("parseApps: %.1f MB, 10000 apps, 100000 tasks, %s: %.1f ms\n", doc.size() / 1e6,
                run, std::chrono::duration<double, std::milli>(elapsed).count());
  }
}

TEST(ParseAppsTest, ReusedParserGivesSameResultsAndErrors) {
  AppsParser parser;
  auto big = parser.parse(kExample);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(parser.parse("{\"apps\":").error().detail.substr(0, 24), "document: not valid JSON");
  auto small = parser.parse(R"({"apps":[{"id":"/z"}]})");
  ASSERT_TRUE(small.has_value());
  ASSERT_EQ(small->size(), 1u);
  EXPECT_EQ(small->front().id, "/z");
  auto again = parser.parse(kExample);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->at(1).tasks.at(0).endpoints.at(0).port, 31704);
}

TEST(ParseAppsTest, InPlaceParseMatchesCopyAndLeavesTheBodyUnchanged) {
  AppsParser parser;
  std::string body(kExample);  // no spare capacity reserved: the padding may reallocate
  auto in_place = parser.parseInPlace(body);
  ASSERT_TRUE(in_place.has_value()) << in_place.error().detail;
  EXPECT_EQ(body, kExample);
  auto copied = parser.parse(kExample);
  ASSERT_TRUE(copied.has_value());
  ASSERT_EQ(in_place->size(), copied->size());
  EXPECT_EQ(in_place->at(1).tasks.at(0).id, copied->at(1).tasks.at(0).id);
  EXPECT_EQ(in_place->at(1).tasks.at(0).endpoints.at(0).port, 31704);

  std::string reserved(kExample);
  reserved.reserve(reserved.size() + AppsParser::kPadding);  // what FileSource does
  const char* data = reserved.data();
  ASSERT_TRUE(parser.parseInPlace(reserved).has_value());
  EXPECT_EQ(reserved.data(), data);  // parsed where it was read: no copy
  EXPECT_EQ(reserved, kExample);

  std::string truncated(kExample.substr(0, kExample.size() / 2));
  auto bad = parser.parseInPlace(truncated);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().detail.substr(0, 24), "document: not valid JSON");
  EXPECT_EQ(truncated, kExample.substr(0, kExample.size() / 2));
}

}  // namespace
}  // namespace baton::discovery
