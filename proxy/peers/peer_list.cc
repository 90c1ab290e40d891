#include "proxy/peers/peer_list.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>

namespace baton::proxy::peers {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

core::Error bad(std::string what) {
  return core::Error::internal("Marathon app document: " + std::move(what));
}

std::string_view stringOr(const object& o, const char* key, std::string_view fallback = {}) {
  std::string_view value;
  if (o[key].get(value) != simdjson::SUCCESS) return fallback;
  return value;
}

// Index of the port named "admin" in one list of port definitions / mappings.
// Takes the lookup's result (never an element: converting a missing field to one throws).
std::optional<size_t> namedIndex(simdjson::simdjson_result<element> list) {
  array ports;
  if (list.get(ports) != simdjson::SUCCESS) return std::nullopt;
  size_t i = 0;
  for (element port : ports) {
    object o;
    if (port.get(o) == simdjson::SUCCESS && stringOr(o, "name") == kAdminPortName) return i;
    ++i;
  }
  return std::nullopt;
}

std::optional<size_t> labelIndex(const object& app) {
  object labels;
  if (app["labels"].get(labels) != simdjson::SUCCESS) return std::nullopt;
  std::string_view text = stringOr(labels, kAdminPortIndexLabel.data());
  if (text.empty() || text.size() > 3) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

// Rules 2 and 3 of the header; nullopt = rule 4 (the fixed default port).
std::optional<size_t> adminPortIndex(const object& app) {
  if (auto i = namedIndex(app["portDefinitions"])) return i;
  object container;
  if (app["container"].get(container) == simdjson::SUCCESS) {
    if (auto i = namedIndex(container["portMappings"])) return i;
    object docker;
    if (container["docker"].get(docker) == simdjson::SUCCESS) {
      if (auto i = namedIndex(docker["portMappings"])) return i;
    }
  }
  return labelIndex(app);
}

std::optional<uint16_t> taskPort(const object& task, size_t index) {
  array ports;
  if (task["ports"].get(ports) != simdjson::SUCCESS) return std::nullopt;
  size_t i = 0;
  for (element port : ports) {
    if (i++ != index) continue;
    uint64_t value = 0;
    if (port.get(value) != simdjson::SUCCESS || value == 0 || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

}  // namespace

std::string PeerEndpoint::address() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string selfAppPath(std::string_view app_id) {
  while (!app_id.empty() && app_id.front() == '/') app_id.remove_prefix(1);
  while (!app_id.empty() && app_id.back() == '/') app_id.remove_suffix(1);
  return "/v2/apps/" + std::string(app_id) + "?embed=app.tasks";
}

core::Result<PeerList> peersFromApp(std::string_view body, uint16_t fixed_port) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return core::fail(bad("not JSON"));
  }
  object app;
  if (root["app"].get(app) != simdjson::SUCCESS) return core::fail(bad("no \"app\" object"));
  array tasks;
  if (app["tasks"].get(tasks) != simdjson::SUCCESS) {
    return core::fail(bad("no \"tasks\" (ask with embed=app.tasks)"));
  }
  const std::optional<size_t> index = fixed_port != 0 ? std::nullopt : adminPortIndex(app);
  PeerList out;
  for (element t : tasks) {
    object task;
    if (t.get(task) != simdjson::SUCCESS) continue;
    const std::string_view state = stringOr(task, "state", "TASK_RUNNING");
    if (state != "TASK_RUNNING") continue;
    PeerEndpoint peer;
    peer.task_id = std::string(stringOr(task, "id"));
    peer.host = std::string(stringOr(task, "host"));
    if (fixed_port != 0) {
      peer.port = fixed_port;
    } else if (index) {
      peer.port = taskPort(task, *index).value_or(0);
    } else {
      peer.port = kDefaultAdminPort;
    }
    if (peer.task_id.empty() || peer.host.empty() || peer.port == 0) {
      ++out.skipped;
      continue;
    }
    out.peers.push_back(std::move(peer));
  }
  std::sort(out.peers.begin(), out.peers.end(),
            [](const PeerEndpoint& a, const PeerEndpoint& b) { return a.task_id < b.task_id; });
  return out;
}

core::Result<admin::InstanceFacts> parseInstanceFacts(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  object o;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root.get(o) != simdjson::SUCCESS) {
    return core::fail(core::Error::internal("/instance: not a JSON object"));
  }
  admin::InstanceFacts facts;
  facts.instance_id = std::string(stringOr(o, "instance_id"));
  if (facts.instance_id.empty()) {
    return core::fail(core::Error::internal("/instance: no instance_id (not a baton?)"));
  }
  facts.task_id = std::string(stringOr(o, "task_id"));
  facts.version = std::string(stringOr(o, "version"));
  facts.marathon_state = std::string(stringOr(o, "marathon_state"));
  auto number = [&o](const char* key, auto fallback) {
    decltype(fallback) value = fallback;
    if (o[key].get(value) != simdjson::SUCCESS) return fallback;
    return value;
  };
  facts.pid = number("pid", int64_t{0});
  facts.generation = number("generation", uint64_t{0});
  facts.marathon_state_since_unix_ms = number("marathon_state_since_unix_ms", int64_t{0});
  facts.marathon_sync_age_ms = number("marathon_sync_age_ms", int64_t{-1});
  facts.now_unix_ms = number("now_unix_ms", int64_t{0});
  return facts;
}

}  // namespace baton::proxy::peers
