// TrustedProxies: the configured CIDR list (server.trusted_proxies) of peers whose
// X-Forwarded-For / Forwarded headers baton appends to instead of overwriting. The same range
// matching as a route's allowed_sources, so one implementation: routing::CidrSet.
//
// Built on the control thread from config, then immutable and shared read-only by every worker.
#pragma once

#include "routing/cidr_set.h"

namespace baton::proxy {

using TrustedProxies = routing::CidrSet;

}  // namespace baton::proxy
