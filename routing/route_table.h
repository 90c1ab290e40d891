// The immutable route table: virtual hosts, then path prefixes, first match wins.
//
// Built on the control thread from conf::VirtualHostSpec (create() validates and refuses a
// route that can never match because an earlier one shadows it); published to workers inside
// a snapshot and read concurrently without locks (every method is const).
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

namespace baton::routing {

// One resolved route. Indices are stable for the life of the table.
struct Route {
  std::string vhost_name;
  std::string prefix;  // normalised (normalizeRoutePrefix)
  std::string cluster_name;
  uint32_t cluster_index = 0;  // index into the cluster list the table was built against
  uint64_t body_limit = 0;     // 0 = unlimited
  std::optional<conf::RawByteMode> raw_bytes;  // unset: use the listener's
  bool merge_slashes = true;
};

class RouteTable {
 public:
  // `cluster_names` gives each cluster's index; a route naming an unknown cluster is an
  // error naming file:line. `default_body_limit` applies where a route sets none.
  static core::Result<std::shared_ptr<const RouteTable>> create(
      const std::vector<conf::VirtualHostSpec>& vhosts,
      const std::vector<std::string>& cluster_names, uint64_t default_body_limit);

  // nullptr when nothing matches (-> NoRoute / 404). `host` may carry a port and any case.
  const Route* match(std::string_view host, std::string_view route_key) const;

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
