// Request and response rewrites a route's actions ask for (marathon-lb labels), as pure string
// functions: called by the stream on its worker thread, once per request or response head;
// unit-tested without sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace baton::routing {

// Non-empty segments of a normalised prefix: "/" -> 0, "/app" -> 1, "/a/b" -> 2.
size_t prefixSegments(std::string_view normalised_prefix);

// strip_prefix (PROXYPASS_PATH) on the forwarded target (path + query, bytes as forwarded):
// drops the first `segments` non-empty path segments, the slashes before them included. The
// caller has checked on the route key that the prefix matches on a segment boundary; counting
// segments instead of comparing bytes keeps that decision valid for whatever spelling the
// client used ("/%61pp/x", "//app/x"). "/app/x?q" -> "/x?q", "/app" -> "/", "/app?q" -> "/?q".
std::string stripPathSegments(std::string_view forward_target, size_t segments);

// location_rewrite (REVPROXY_PATH), HAProxy's
//   rspirep "^Location: (https?://{host}(:[0-9]+)?)?(/.*)" "Location: {rootpath}\3-without-/"
// A Location "http(s)://<host>[:port]/<rest>" (scheme and host case-insensitive) or "/<rest>"
// becomes `<replacement><rest>`; any other value (another host, no path) is left alone
// (nullopt). `host` is the request's host without port.
std::optional<std::string> rewriteLocation(std::string_view location, std::string_view host,
                                           std::string_view replacement);

// redirect_to_https: "https://<host without port><path and query as sent>". `raw_target` is
// the request target exactly as received; for absolute-form only its path and query are kept.
std::string httpsLocation(std::string_view host, std::string_view raw_target);

}  // namespace baton::routing
