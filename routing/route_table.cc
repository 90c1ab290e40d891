// RouteTable: built and validated once on the control thread, then only read (lock-free) by
// workers. match() runs on every request: one hash lookup for an exact host, one per label for
// wildcards, and a linear scan of the vhost's few routes; it never allocates for hosts up to
// 255 bytes (the DNS limit).
#include "routing/route_table.h"

#include <functional>
#include <unordered_map>

#include "routing/request_target.h"
#include "routing/rewrite.h"

namespace baton::routing {
namespace {

using core::Error;
using core::fail;
using core::Result;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using IndexByName = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

constexpr size_t kMaxHostBytes = 255;

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// The host without ":port" (also after "[v6]") and without one trailing dot; case unchanged.
std::string_view hostCore(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

std::string where(const conf::SourceLoc& loc) {
  return loc.file + ":" + std::to_string(loc.line);
}

// "file:line: key: message", the shape every config error in baton has.
Error configError(const conf::SourceLoc& loc, std::string_view key, std::string_view message) {
  std::string d = where(loc);
  d.append(": ").append(key).append(": ").append(message);
  return Error::config(std::move(d));
}

bool isDomainByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// A configured domain, canonical like a request host: "", "*", ".suffix" (wildcard) or a name.
Result<std::string> canonicalDomain(std::string_view domain) {
  if (domain.starts_with('/')) {  // a Marathon app id, matched exactly as written
    for (const char c : domain) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return fail(Error::config("invalid app id (control byte or space)"));
      }
    }
    return std::string(domain);
  }
  std::string d = canonicalHost(domain);
  if (d.size() != domain.size() - (domain.ends_with('.') ? 1 : 0)) {
    return fail(Error::config("a domain must not carry a port"));
  }
  if (d == "*") {
    if (domain != "*") return fail(Error::config("the default domain is written \"*\""));
    return d;
  }
  std::string_view name = d;
  const bool wildcard = name.starts_with("*.");
  if (wildcard) name.remove_prefix(2);
  const bool literal_v6 = name.size() > 2 && name.front() == '[' && name.back() == ']';
  bool ok = !name.empty() && !name.starts_with('.');
  for (const char c : literal_v6 ? name.substr(1, name.size() - 2) : name) {
    ok = ok &&
         (literal_v6 ? (c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
                     : isDomainByte(c));
  }
  if (!ok || (wildcard && literal_v6)) {
    return fail(Error::config("invalid domain (expected \"name\", \"*.suffix\" or \"*\")"));
  }
  return wildcard ? d.substr(1) : d;  // wildcards are keyed by ".suffix"
}

}  // namespace

struct RouteTable::Impl {
  struct VirtualHost {
    uint32_t first = 0;  // [first, last) in routes
    uint32_t last = 0;
  };
  // The vhost indexes one listener can reach.
  struct Scope {
    IndexByName exact;
    IndexByName wildcard;  // keyed by ".example.com"
    IndexByName app_ids;   // "/shop/web", exact
    int64_t default_vhost = -1;
  };
  std::vector<Route> routes;
  std::vector<VirtualHost> vhosts;
  std::vector<Scope> scopes = std::vector<Scope>(1);  // [0] = shared
  IndexByName scope_ids;                              // named scopes only

