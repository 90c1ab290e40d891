#include "proxy/effective_config.h"

#include <algorithm>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

namespace baton::proxy {

namespace {

struct BindAddress {
  std::string host;  // "" = all addresses
  std::string port;
};

BindAddress splitAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return {address, ""};
  std::string host = address.substr(0, colon);
  if (host == "0.0.0.0" || host == "[::]" || host == "*") host.clear();
  return {host, address.substr(colon + 1)};
}

// Two listeners on one port clash when their addresses overlap: SO_REUSEPORT would otherwise
// let the kernel share connections between them. Port 0 never clashes (the kernel picks).
bool clash(const BindAddress& a, const BindAddress& b) {
  if (a.port != b.port || a.port == "0") return false;
  return a.host.empty() || b.host.empty() || a.host == b.host;
}

conf::DiscoveryIssue issue(const std::string& origin, std::string subject, std::string message) {
  std::string app = origin.starts_with("marathon:") ? origin.substr(9) : origin;
  return conf::DiscoveryIssue{std::move(app), std::move(subject), std::move(message)};
}

void mergeClusters(const conf::ConfigSpec& file, const conf::DiscoveredSpec& found,
                   conf::ConfigSpec& out, std::unordered_set<std::string>& dropped,
                   std::vector<conf::DiscoveryIssue>& issues) {
  // Views of the names in `file` and `found`, which outlive this call: 10,000 discovered names
  // per resync at Marathon scale, hashed but not copied.
  std::unordered_set<std::string_view> names;
  names.reserve(file.clusters.size() + found.clusters.size());
  for (const auto& cluster : file.clusters) names.insert(cluster.name);
  out.clusters.reserve(file.clusters.size() + found.clusters.size());
  for (const auto& cluster : found.clusters) {
    if (!names.insert(cluster.name).second) {
      dropped.insert(cluster.name);
      issues.push_back(issue(cluster.origin, "cluster " + cluster.name,
                             "name already used by a configured cluster; app left out"));
      continue;
    }
    out.clusters.push_back(cluster);
  }
}

void mergeVhosts(const conf::ConfigSpec& file, const conf::DiscoveredSpec& found,
                 const std::unordered_set<std::string>& dropped_clusters, conf::ConfigSpec& out,
                 std::vector<conf::DiscoveryIssue>& issues) {
  // (scope, domain) of the file's vhosts; views of `file` (as below)
  std::set<std::pair<std::string_view, std::string_view>> domains;
  std::unordered_set<std::string_view> names;  // views of `file` and `found` (as above)
  names.reserve(file.vhosts.size() + found.vhosts.size());
  out.vhosts.reserve(file.vhosts.size() + found.vhosts.size());
  for (const auto& vhost : file.vhosts) {
    names.insert(vhost.name);
    for (const auto& domain : vhost.domains) domains.emplace(vhost.scope, domain);
  }
  for (const auto& vhost : found.vhosts) {
    conf::VirtualHostSpec kept = vhost;
    std::erase_if(kept.domains, [&](const std::string& domain) {
      if (!domains.contains({vhost.scope, std::string_view(domain)})) return false;
      issues.push_back(issue("marathon", "vhost " + domain,
                             "domain served by a configured vhost; discovered routes left out"));
      return true;
    });
    // Routes are shared with the discovered spec (copy on write): only a vhost that loses one
    // takes its own copy.
    const auto is_dropped = [&](const conf::RouteSpec& route) {
      return dropped_clusters.contains(route.cluster);
    };
    if (std::ranges::any_of(kept.routes.get(), is_dropped))
      std::erase_if(kept.routes.mut(), is_dropped);
    if (kept.domains.empty() || kept.routes.empty()) continue;
    if (!names.insert(vhost.name).second) {  // `found`'s: `kept` is moved out below
      issues.push_back(issue("marathon", "vhost " + kept.name, "vhost name already in use"));
      continue;
    }
    out.vhosts.push_back(std::move(kept));
  }
}

void mergeListeners(const conf::ConfigSpec& file, std::span<const conf::ListenerSpec> found,
                    const std::unordered_set<std::string>& dropped_clusters, conf::ConfigSpec& out,
                    std::vector<conf::DiscoveryIssue>& issues) {
  std::unordered_set<std::string> names;
  std::unordered_map<std::string, std::vector<BindAddress>> by_port;
  for (const auto& listener : file.listeners) {
    names.insert(listener.name);
    BindAddress bind = splitAddress(listener.address);
    by_port[bind.port].push_back(bind);
  }
  std::unordered_set<std::string> scopes;  // scopes that still have a vhost after merging
  for (const auto& vhost : out.vhosts) scopes.insert(vhost.scope);
  for (const auto& listener : found) {
    if (listener.kind == conf::ListenerKind::Tcp &&
        dropped_clusters.contains(listener.tcp_cluster)) {
      continue;
    }
    if (listener.kind == conf::ListenerKind::Http && !listener.route_scope.empty() &&
        !scopes.contains(listener.route_scope)) {
      continue;  // its only route was left out above
    }
    BindAddress bind = splitAddress(listener.address);
    bool clashes = false;
    for (const auto& other : by_port[bind.port]) clashes = clashes || clash(bind, other);
    if (clashes || !names.insert(listener.name).second) {
      issues.push_back(
          issue(listener.origin, "listener " + listener.name,
                "address " + listener.address + " overlaps another listener; left out"));
      continue;
    }
    by_port[bind.port].push_back(bind);
    out.listeners.push_back(listener);
  }
}

// marathon-lb's :443 frontend (the shared vhosts over TLS), once some certificate exists.
std::vector<conf::ListenerSpec> httpsListener(const conf::ConfigSpec& merged) {
  const conf::MarathonSpec& m = merged.marathon;
  if (m.https_port == 0 || merged.tls.certificates.empty()) return {};
  conf::ListenerSpec l;
  l.name = "marathon_https";
  std::string host = m.bind_address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  l.address = host + ":" + std::to_string(m.https_port);
  l.tls = true;
  l.h2c = false;
  l.origin = "marathon";
  return {std::move(l)};
}

}  // namespace

