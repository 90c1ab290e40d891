// Network resolution for Marathon apps (marathon.md §1.3): which network mode an app uses,
// which service ports the load balancer listens on, and where each task's ports are reachable.
//
// parse_apps.cc fills the plain structs below from the JSON (one AppNetwork per app, one
// TaskNetwork per task) and calls these pure functions once per parse, on the control thread.
// The structs hold string_views into the parsed document; nothing here outlives one parse.
// No JSON here, so every rule is unit-tested with small literal structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "discovery/model/app.h"
#include "proxy/core/inline_vector.h"

namespace baton::discovery {

// One entry of container.portMappings / container.docker.portMappings.
struct PortMapping {
  uint16_t container_port = 0;           // absent → 0
  std::optional<uint16_t> service_port;  // absent or null → nullopt
};

// The network-relevant fields of one app, as read from Marathon.
struct AppNetwork {
  bool has_ip_address = false;                    // legacy `ipAddress` object present (non-null)
  std::optional<NetworkMode> docker_network;      // container.docker.network USER/BRIDGE only
  std::optional<NetworkMode> last_networks_mode;  // mode of the LAST networks[] entry
  bool has_port_definitions = false;              // `portDefinitions` present (even if empty)
  std::vector<uint16_t> port_definitions;         // portDefinitions[].port (absent → 0)
  std::vector<uint16_t> legacy_ports;             // deprecated `ports`
  std::vector<PortMapping> docker_port_mappings;  // container.docker.portMappings
  std::vector<PortMapping> port_mappings;         // container.portMappings
  std::vector<uint16_t> discovery_ports;          // ipAddress.discovery.ports[].number
};

// The network-relevant fields of one task.
struct TaskNetwork {
  std::string_view host;  // agent ("" = unknown)
  // Host ports (host and bridge modes). Inline: read for each of 100,000 tasks and dropped at
  // once, it was an allocation and a free per task.
  core::InlineVector<uint16_t, 4> ports;
  std::optional<std::string_view> first_ip;  // ipAddresses[0].ipAddress
};

// "host" / "container/bridge" / "container" (networks[].mode); nullopt for anything else.
std::optional<NetworkMode> networkModeFromName(std::string_view name);

// container.docker.network: "USER" → Container, "BRIDGE" → Bridge; anything else (HOST, NONE)
// leaves the mode to the other rules, as marathon-lb's get_app_networking_mode does.
std::optional<NetworkMode> dockerNetworkMode(std::string_view name);

// ipAddress → Container; then docker.network; then the last networks[] entry; default Host.
NetworkMode resolveMode(const AppNetwork& app);

// The portMappings marathon-lb reads: container.docker.portMappings when non-empty, else
// container.portMappings.
const std::vector<PortMapping>& effectivePortMappings(const AppNetwork& app);

// The backend ports of an app's tasks in container (IP-per-task) mode, which do not depend on
// the task: ipAddress.discovery.ports[].number, else portMappings[].containerPort.
std::vector<uint16_t> containerTaskPorts(const AppNetwork& app);

// marathon-lb's workaround for Marathon ≤1.4 not returning service ports for IP-per-task apps
// (marathon/issues/3636): deterministic ports from a range, derived from SHA-1("appId-port-i").
// One assigner per parse, so two apps never get the same auto-assigned port; the result depends
// only on the document (the order of its apps), never on earlier parses.
class ServicePortAssigner {
 public:
  static constexpr uint16_t kDefaultMin = 10050;  // --min-serv-port-ip-per-task
  static constexpr uint16_t kDefaultMax = 10100;  // --max-serv-port-ip-per-task

  ServicePortAssigner(uint16_t min_port = kDefaultMin, uint16_t max_port = kDefaultMax);

  // Port for (app, task port); the same key always gets the same port within this assigner.
  // 0 once every port of the range is taken (marathon-lb: "Service ports are exhausted").
  uint16_t assign(std::string_view app_id, uint16_t task_port);

  // The hash trial alone: min + (first 32 bits of SHA-1("<app>-<port>-<attempt>") % range).
  uint16_t trialPort(std::string_view app_id, uint16_t task_port, unsigned attempt) const;

  // How many times assign() was called: an app whose parse called it depends on the apps before
  // it, so the parser never reuses it from an earlier document (parse_apps.h).
  uint64_t calls() const { return calls_; }

 private:
  static constexpr unsigned kMaxClashes = 50;  // marathon-lb's MAX_CLASHES
  uint16_t min_port_;
  uint16_t max_port_;
  std::unordered_map<std::string, uint16_t> assigned_;  // "<app-id>:<task port>" → port
  std::unordered_set<uint16_t> used_;
  uint64_t calls_ = 0;
};

// Service ports in port-index order. Host: portDefinitions[].port, else `ports`. Bridge and
// Container: portMappings[].servicePort (a mapping without one → 0) when any mapping has one,
// else portDefinitions/`ports` as in host mode; Container with none at all: the assigner's
// hash of each containerTaskPorts() entry.
std::vector<uint16_t> resolveServicePorts(const AppNetwork& app, NetworkMode mode,
                                          std::string_view app_id, ServicePortAssigner& assigner);

// Where each service port of one task is reachable, zipped with the service ports by position
// (the shorter list wins). Host: (host, task.ports[i]), fallback portDefinitions. Bridge:
// (host — the agent, never the bridge IP — , task.ports[i]), fallback portDefinitions, then
// portMappings[].containerPort. Container: (ipAddresses[0], containerTaskPorts()), nothing
// while the task has no IP. A task with no host (host/bridge) has no endpoints.
Endpoints resolveEndpoints(const AppNetwork& app, NetworkMode mode, const TaskNetwork& task,
                           size_t service_port_count);

}  // namespace baton::discovery
