// Typed Marathon apps and tasks: what parse_apps.h produces from `GET /v2/apps?embed=apps.tasks`
// (or the same JSON from a file) and what translate.h turns into clusters, routes and listeners.
//
// Only the fields a load balancer uses are kept (marathon.md §1.2-1.4). Network resolution
// (marathon.md §1.3) is done once at parse time, so translation never looks at network modes:
// every app carries its resolved service ports and every task its backend endpoints, paired
// with the service ports by position.
//
// Pure values; built and used on the control thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy/core/inline_vector.h"

namespace baton::discovery {

enum class NetworkMode : uint8_t { Host, Bridge, Container };  // container = IP-per-task

enum class TaskState : uint8_t {
  Staging,
  Starting,
  Running,
  Killing,
  Finished,
  Failed,
  Killed,
  Error,
  Lost,
  Dropped,
  Unreachable,
  Gone,
  GoneByOperator,
  Unknown,
};

// operator== everywhere: tests compare the apps a reused parse gives with a fresh parse's.
struct HealthCheckResult {
  bool alive = false;
  bool operator==(const HealthCheckResult&) const = default;
};

struct HealthCheck {
  std::string protocol = "HTTP";  // HTTP, HTTPS, TCP, COMMAND, MESOS_TCP, MESOS_HTTP, MESOS_HTTPS
  std::string path = "/";
  std::optional<uint32_t> port_index;
  std::optional<uint16_t> port;  // explicit port: applies to every service port (marathon-lb)
  uint32_t interval_seconds = 60;
  uint32_t timeout_seconds = 20;
  uint32_t max_consecutive_failures = 3;
  uint32_t grace_period_seconds = 300;
  bool operator==(const HealthCheck&) const = default;
};

// Where one service port of one task is reachable.
struct Endpoint {
  std::string host;  // task.host (agent) in host/bridge mode, task IP in container mode
  uint16_t port = 0;
  // `host` is a dotted-quad IPv4 address, as checked by the parser (on its threads): translate
  // then needs no resolver call and no second check for nearly every task. false = not known
  // (an agent name, IPv6, or an Endpoint built by hand): the resolver decides. Derived from
  // `host`, so equality ignores it.
  bool ipv4 = false;
  bool operator==(const Endpoint& o) const { return host == o.host && port == o.port; }
};

// Inline: nearly every task has one service port and at most two health checks (see
// core/inline_vector.h).
using HealthResults = core::InlineVector<HealthCheckResult, 2>;
using Endpoints = core::InlineVector<Endpoint, 1>;

struct Task {
  std::string id;
  std::string app_id;
  std::string host;  // agent hostname or IP ("" = unknown: the task is not routable)
  TaskState state = TaskState::Unknown;
  // Not kept: the task's `version` and `startedAt` (type-checked, then dropped). Nothing
  // downstream reads them, and with 100,000 tasks they were 13 MB of resident strings.
  // Empty when Marathon reported no results (before the first check, after leader failover).
  HealthResults health;
  // Resolved at parse time, one per App::service_ports entry (shorter when the task has fewer
  // ports: the extra service ports have no endpoint for this task). Empty in container mode
  // until the task has an IP address.
  Endpoints endpoints;
  bool operator==(const Task&) const = default;
};

struct App {
  std::string id;  // "/shop/web"
  std::map<std::string, std::string> labels;
  uint32_t instances = 0;
  NetworkMode network = NetworkMode::Host;
  // Resolved service ports, in port index order ({n} of HAPROXY_{n}_*). 0 = none assigned.
  std::vector<uint16_t> service_ports;
  std::vector<HealthCheck> health_checks;
  std::string version;
  std::string last_scaling_at;        // versionInfo.lastScalingAt
  std::string last_config_change_at;  // versionInfo.lastConfigChangeAt
  bool deploying = false;             // deployments[] non-empty
  std::vector<Task> tasks;
  bool operator==(const App&) const = default;
};

}  // namespace baton::discovery
