// Cookie stickiness (ClusterSpec::sticky_cookie), HAProxy's `cookie NAME insert indirect
// nocache` as marathon-lb configures it:
//   - a request whose cookie NAME names an Active host goes to that host (the stream asks
//     Cluster::findActiveBySticky; a draining or unknown value falls back to the policy);
//   - `indirect`: the cookie is removed from the Cookie fields sent upstream;
//   - `insert`: when the request did not name the host that served it, the response gets
//     `Set-Cookie: NAME=<host's value>; path=/`;
//   - `nocache`: such a response also gets `Cache-Control: private` when it had no
//     Cache-Control, so no shared cache stores one client's cookie.
// Pure functions over header lists, called by the stream on its worker thread.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http1/message.h"

namespace baton::proxy {

// The value of the first cookie `name` in the Cookie fields ("a=1; NAME=v; b=2" -> "v"); empty
// when absent. Names compare exactly (cookie names are case-sensitive).
std::string_view findCookie(const http1::HeaderList& headers, std::string_view name);

// Removes every `name=...` pair from the Cookie fields; a field left with no pair is dropped.
// Other pairs keep their order and bytes, re-joined with "; ".
void removeCookie(http1::HeaderList& headers, std::string_view name);

// Adds Set-Cookie (and Cache-Control: private when `response` has no Cache-Control).
void addStickyCookie(http1::HeaderList& response, std::string_view name, std::string_view value);

}  // namespace baton::proxy
