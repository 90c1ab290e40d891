// Finding the other baton instances (README "Several instances"): baton runs as a Marathon app
// (one task per public agent, marathon-lb style), so the instances are the running tasks of
// baton's own app id. Pure functions shared by the peer monitor (control thread) and
// `batonctl --all` (no event loop): parsing Marathon's answer, choosing each task's admin port,
// parsing a peer's GET /instance answer.
//
// Which port of a baton task is its admin HTTP listener, first match wins:
//   1. an explicit port (`batonctl --admin-port`): every instance listens on it;
//   2. the port named "admin" in the app's portDefinitions (host networking) or
//      container.portMappings / container.docker.portMappings: task.ports[that index];
//   3. the app label BATON_ADMIN_PORT_INDEX=<n>: task.ports[n];
//   4. 9090, marathon-lb's fixed admin port (`--admin :9090` with host networking).
// The host is the task's `host` (the agent). Only TASK_RUNNING tasks (or tasks without a state)
// are instances; a task without the chosen port index is skipped (counted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/core/error.h"

namespace baton::proxy::peers {

inline constexpr uint16_t kDefaultAdminPort = 9090;
inline constexpr std::string_view kAdminPortName = "admin";
inline constexpr std::string_view kAdminPortIndexLabel = "BATON_ADMIN_PORT_INDEX";

struct PeerEndpoint {
  std::string task_id;
  std::string host;
  uint16_t port = 0;
  std::string address() const;  // "host:port" ("[v6]:port" for an IPv6 literal)
  bool operator==(const PeerEndpoint&) const = default;
};

struct PeerList {
  std::vector<PeerEndpoint> peers;  // sorted by task id
  size_t skipped = 0;               // running tasks without a usable host or admin port
};

// The Marathon path listing one app with its tasks: "/v2/apps/baton?embed=app.tasks" (leading
// and trailing '/' of the id trimmed, as marathon-lb does with its own id).
std::string selfAppPath(std::string_view app_id);

// `body` = GET <marathon>/v2/apps/<id>?embed=app.tasks ({"app": {...}}). `fixed_port` != 0 is
// rule 1 above. A document that is not an app: an error naming what is wrong.
core::Result<PeerList> peersFromApp(std::string_view body, uint16_t fixed_port);

// A peer's GET /instance answer (proxy/admin/render.h renderInstanceJson).
core::Result<admin::InstanceFacts> parseInstanceFacts(std::string_view body);

}  // namespace baton::proxy::peers
