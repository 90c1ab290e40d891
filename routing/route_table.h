// The immutable route table: virtual hosts, then path prefixes, first match wins.
//
// Built on the control thread from conf::VirtualHostSpec (create() validates and refuses a
// route that can never match because an earlier one shadows it); published to workers inside
// a snapshot and read concurrently without locks (every method is const).
//
// Scopes: every vhost belongs to one scope (VirtualHostSpec::scope; "" = the shared vhosts). A
// listener serves exactly one scope and never falls back to another, so a domain may appear
// once per scope. Vhost domains that start with '/' are Marathon app ids, looked up only by
// matchAppId() (the X-Marathon-App-Id listener), exactly as written.
//
// Virtual-host lookup, in order: exact domain; the longest matching wildcard ("*.example.com"
// matches "a.example.com" and "a.b.example.com", never "example.com"); the default vhost
// ("*"). The host is ASCII-lower-cased, its port and one trailing dot removed, before lookup.
// Path lookup: the vhost's routes in the order written; a prefix matches on segment boundaries
// of ParsedTarget::route_key ("/api" matches "/api", "/api/", "/api/x", "/api?x"; not "/apix").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "routing/cidr_set.h"
#include "routing/pinning.h"

namespace baton::routing {

// What a route does besides forwarding, compiled from conf::RouteSpec's actions. The stream
// applies them in this order (marathon-lb's labels; see conf/config_spec.h).
struct RouteActions {
  CidrSet allowed_sources;                        // empty = everyone; else others get 403
  std::optional<conf::BasicAuthSpec> basic_auth;  // 401 unless one user's password matches
  bool redirect_to_https = false;                 // 301 to https:// for plain-text connections
  std::string redirect_root_to;                   // path exactly "/" -> 301 here; "" = off
  std::string strip_prefix;                       // normalised; "" = off
  size_t strip_segments = 0;                      // prefixSegments(strip_prefix)
  std::string upstream_host;                      // Host sent upstream; "" = the client's
  std::string location_rewrite;                   // response Location rewrite; "" = off
  bool hsts = false;                              // Strict-Transport-Security on responses
  // Any of the request-side actions above is set: the stream skips them all otherwise.
  bool any_request_action = false;
};

// The empty set of actions, shared by every route without any. Any thread.
const std::shared_ptr<const RouteActions>& noRouteActions();

// One resolved route. Indices are stable for the life of the table.
struct Route {
  std::string vhost_name;
  std::string prefix;  // normalised (normalizeRoutePrefix)
  std::string cluster_name;
  uint32_t cluster_index = 0;  // index into the cluster list the table was built against
  uint64_t body_limit = 0;     // 0 = unlimited
  std::optional<conf::RawByteMode> raw_bytes;  // unset: use the listener's
  bool merge_slashes = true;
  // Never null. Most routes have none: they share one empty set (noRouteActions()), which keeps
  // 264 bytes off each of a Marathon cluster's tens of thousands of routes.
  std::shared_ptr<const RouteActions> actions = noRouteActions();
  bool websocket = true;  // Upgrade: websocket forwarded, tunnel after 101
  conf::AccessLogMode access_log = conf::AccessLogMode::All;  // which requests are logged
  std::optional<conf::Duration> tunnel_idle;   // unset: the cluster's, else [timeouts]
  conf::TimeoutOverrides timeouts;             // connect, first byte, body idle: over the cluster's
  std::optional<conf::RetryPolicySpec> retry;  // unset: the cluster's
  std::optional<conf::CdnOrigin> cdn_origin;   // asset pinning (the vhost's); unset: listener's
  // Asset pinning: the vhost's classification rules when it overrides [pinning]'s asset
  // patterns (shared by its routes); null: [pinning]'s.
  std::shared_ptr<const pin::ClassifyRules> pin_rules;
};

class RouteTable {
 public:
  // `cluster_names` gives each cluster's index; a route naming an unknown cluster is an
  // error naming file:line. `default_body_limit` applies where a route sets none.
  // `pinning` (may be null: the defaults) is what a vhost's pin_asset_* override is merged into.
  static core::Result<std::shared_ptr<const RouteTable>> create(
      const std::vector<conf::VirtualHostSpec>& vhosts,
      const std::vector<std::string>& cluster_names, uint64_t default_body_limit,
      const conf::PinningSpec* pinning = nullptr);

  // Scope ids: 0 is the shared scope (""); others are stable for the life of the table.
  static constexpr uint32_t kSharedScope = 0;
  // The id of `scope`, or nullopt when no vhost has it (the listener then matches nothing).
  // "" costs no hashing.
  std::optional<uint32_t> findScope(std::string_view scope) const;

  // nullptr when nothing matches (-> NoRoute / 404). `host` may carry a port and any case.
  const Route* match(uint32_t scope, std::string_view host, std::string_view route_key) const;
  // Same, resolving the scope by name first (unknown scope -> nullptr).
  const Route* match(std::string_view scope, std::string_view host,
                     std::string_view route_key) const;
  // The shared scope.
  const Route* match(std::string_view host, std::string_view route_key) const {
    return match(kSharedScope, host, route_key);
  }
  // RouteBy::AppIdHeader: the vhost whose domain is exactly `app_id` ("/shop/web"), then its
  // routes by path. Empty `app_id` (no header) or an unknown one: nullptr.
  const Route* matchAppId(uint32_t scope, std::string_view app_id,
                          std::string_view route_key) const;

  size_t routeCount() const;

  // The route at `index` (0 <= index < routeCount()), in vhost order then route order.
  const Route& route(size_t index) const;

  struct Impl;  // defined in route_table.cc
  explicit RouteTable(std::unique_ptr<Impl> impl);
  ~RouteTable();

 private:
  std::unique_ptr<Impl> impl_;
};

// Lower-cases ASCII, strips ":port" (also for "[v6]:port") and one trailing dot.
std::string canonicalHost(std::string_view host);

// Segment-boundary prefix test on normalised forms: "/api" matches "/api", "/api/", "/api/x"
// and "/api?x", not "/apix"; "/" matches every key. Used by match() and by create()'s
// shadowing check.
bool prefixMatches(std::string_view prefix, std::string_view route_key);

}  // namespace baton::routing
