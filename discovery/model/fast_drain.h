// The fast path's drain, applied to a spec already translated: the hosts of the given Marathon
// tasks marked draining, nothing else changed.
//
// Called by the discovery manager on the control thread when Marathon reports a task ending
// (TASK_KILLING, an unhealthy kill), so the drain is published at once rather than after the
// resync thread's next translate, which runs at low priority and may wait seconds for a core on a
// saturated machine. Pure.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include "conf/config_spec.h"

namespace baton::discovery {

// `spec` with every host whose task_id is in `task_ids` draining; null when no host changes (none
// of them listed, or all draining already). A host other tasks share (HostSpec::shared_address)
// is left as it is: it drains when all of them do, which the next translate decides. Unchanged
// clusters keep their shared host lists.
std::shared_ptr<const conf::DiscoveredSpec> withTasksDraining(
    const conf::DiscoveredSpec& spec, const std::unordered_set<std::string>& task_ids);

}  // namespace baton::discovery
