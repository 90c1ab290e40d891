// The credentials baton sends to Marathon, in one place for every client of its API: the
// discovery source (discovery/marathon_source.cc), the peer monitor (proxy/peers) and
// `batonctl all` (main/). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "conf/config_spec.h"

namespace baton::conf {

// The Authorization header's value for `marathon`, or "" for none: the token when set
// (`token=<t>` as DC/OS expects, or `Bearer <t>` with auth_scheme = "bearer"), else HTTP Basic
// when a user name or password is set.
std::string marathonAuthorization(const MarathonSpec& marathon);

// RFC 4648 base64 with padding (HTTP Basic credentials).
std::string base64(std::string_view in);

}  // namespace baton::conf
