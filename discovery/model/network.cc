// Network resolution, following marathon-lb's utils.py (get_app_networking_mode,
// get_service_ports, get_app_task_ports, get_task_ip_and_ports) with two deliberate differences:
// a port mapping without a servicePort keeps its index as port 0 instead of being dropped (so
// HAPROXY_{n}_* labels and task ports stay aligned), and host names are resolved later, by the
// host resolver, not here.
#include "discovery/model/network.h"

#include <openssl/sha.h>

#include <algorithm>
#include <span>
#include <string>

#include "conf/value_syntax.h"

namespace baton::discovery {

namespace {

std::vector<uint16_t> containerPorts(const std::vector<PortMapping>& mappings) {
  std::vector<uint16_t> ports;
  ports.reserve(mappings.size());
  for (const PortMapping& m : mappings) ports.push_back(m.container_port);
  return ports;
}

}  // namespace

std::optional<NetworkMode> networkModeFromName(std::string_view name) {
  if (name == "host") return NetworkMode::Host;
  if (name == "container/bridge") return NetworkMode::Bridge;
  if (name == "container") return NetworkMode::Container;
  return std::nullopt;
}

std::optional<NetworkMode> dockerNetworkMode(std::string_view name) {
  if (name == "USER") return NetworkMode::Container;
  if (name == "BRIDGE") return NetworkMode::Bridge;
  return std::nullopt;
}

NetworkMode resolveMode(const AppNetwork& app) {
  NetworkMode mode = NetworkMode::Host;
  if (app.has_ip_address) mode = NetworkMode::Container;
  if (app.docker_network) mode = *app.docker_network;
  if (app.last_networks_mode) mode = *app.last_networks_mode;
  return mode;
}

const std::vector<PortMapping>& effectivePortMappings(const AppNetwork& app) {
  return app.docker_port_mappings.empty() ? app.port_mappings : app.docker_port_mappings;
}

std::vector<uint16_t> containerTaskPorts(const AppNetwork& app) {
  if (!app.discovery_ports.empty()) return app.discovery_ports;
  return containerPorts(effectivePortMappings(app));
}

ServicePortAssigner::ServicePortAssigner(uint16_t min_port, uint16_t max_port)
    : min_port_(min_port), max_port_(std::max(min_port, max_port)) {}

uint16_t ServicePortAssigner::trialPort(std::string_view app_id, uint16_t task_port,
                                        unsigned attempt) const {
  std::string input;
  input.reserve(app_id.size() + 16);
  input.append(app_id).append("-").append(std::to_string(task_port)).append("-");
  input.append(std::to_string(attempt));
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  // int(hexdigest[:8], 16): the first four bytes, big-endian.
  uint32_t value = (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) |
                   (uint32_t{digest[2]} << 8) | uint32_t{digest[3]};
  uint32_t range = uint32_t{max_port_} - min_port_ + 1;
  return static_cast<uint16_t>(min_port_ + value % range);
}

uint16_t ServicePortAssigner::assign(std::string_view app_id, uint16_t task_port) {
  ++calls_;
  std::string key(app_id);
  key.append(":").append(std::to_string(task_port));
  if (auto it = assigned_.find(key); it != assigned_.end()) return it->second;
  size_t range = size_t{max_port_} - min_port_ + 1;
  if (used_.size() >= range) return 0;
  uint16_t port = 0;
  for (unsigned i = 0; i < kMaxClashes && port == 0; ++i) {
    uint16_t trial = trialPort(app_id, task_port, i);
    if (!used_.contains(trial)) port = trial;
  }
  for (uint32_t p = min_port_; p <= max_port_ && port == 0; ++p) {
    if (!used_.contains(static_cast<uint16_t>(p))) port = static_cast<uint16_t>(p);
  }
  used_.insert(port);
  assigned_.emplace(std::move(key), port);
  return port;
}

namespace {

// Host mode's service ports (and the fallback of the others): portDefinitions when the app has
// that field, else the deprecated `ports`.
std::vector<uint16_t> portDefinitionPorts(const AppNetwork& app) {
  return app.has_port_definitions ? app.port_definitions : app.legacy_ports;
}

}  // namespace

std::vector<uint16_t> resolveServicePorts(const AppNetwork& app, NetworkMode mode,
                                          std::string_view app_id, ServicePortAssigner& assigner) {
  if (mode != NetworkMode::Host) {
    const auto& mappings = effectivePortMappings(app);
    bool any = std::ranges::any_of(mappings,
                                   [](const PortMapping& m) { return m.service_port.has_value(); });
    if (any) {
      std::vector<uint16_t> ports;
      ports.reserve(mappings.size());
      for (const PortMapping& m : mappings) ports.push_back(m.service_port.value_or(0));
      return ports;
    }
  }
  std::vector<uint16_t> ports = portDefinitionPorts(app);
  if (ports.empty() && mode == NetworkMode::Container) {
    for (uint16_t task_port : containerTaskPorts(app)) {
      ports.push_back(assigner.assign(app_id, task_port));
    }
  }
  return ports;
}

namespace {

Endpoints zipEndpoints(std::string_view host, std::span<const uint16_t> ports,
                       size_t service_port_count) {
  Endpoints endpoints;
  size_t n = std::min(ports.size(), service_port_count);
  endpoints.reserve(n);
  const bool ipv4 = conf::parseIpv4(host).has_value();
  for (size_t i = 0; i < n; ++i) endpoints.push_back(Endpoint{std::string(host), ports[i], ipv4});
  return endpoints;
}

}  // namespace

Endpoints resolveEndpoints(const AppNetwork& app, NetworkMode mode, const TaskNetwork& task,
                           size_t service_port_count) {
  if (mode == NetworkMode::Container) {
    if (!task.first_ip || task.first_ip->empty()) return {};
    return zipEndpoints(*task.first_ip, containerTaskPorts(app), service_port_count);
  }
  if (task.host.empty()) return {};
  if (!task.ports.empty()) {
    return zipEndpoints(task.host, {task.ports.data(), task.ports.size()}, service_port_count);
  }
  if (mode == NetworkMode::Host || !app.port_definitions.empty()) {
    return zipEndpoints(task.host, app.port_definitions, service_port_count);
  }
  // Bridge, nothing else known: the mapped container ports (marathon-lb's last resort).
  return zipEndpoints(task.host, containerPorts(effectivePortMappings(app)), service_port_count);
}

}  // namespace baton::discovery
