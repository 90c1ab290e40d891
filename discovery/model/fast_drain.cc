#include "discovery/model/fast_drain.h"

#include <vector>

namespace baton::discovery {

namespace {

// A host whose address other tasks share serves them too: whether it drains is translate's call
// (all of them draining), which has every task's state; here only one task's end is known.
bool drainable(const conf::HostSpec& host, const std::unordered_set<std::string>& task_ids) {
  return !host.task_id.empty() && !host.shared_address && task_ids.contains(host.task_id);
}

bool drainsAny(const conf::ClusterSpec& cluster, const std::unordered_set<std::string>& task_ids) {
  for (const conf::HostSpec& host : cluster.hosts) {
    if (!host.draining && drainable(host, task_ids)) return true;
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
      if (drainable(host, task_ids)) host.draining = true;
    }
  }
  return out;
}

}  // namespace baton::discovery