  const VirtualHost* findVirtualHost(const Scope& scope, std::string_view canonical) const;
  const Route* matchPath(const VirtualHost* vh, std::string_view route_key) const;
  uint32_t scopeFor(const std::string& name);
};

uint32_t RouteTable::Impl::scopeFor(const std::string& name) {
  if (name.empty()) return kSharedScope;
  auto [it, inserted] = scope_ids.try_emplace(name, static_cast<uint32_t>(scopes.size()));
  if (inserted) scopes.emplace_back();
  return it->second;
}

namespace {

// Where each domain was first seen, to name both places in a duplicate error.
struct DomainOwner {
  std::string vhost;
  conf::SourceLoc loc;
};

Result<void> addDomains(const conf::VirtualHostSpec& vh, uint32_t index, RouteTable::Impl& impl,
                        std::unordered_map<std::string, DomainOwner>& owners) {
  RouteTable::Impl::Scope& scope = impl.scopes[impl.scopeFor(vh.scope)];
  if (vh.domains.empty()) {
    return fail(configError(vh.loc, "domains", "vhost \"" + vh.name + "\" has no domains"));
  }
  for (const std::string& domain : vh.domains) {
    auto key = canonicalDomain(domain);
    if (!key) {
      return fail(configError(vh.loc, "domains", "\"" + domain + "\": " + key.error().detail));
    }
    // Unique within a scope only: different scopes are served by different listeners.
    std::string owner_key = vh.scope + '\0' + *key;
    auto [it, inserted] = owners.try_emplace(std::move(owner_key), DomainOwner{vh.name, vh.loc});
    if (!inserted) {
      return fail(configError(vh.loc, "domains",
                              "duplicate domain \"" + domain + "\" in vhost \"" + vh.name +
                                  "\"; already in vhost \"" + it->second.vhost + "\" (" +
                                  where(it->second.loc) + ")"));
    }
    if (*key == "*") {
      scope.default_vhost = index;
    } else if (key->front() == '/') {
      scope.app_ids.emplace(std::move(*key), index);
    } else if (key->front() == '.') {
      scope.wildcard.emplace(std::move(*key), index);
    } else {
      scope.exact.emplace(std::move(*key), index);
    }
  }
  return {};
}

}  // namespace

const std::shared_ptr<const RouteActions>& noRouteActions() {
  static const auto none = std::make_shared<const RouteActions>();
  return none;
}

namespace {

// Error messages name the route ("route 2 in vhost \"shop\""); built only on the error path,
// since a discovered table has tens of thousands of routes.
std::string routeLabel(const conf::VirtualHostSpec& vh, size_t n) {
  return "route " + std::to_string(n + 1) + " in vhost \"" + vh.name + "\"";
}

Result<RouteActions> buildActions(const conf::VirtualHostSpec& vh, const conf::RouteSpec& spec,
                                  size_t n) {
  RouteActions a;
  auto sources = CidrSet::create(spec.allowed_sources);
  if (!sources) {
    return fail(configError(spec.loc, "allowed_sources",
                            routeLabel(vh, n) + ": " + sources.error().detail));
  }
  a.allowed_sources = std::move(*sources);
  a.basic_auth = spec.basic_auth;
  a.redirect_to_https = spec.redirect_to_https;
  a.redirect_root_to = spec.redirect_root_to;
  if (!spec.strip_prefix.empty()) {
    auto strip = normalizeRoutePrefix(spec.strip_prefix);
    if (!strip) {
      return fail(configError(
          spec.loc, "strip_prefix",
          routeLabel(vh, n) + ": \"" + spec.strip_prefix + "\": " + strip.error().detail));
    }
    a.strip_segments = prefixSegments(*strip);
    if (a.strip_segments > 0) a.strip_prefix = std::move(*strip);  // "/" strips nothing
  }
  a.upstream_host = spec.upstream_host;
  a.location_rewrite = spec.location_rewrite;
  a.hsts = spec.hsts;
  a.any_request_action = !a.allowed_sources.empty() || a.basic_auth.has_value() ||
                         a.redirect_to_https || !a.redirect_root_to.empty() ||
                         !a.strip_prefix.empty() || !a.upstream_host.empty();
  return a;
}

Result<Route> buildRoute(const conf::VirtualHostSpec& vh, const conf::RouteSpec& spec, size_t n,
                         const IndexByName& clusters, uint64_t default_body_limit) {
  auto prefix = normalizeRoutePrefix(spec.prefix);
  if (!prefix) {
    return fail(
        configError(spec.loc, "prefix",
                    routeLabel(vh, n) + ": \"" + spec.prefix + "\": " + prefix.error().detail));
  }
  const auto cluster = clusters.find(spec.cluster);
  if (cluster == clusters.end()) {
    return fail(configError(spec.loc, "cluster",
                            routeLabel(vh, n) + ": unknown cluster \"" + spec.cluster + "\""));
  }
  Route route;
  route.vhost_name = vh.name;
  route.prefix = std::move(*prefix);
  route.cluster_name = spec.cluster;
  route.cluster_index = cluster->second;
  route.body_limit = spec.body_bytes.value_or(default_body_limit);
  route.raw_bytes = spec.raw_bytes;
  route.merge_slashes = spec.merge_slashes;
  route.websocket = spec.websocket;
  route.access_log = spec.access_log;
  route.tunnel_idle = spec.tunnel_idle;
  route.timeouts = spec.timeouts;
  route.retry = spec.retry;
  route.cdn_origin = vh.cdn_origin;
  auto actions = buildActions(vh, spec, n);
  if (!actions) return fail(std::move(actions.error()));
  if (actions->any_request_action || !actions->location_rewrite.empty() || actions->hsts) {
    route.actions = std::make_shared<const RouteActions>(std::move(*actions));
  }
  return route;
}

// [pinning]'s classification with the vhost's own asset patterns, or null when it has none.
std::shared_ptr<const pin::ClassifyRules> vhostPinRules(const conf::VirtualHostSpec& vh,
                                                        const conf::PinningSpec* pinning) {
  if (!vh.pin_asset_suffixes && !vh.pin_asset_prefixes) return nullptr;
  conf::PinningSpec spec = pinning != nullptr ? *pinning : conf::PinningSpec{};
  if (vh.pin_asset_suffixes) spec.asset_suffixes = *vh.pin_asset_suffixes;
  if (vh.pin_asset_prefixes) spec.asset_prefixes = *vh.pin_asset_prefixes;
  return std::make_shared<const pin::ClassifyRules>(pin::ClassifyRules::from(spec));
}

// First match wins, so a route behind an earlier segment-prefix of its own prefix is dead
// configuration: refuse it rather than let an operator believe it is in effect.
Result<void> checkShadowing(const conf::VirtualHostSpec& vh, const std::vector<Route>& routes,
                            uint32_t first) {
  for (size_t j = first; j < routes.size(); ++j) {
    for (size_t i = first; i < j; ++i) {
      if (!prefixMatches(routes[i].prefix, routes[j].prefix)) continue;
      const auto& later = vh.routes[j - first].loc;
      const auto& earlier = vh.routes[i - first].loc;
      return fail(configError(later, "prefix",
                              "route " + std::to_string(j - first + 1) + " in vhost \"" + vh.name +
                                  "\" (" + where(later) + ") can never match: shadowed by route " +
                                  std::to_string(i - first + 1) + " (" + where(earlier) + ")"));
    }
  }
  return {};
}

}  // namespace

bool prefixMatches(std::string_view prefix, std::string_view route_key) {
  if (prefix.size() == 1) return true;  // "/" matches everything, "*" (OPTIONS) included
  if (!route_key.starts_with(prefix)) return false;
  if (route_key.size() == prefix.size()) return true;
  const char next = route_key[prefix.size()];
  return next == '/' || next == '?';
}

const RouteTable::Impl::VirtualHost* RouteTable::Impl::findVirtualHost(
    const Scope& scope, std::string_view canonical) const {
  const IndexByName& exact = scope.exact;
  const IndexByName& wildcard = scope.wildcard;
  const int64_t default_vhost = scope.default_vhost;
  if (auto it = exact.find(canonical); it != exact.end()) return &vhosts[it->second];
  // Leftmost dot first = longest suffix first; pos > 0 so "*.a.com" never matches "a.com".
  for (size_t pos = canonical.find('.', 1); pos != std::string_view::npos;
       pos = canonical.find('.', pos + 1)) {
    if (auto it = wildcard.find(canonical.substr(pos)); it != wildcard.end()) {
      return &vhosts[it->second];
    }
  }
  return default_vhost >= 0 ? &vhosts[static_cast<size_t>(default_vhost)] : nullptr;
}

core::Result<std::shared_ptr<const RouteTable>> RouteTable::create(
    const std::vector<conf::VirtualHostSpec>& vhosts, const std::vector<std::string>& cluster_names,
    uint64_t default_body_limit, const conf::PinningSpec* pinning) {
  IndexByName clusters;
  clusters.reserve(cluster_names.size());
  for (size_t i = 0; i < cluster_names.size(); ++i) {
    clusters.emplace(cluster_names[i], static_cast<uint32_t>(i));
  }
  auto impl = std::make_unique<Impl>();
  impl->vhosts.reserve(vhosts.size());
  size_t route_count = 0;
  for (const conf::VirtualHostSpec& vh : vhosts) route_count += vh.routes.size();
  impl->routes.reserve(route_count);
  std::unordered_map<std::string, DomainOwner> owners;
  owners.reserve(vhosts.size());
  for (const conf::VirtualHostSpec& vh : vhosts) {
    const auto index = static_cast<uint32_t>(impl->vhosts.size());
    if (auto r = addDomains(vh, index, *impl, owners); !r) return fail(std::move(r.error()));
    const auto first = static_cast<uint32_t>(impl->routes.size());
    const auto pin_rules = vhostPinRules(vh, pinning);
    for (size_t n = 0; n < vh.routes.size(); ++n) {
      auto route = buildRoute(vh, vh.routes[n], n, clusters, default_body_limit);
      if (!route) return fail(std::move(route.error()));
      route->pin_rules = pin_rules;
      impl->routes.push_back(std::move(*route));
    }
    if (auto r = checkShadowing(vh, impl->routes, first); !r) return fail(std::move(r.error()));
    impl->vhosts.push_back({first, static_cast<uint32_t>(impl->routes.size())});
  }
  // One scope per service-port listener, grown by doubling: 10,000 ports left ~1.4 MB unused.
  impl->scopes.shrink_to_fit();
  return std::make_shared<const RouteTable>(std::move(impl));
}

RouteTable::RouteTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RouteTable::~RouteTable() = default;

const Route* RouteTable::Impl::matchPath(const VirtualHost* vh, std::string_view route_key) const {
  if (vh == nullptr) return nullptr;
  for (uint32_t i = vh->first; i < vh->last; ++i) {
    const Route& route = routes[i];
    if (prefixMatches(route.prefix, route_key)) return &route;
  }
  return nullptr;
}

std::optional<uint32_t> RouteTable::findScope(std::string_view scope) const {
  if (scope.empty()) return kSharedScope;
  const auto it = impl_->scope_ids.find(scope);
  if (it == impl_->scope_ids.end()) return std::nullopt;
  return it->second;
}

const Route* RouteTable::match(uint32_t scope_id, std::string_view host,
                               std::string_view route_key) const {
  if (scope_id >= impl_->scopes.size()) return nullptr;
  const Impl::Scope& scope = impl_->scopes[scope_id];
  const std::string_view bare = hostCore(host);
  const Impl::VirtualHost* vh = nullptr;
  if (bare.size() <= kMaxHostBytes) {
    char buf[kMaxHostBytes];
    for (size_t i = 0; i < bare.size(); ++i) buf[i] = lowerAscii(bare[i]);
    vh = impl_->findVirtualHost(scope, std::string_view(buf, bare.size()));
  } else {
    vh = impl_->findVirtualHost(scope, canonicalHost(host));
  }
  return impl_->matchPath(vh, route_key);
}

const Route* RouteTable::match(std::string_view scope, std::string_view host,
                               std::string_view route_key) const {
  const std::optional<uint32_t> id = findScope(scope);
  return id ? match(*id, host, route_key) : nullptr;
}

const Route* RouteTable::matchAppId(uint32_t scope_id, std::string_view app_id,
                                    std::string_view route_key) const {
  if (scope_id >= impl_->scopes.size() || app_id.empty()) return nullptr;
  const IndexByName& ids = impl_->scopes[scope_id].app_ids;
  const auto it = ids.find(app_id);
  if (it == ids.end()) return nullptr;
  return impl_->matchPath(&impl_->vhosts[it->second], route_key);
}

size_t RouteTable::routeCount() const {
  return impl_->routes.size();
}

const Route& RouteTable::route(size_t index) const {
  return impl_->routes[index];
}

std::string canonicalHost(std::string_view host) {
  std::string out(hostCore(host));
  for (char& c : out) c = lowerAscii(c);
  return out;
}

}  // namespace baton::routing