conf::ConfigSpec mergeDiscovered(const conf::ConfigSpec& file, const conf::DiscoveredSpec& found,
                                 std::vector<conf::DiscoveryIssue>& issues) {
  conf::ConfigSpec out = file;
  std::unordered_set<std::string> dropped_clusters;
  mergeClusters(file, found, out, dropped_clusters, issues);
  mergeVhosts(file, found, dropped_clusters, out, issues);
  // Sized once (+1: marathon_https): grown by doubling, 10,000 service ports left ~4 MB unused.
  out.listeners.reserve(out.listeners.size() + found.listeners.size() + 1);
  mergeListeners(file, found.listeners, dropped_clusters, out, issues);
  // HAPROXY_{n}_SSL_CERT certificates join the configured ones; the file's default stays the
  // default (a label cannot take over clients without SNI).
  out.tls.certificates.insert(out.tls.certificates.end(), found.certificates.begin(),
                              found.certificates.end());
  mergeListeners(file, httpsListener(out), dropped_clusters, out, issues);
  return out;
}

const char* policyName(conf::LbPolicyKind policy) {
  switch (policy) {
    case conf::LbPolicyKind::RoundRobin:
      return "roundrobin";
    case conf::LbPolicyKind::LeastRequest:
      return "leastconn";
    case conf::LbPolicyKind::PowerOfTwo:
      return "power_of_two";
    case conf::LbPolicyKind::SourceHash:
      return "source";
  }
  return "?";
}

namespace {

void describeRoute(const conf::RouteSpec& route, std::string& out) {
  out += "    route " + route.prefix + " -> " + route.cluster;
  if (!route.allowed_sources.empty()) out += " allowed_sources";
  if (route.basic_auth) out += " basic_auth(" + route.basic_auth->realm + ")";
  if (route.redirect_to_https) out += " redirect_to_https";
  if (!route.redirect_root_to.empty()) out += " redirect_root_to=" + route.redirect_root_to;
  if (!route.strip_prefix.empty()) out += " strip_prefix=" + route.strip_prefix;
  if (!route.upstream_host.empty()) out += " upstream_host=" + route.upstream_host;
  if (!route.location_rewrite.empty()) out += " location_rewrite=" + route.location_rewrite;
  if (route.hsts) out += " hsts";
  out += "\n";
}

}  // namespace

std::string describeRouting(const conf::ConfigSpec& config) {
  std::string out;
  out += "# listeners\n";
  for (const auto& l : config.listeners) {
    out += "listener " + l.name + " " + l.address;
    if (l.kind == conf::ListenerKind::Tcp) {
      out += " tcp -> " + l.tcp_cluster;
    } else {
      out += l.tls ? " https" : " http";
      if (l.route_by == conf::RouteBy::AppIdHeader) out += " by X-Marathon-App-Id";
      out += " scope=" + (l.route_scope.empty() ? std::string("shared") : l.route_scope);
    }
    out += " (" + l.origin + ")\n";
  }
  out += "# vhosts\n";
  for (const auto& v : config.vhosts) {
    out += "vhost " + v.name + " scope=" + (v.scope.empty() ? std::string("shared") : v.scope);
    for (const auto& domain : v.domains) out += " " + domain;
    out += "\n";
    for (const auto& route : v.routes) describeRoute(route, out);
  }
  out += "# clusters\n";
  for (const auto& c : config.clusters) {
    out += "cluster " + c.name + " " + policyName(c.policy);
    if (!c.sticky_cookie.empty()) out += " sticky_cookie=" + c.sticky_cookie;
    out += " (" + c.origin + ")\n";
    for (const auto& h : c.hosts) {
      out += "    server " + (h.name.empty() ? h.address : h.name) + " " + h.address + " weight " +
             std::to_string(h.weight);
      if (h.draining) out += " draining";
      if (!h.task_id.empty()) out += " task " + h.task_id;
      out += "\n";
    }
  }
  return out;
}

}  // namespace baton::proxy
