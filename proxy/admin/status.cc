#include "proxy/admin/status.h"

namespace baton::proxy::admin {

std::string_view adminStateName(upstream::AdminState state) {
  switch (state) {
    case upstream::AdminState::Active:
      return "ready";
    case upstream::AdminState::Draining:
      return "drain";
    case upstream::AdminState::Maintenance:
      return "maint";
  }
  return "ready";
}

std::optional<upstream::AdminState> parseAdminState(std::string_view word) {
  if (word == "ready") return upstream::AdminState::Active;
  if (word == "drain") return upstream::AdminState::Draining;
  if (word == "maint") return upstream::AdminState::Maintenance;
  return std::nullopt;
}

const ClusterStatus* findCluster(const EdgeStatus& status, std::string_view cluster) {
  for (const auto& c : status.clusters) {
    if (c.name == cluster) return &c;
  }
  return nullptr;
}

const HostStatus* findHost(const ClusterStatus& cluster, std::string_view host) {
  for (const auto& h : cluster.hosts) {
    if (h.name == host || h.address == host) return &h;
  }
  return nullptr;
}

}  // namespace baton::proxy::admin
