#include "discovery/model/fast_drain.h"

#include <vector>

namespace baton::discovery {

namespace {

bool drainsAny(const conf::ClusterSpec& cluster, const std::unordered_set<std::string>& task_ids) {
  for (const conf::HostSpec& host : cluster.hosts) {
    if (!host.draining && !host.task_id.empty() && task_ids.contains(host.task_id)) return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<const conf::DiscoveredSpec> withTasksDraining(
    const conf::DiscoveredSpec& spec, const std::unordered_set<std::string>& task_ids) {
  if (task_ids.empty()) return nullptr;
  std::vector<size_t> changed;
  for (size_t i = 0; i < spec.clusters.size(); ++i) {
    if (drainsAny(spec.clusters[i], task_ids)) changed.push_back(i);
  }
  if (changed.empty()) return nullptr;
  auto out = std::make_shared<conf::DiscoveredSpec>(spec);
  for (const size_t i : changed) {
    for (conf::HostSpec& host : out->clusters[i].hosts.mut()) {
      if (!host.task_id.empty() && task_ids.contains(host.task_id)) host.draining = true;
    }
  }
  return out;
}

}  // namespace baton::discovery
