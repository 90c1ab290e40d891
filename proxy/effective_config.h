// The effective configuration: the file's ConfigSpec plus what discovery contributes, merged
// into one spec that buildSnapshot() and the listener plan consume exactly like a reload.
//
// The file always wins a collision (a configured cluster, vhost domain or listener port): the
// discovered item is left out and reported as a DiscoveryIssue, so a Marathon app can never
// take over or break a configured route. Called on the control thread.
#pragma once

#include <string>
#include <vector>

#include "conf/config_spec.h"

namespace baton::proxy {

// `issues` receives one entry per discovered item left out.
conf::ConfigSpec mergeDiscovered(const conf::ConfigSpec& file, const conf::DiscoveredSpec& found,
                                 std::vector<conf::DiscoveryIssue>& issues);

// Human-readable routing table (listeners, vhosts and routes, clusters and hosts) for
// /_haproxy_getconfig and `show config`.
std::string describeRouting(const conf::ConfigSpec& config);

// HAProxy's word for a policy ("roundrobin", "leastconn", "source"; "power_of_two").
const char* policyName(conf::LbPolicyKind policy);

}  // namespace baton::proxy
