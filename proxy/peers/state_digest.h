// The digest of the routing state an instance applied from Marathon: what several baton
// instances compare to see whether they agree (lag.h, README "Several instances").
//
// FNV-1a 64 over the discovered clusters in order, each as its name, policy, sticky cookie and
// hosts (name, address, task id, weight, draining, pin version), as 16 lower-case hex. The same
// Marathon state gives the same digest on every instance (translation is deterministic and
// ordered); instance-local config (listener addresses, timeouts) and local health verdicts are
// not part of it. Stable across builds for the same input; not a security digest.
#pragma once

#include <string>

#include "conf/config_spec.h"

namespace baton::proxy::peers {

std::string marathonStateDigest(const conf::DiscoveredSpec& spec);

}  // namespace baton::proxy::peers
