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
//
// Three or more apps in one group (zdd never makes them, but an operator can: a stuck deploy
// plus a manual one, a hand-made app with the group label): every app is merged. The apps are
// put in *version order* (below); the rule above runs on the two newest ("the pair", argument
// order by app id as with two apps, so ties and the hybrid swap behave as before). Every app
// older than the pair is *superseded*: all its tasks are drained (sticky like the others) as soon
// as the pair has one healthy task (alive, or any task of an app without health checks), and
// none while it has none, so a superseded build never drains into an outage. Drained tasks still
// serve in-flight requests and asset-pinning retries; they only get no new requests.
// `show groups` (DeploymentGroupInfo) describes the pair: superseded apps are not counted there.
//
// Asset pinning (asset-pinning.md §1): every group gets a PinGroupSpec, even with one app (the
// proxy then knows the running version and sees a cutover the moment a second app appears).
// - Version order, oldest first: HAPROXY_DEPLOYMENT_STARTED_AT (missing sorts oldest, as in the
//   rule above), then versionInfo.lastConfigChangeAt, then app id: a total order, the same on
//   every instance.
// - Version id: BATON_PIN_VERSION (valid [A-Za-z0-9._-]{1,64}; else an issue and the derived id),
//   else routing::pin::derivedVersionId(app id, lastConfigChangeAt). Two apps with the same id
//   (the same build deployed again) are one version: it is listed once, at the older app's place
//   and with the older app's app_id / colour / manifest; the hosts of both carry the id.
// - colour = HAPROXY_DEPLOYMENT_COLOUR, manifest = BATON_PIN_MANIFEST (absolute path, else an
//   issue), mode = BATON_PIN_MODE and cache_cap = BATON_PIN_CACHE_CAP of the newest app.
// - Shared state for several instances (issue 10): each version's started_ms = its app's
//   HAPROXY_DEPLOYMENT_STARTED_AT, else lastConfigChangeAt, on Marathon's clock (the base of every
//   pinning deadline); cdn_version = BATON_PIN_CDN_VERSION and cdn_max_fresh_ms =
//   BATON_PIN_CDN_MAX_FRESH of the newest app (a cdn_version naming no version of the group is an
//   issue, and kept: it applies once such a version appears).
// - The merged app's tasks keep the id of the app they came from in Task::app_id (overwritten
//   with it, so a document without "appId" still maps every task to its version).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/model/app.h"

namespace baton::discovery {

// Asset pinning of one merged app (one deployment group).
struct GroupPin {
  conf::PinGroupSpec spec;                          // the same for each service port's cluster
  std::map<std::string, std::string> app_versions;  // original app id -> version id
  // Problems with the BATON_PIN_* labels, named by the original app ids. translate() reports
  // them only for groups this instance serves (like every other label issue).
  std::vector<conf::DiscoveryIssue> issues;
};

struct DeploymentMerge {
  std::vector<App> merged;         // one per deployment group, id "/<group>", by group name
  std::vector<const App*> others;  // the apps outside groups (not copied), in input order
  std::unordered_set<std::string> drained;  // task ids to mark draining this round
  // One per merged app, same order (by group name): the cutover as `show groups` reports it.
  // A group with one colour has old_app "" and old counts 0; old_drained counts the old tasks
  // in `drained` (sticky ones included); new_healthy is the rule's healthy_new.
  std::vector<conf::DeploymentGroupInfo> groups;
  std::vector<GroupPin> pins;  // one per merged app, same order
};

// `apps` must be sorted by id (determinism) and outlive the result (`others` points into it).
// `sticky` (may be null) is read and updated: ids of tasks no longer in `apps` are pruned, newly
// drained ids added. The merged app carries the new app's labels, health checks and service ports
// (port 0 = HAPROXY_0_PORT when set), and the tasks of every app of the group (version order).
DeploymentMerge mergeDeploymentGroups(const std::vector<const App*>& apps,
                                      std::unordered_set<std::string>* sticky,
                                      std::vector<conf::DiscoveryIssue>& issues);

// N of the rule above for one old/new pair (exposed for tests).
uint32_t deploymentDrainCount(const App& old_app, const App& new_app);

}  // namespace baton::discovery
