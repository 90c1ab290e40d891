// Which baton instances lag the others (README "Several instances"). Pure; the peer monitor
// calls it whenever its view is read.
//
// Instances cannot compare generations (each counts its own publishes: health flips, operator
// changes) nor Marathon documents (Marathon's bytes change with every health-check timestamp).
// They compare the digest of the routing state each applied from Marathon (state_digest.h) and
// when it last changed there. The freshest instance is the reachable one whose state changed
// last; an instance whose digest differs from the freshest's has missed that change. It lags
// once the change is older than `threshold`: a short difference is convergence in progress
// (every instance applies a change some milliseconds apart), a long one is an instance whose
// Marathon stream or resync is stuck. Unreachable instances never lag (they are "unreachable").
// The change's age is the freshest instance's own clock against the observer's (NTP-close at an
// edge; a skew of a few hundred ms only moves when "lagging" shows, against a threshold of
// seconds).
#pragma once

#include <cstdint>
#include <vector>

#include "proxy/admin/status.h"

namespace baton::proxy::peers {

void markLagging(std::vector<admin::InstanceStatus>& peers, int64_t now_unix_ms,
                 int64_t threshold_ms);

}  // namespace baton::proxy::peers
