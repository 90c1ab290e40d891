// The lenient request-target policy of url-policy.md, shared by the HTTP/1 request line and
// HTTP/2 :path. Pure functions; no allocation beyond the returned strings; callable from any
// thread.
//
// Two steps, because the route is only known after the first:
//   1. parseRequestTarget()  — classify every byte, cut the fragment, split off the query,
//      resolve dot segments, and build the routing key. Runs before routing.
//   2. renderForwardTarget() — produce the exact bytes to put on the upstream request line,
//      honouring the route's raw-byte mode and slash merging. Runs after routing.
// What was routed is what is forwarded: both steps use the same resolved segments.
#pragma once

#include <string>
#include <string_view>

#include "conf/config_spec.h"
#include "proxy/core/error.h"

namespace baton::routing {

enum class TargetForm : uint8_t { Origin, Absolute, Asterisk };

struct ParsedTarget {
  TargetForm form = TargetForm::Origin;
  // Absolute-form only: the authority ("host[:port]"), which wins over the Host header.
  std::string authority;
  // Path after fragment cut and dot-segment resolution, slashes kept as sent (so "keep"
  // mode can forward them), raw bytes and %HH exactly as sent. Starts with '/'.
  std::string path;
  // Query including the leading '?', or empty. Bytes as sent (raw bytes allowed).
  std::string query;
  // Canonical key for route matching: `path` with repeated slashes merged, every byte >= 0x80
  // written as %HH (upper-case hex), %HH of unreserved ASCII decoded, other %HH upper-cased,
  // %2F %5C %00 %25 %3F %23 and >= %80 never decoded. Query not included.
  std::string route_key;
  bool has_raw_high_bytes = false;  // any byte >= 0x80 in path or query
};

// Step 1. Errors: BadRequestTarget (forbidden byte, bad form: "abc", authority-form),
// PathAboveRoot (dot segments climb above "/"). `method_is_options` allows "*".
core::Result<ParsedTarget> parseRequestTarget(std::string_view raw, bool method_is_options);

struct ForwardOptions {
  conf::RawByteMode raw_bytes = conf::RawByteMode::Forward;
  bool merge_slashes = true;
};

// Step 2. Returns path+query for the upstream request line ("*" for asterisk-form).
// Errors: BadRequestTarget when raw_bytes == Reject and the target has raw high bytes.
core::Result<std::string> renderForwardTarget(const ParsedTarget& target,
                                              const ForwardOptions& options);

// Normalises a configured route prefix (from config or labels) with the same rules as
// route_key, so "/电影" in config matches raw and percent-encoded requests alike.
// Errors: BadRequestTarget / PathAboveRoot with a detail naming the problem.
core::Result<std::string> normalizeRoutePrefix(std::string_view prefix);

}  // namespace baton::routing
