// Builds the admin model (proxy/admin/status.h) from what the control thread holds (the
// effective snapshot, the operator overrides, the bound listeners) and the counters every worker
// sent back. Pure: no I/O; the server adds the process facts and Marathon's status.
//
// Threading: control thread (called from Server::status's gather callback).
#pragma once

#include <string>
#include <vector>

#include "proxy/admin/status.h"
#include "proxy/admin_overrides.h"
#include "proxy/snapshot.h"
#include "proxy/worker_stats.h"

namespace baton::proxy {

struct BoundListener {
  const conf::ListenerSpec* spec;
  std::string bound;  // "ip:port" actually bound
};

// Fills listeners, routes, clusters (with hosts) and errors of `out`; leaves the rest alone.
void fillEdgeStatus(const ProxySnapshot& snapshot, const AdminOverrides& overrides,
                    const std::vector<BoundListener>& listeners,
                    const std::vector<WorkerReport>& reports, admin::EdgeStatus& out);

// Each pinned cluster of `snapshot` under its deployment group in `groups` (a configured group
// with no Marathon entry gets one). Control thread; reads the groups' runtime counters.
void addPinStatus(const ProxySnapshot& snapshot, std::vector<admin::DeploymentGroupStatus>& groups);

}  // namespace baton::proxy
