// marathon-lb blue/green deployment groups (marathon.md §3.3, §4.2): the apps that share a
// HAPROXY_DEPLOYMENT_GROUP label are served as one app "/<group>" (clusters "<group>_<port>",
// what zdd.py looks for in the stats CSV), and the oldest old-colour tasks are drained as the
// new colour becomes healthy.
//
// Called by translate() on the control thread, once per resync, with the whole app list.
//
// Rule (marathon_lb.py get_apps): new = later HAPROXY_DEPLOYMENT_STARTED_AT (missing = oldest;
// a tie keeps the first by app id). Hybrid swap: when the new app's
// HAPROXY_DEPLOYMENT_NEW_INSTANCES is > 0 and the old app has the later
// versionInfo.lastScalingAt, the roles swap. (marathon-lb writes `int(label != 0)`, which is
// true for any present label, so a plain zdd deploy whose old app was scaled down last swaps
// too: we implement the intended "> 0".) Old tasks sorted by id, the first N drained with
// N = min(len(old.tasks), healthy_new, max(0, healthy_new + old.instances - target)),
// healthy_new = new tasks with an alive result (new.instances when it has no health checks),
// target = new's HAPROXY_DEPLOYMENT_TARGET_INSTANCES (1 when absent, like marathon-lb).
//
// baton's fix of the "measured flaw" (§4.2): a task drained once stays drained until it is gone
// from the app list (`sticky`, keyed by task id). N counts those still listed, so a resync
// with the same state never drains more than N old tasks.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/model/app.h"

namespace baton::discovery {

struct DeploymentMerge {
  std::vector<App> merged;         // one per deployment group, id "/<group>", by group name
  std::vector<const App*> others;  // the apps outside groups (not copied), in input order
  std::unordered_set<std::string> drained;  // task ids to mark draining this round
  // One per merged app, same order (by group name): the cutover as `show groups` reports it.
  // A group with one colour has old_app "" and old counts 0; old_drained counts the old tasks
  // in `drained` (sticky ones included); new_healthy is the rule's healthy_new.
  std::vector<conf::DeploymentGroupInfo> groups;
};

// `apps` must be sorted by id (determinism) and outlive the result (`others` points into it).
// `sticky` (may be null) is read and updated: ids of tasks no longer in `apps` are pruned, newly
// drained ids added. The merged app carries the new app's labels, health checks and service ports
// (port 0 = HAPROXY_0_PORT when set), and the tasks of both.
DeploymentMerge mergeDeploymentGroups(const std::vector<const App*>& apps,
                                      std::unordered_set<std::string>* sticky,
                                      std::vector<conf::DiscoveryIssue>& issues);

// N of the rule above for one old/new pair (exposed for tests).
uint32_t deploymentDrainCount(const App& old_app, const App& new_app);

}  // namespace baton::discovery
