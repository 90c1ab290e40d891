#include "proxy/admin/commands.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "proxy/admin/render.h"
#include "proxy/admin/render_parts.h"
#include "proxy/core/text_table.h"

namespace baton::proxy::admin {

namespace {

using Done = std::function<void(std::string)>;
using Args = std::span<const std::string_view>;

constexpr uint32_t kMaxWeight = 256;
constexpr uint64_t kDefaultWaitSeconds = 60;
constexpr uint64_t kMaxWaitSeconds = 24 * 3600;

// ---------------------------------------------------------------------------------------------
// Answers

// Every answer goes through here: lines end with "\n", the answer with one empty line, and no
// empty line comes before that (a client reads until the first empty line), so empty lines of
// the content (config text, a multi-line error) are dropped.
std::string finish(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.append(line).append("\n");
    start = end + 1;
  }
  out += '\n';  // no content at all: the answer is the empty line alone
  return out;
}

std::string errorAnswer(std::string_view word, std::string_view message) {
  return finish(std::string(word) + ": " + std::string(message));
}

std::string resultAnswer(const CommandResult& result) {
  if (result) return finish(*result);
  return errorAnswer(result.error().word, result.error().message);
}

// Text cells come from config and Marathon: bytes that could break the line protocol or a
// terminal become \xNN; spaces too (but in the last column), so columns split on whitespace.
std::string cell(std::string_view text, bool keep_spaces = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (text.empty()) return "-";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte > 0x20 && byte < 0x7f) || (keep_spaces && byte == ' ')) {
      out += c;
    } else {
      out.append("\\x").append(1, kHex[byte >> 4]).append(1, kHex[byte & 0xF]);
    }
  }
  return out;
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  return core::alignedColumns(rows);
}

std::string number(uint64_t n) {
  return std::to_string(n);
}

std::string milliseconds(double seconds) {
  return std::to_string(static_cast<uint64_t>(seconds * 1000.0 + 0.5));
}

std::string utcTime(int64_t unix_ms) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char buf[40];
  const size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &parts);
  char ms[8];
  snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>(unix_ms % 1000 < 0 ? 0 : unix_ms % 1000));
  return std::string(buf, n) + ms;
}

// ---------------------------------------------------------------------------------------------
// Text views of the model

// " (limit N)" when a limit is set.
std::string limitText(uint64_t limit) {
  return limit == 0 ? std::string() : " (limit " + number(limit) + ")";
}

// "connections worker_limit=0 ... requests=0 idle_closed=0 accept_pauses=0".
std::string shedText(const SheddingCounters& shed) {
  std::string out = "connections";
  for (size_t i = 0; i < kShedReasons; ++i) {
    out.append(" ").append(shedReasonName(static_cast<ShedReason>(i)));
    out.append("=").append(number(shed.connections[i]));
  }
  out.append(" requests=").append(number(shed.requests));
  out.append(" idle_closed=").append(number(shed.idle_closed));
  out.append(" accept_pauses=").append(number(shed.accept_pauses));
  return out;
}

std::string infoText(const EdgeStatus& s) {
  size_t hosts = 0;
  for (const auto& c : s.clusters) hosts += c.hosts.size();
  const int64_t uptime_s = std::max<int64_t>(0, (s.now_unix_ms - s.started_unix_ms) / 1000);
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out.append(key).append(": ").append(value).append("\n");
  };
  line("version", cell(s.version));
  line("instance_id", cell(s.instance_id));
  line("task_id", cell(s.task_id));
  line("pid", std::to_string(s.pid));
  line("uptime_s", std::to_string(uptime_s));
  line("workers", number(s.workers));
  line("generation", number(s.generation));
  line("reloads", number(s.reloads));
  line("reload_failures", number(s.reload_failures));
  if (!s.last_reload_error.empty()) line("last_reload_error", cell(s.last_reload_error));
  line("log_level", cell(s.log_level));
  line("connections", number(s.open_connections) + limitText(s.max_connections_total));
  line("buffered_bytes", std::to_string(s.buffered_bytes) + limitText(s.buffer_budget));
  line("overloaded_workers", number(s.shedding.overloaded_workers));
  line("shed", shedText(s.shedding));
  line("listeners", number(s.listeners.size()));
  for (const ListenerStatus& l : s.listeners) {
    line("listener " + cell(l.name), cell(l.address) + " " + cell(l.kind) + " " + cell(l.origin) +
                                         " accepted=" + number(l.accepted) +
                                         " active=" + number(l.active_connections));
  }
  line("routes", number(s.routes.size()));
  line("clusters", number(s.clusters.size()));
  line("hosts", number(hosts));
  const DiscoveryView& d = s.discovery;
  line("marathon", d.enabled ? cell(d.url) : "disabled");
  if (!d.enabled) return out;
  line("marathon_apps", number(d.apps));
  line("marathon_tasks", number(d.tasks));
  line("marathon_sync_age_ms", std::to_string(d.sync_age_ms));
  line("marathon_documents_applied", number(d.documents_applied));
  line("marathon_documents_refused", number(d.documents_refused));
  line("marathon_starved_resyncs", number(d.starved_resyncs));
  if (!d.last_refusal.empty()) line("marathon_last_refusal", cell(d.last_refusal));
  line("marathon_from_state_file", d.from_state_file ? "yes" : "no");
  line("marathon_holding", d.holding ? "yes" : "no");
  line("marathon_issues", number(d.issues.size()));
  line("marathon_state", cell(s.marathon_state));
  line("instances", s.instances.enabled ? number(s.instances.peers.size()) : "off");
  return out;
}

// The baton instances of baton's own Marathon app as this one's peer monitor sees them.
std::string instancesText(const EdgeStatus& s) {
  const InstancesView& v = s.instances;
  if (!v.enabled) return "instances: off (no Marathon, or baton's own app id unknown)\n";
  std::vector<std::vector<std::string>> rows = {{"task", "instance", "address", "self", "state",
                                                 "generation", "marathon_state", "sync_age_ms",
                                                 "lag_ms", "error"}};
  for (const InstanceStatus& p : v.peers) {
    const char* state = !p.reachable ? "unreachable" : (p.lagging ? "lagging" : "ok");
    rows.push_back({cell(p.task_id), cell(p.facts.instance_id), cell(p.address),
                    p.self ? "yes" : "-", state, p.reachable ? number(p.facts.generation) : "-",
                    cell(p.facts.marathon_state),
                    p.reachable ? std::to_string(p.facts.marathon_sync_age_ms) : "-",
                    std::to_string(p.lag_ms), cell(p.error, true)});
  }
  std::string out = table(rows);
  if (!v.error.empty()) out += "error: " + cell(v.error, true) + "\n";
  return out;
}

std::string instancesJson(const EdgeStatus& s) {
  JsonWriter json;
  json.beginObject().key("instances");
  writeInstances(json, s.instances);
  json.endObject();
  return json.take();
}

std::string clustersText(const EdgeStatus& s) {
  std::vector<std::vector<std::string>> rows = {{"cluster", "origin", "policy", "state", "hosts",
                                                 "up", "in_flight", "requests", "4xx", "5xx",
                                                 "no_host", "retries", "p50_ms", "p99_ms"}};
  for (const ClusterStatus& c : s.clusters) {
    const auto up = std::count_if(c.hosts.begin(), c.hosts.end(), hostTakesRequests);
    uint64_t in_flight = 0;
    for (const HostStatus& h : c.hosts) in_flight += h.in_flight;
    rows.push_back({cell(c.name), cell(c.origin), cell(c.policy),
                    std::string(adminStateName(c.admin_state)), number(c.hosts.size()),
                    number(static_cast<uint64_t>(up)), number(in_flight), number(c.traffic.total()),
                    number(c.traffic.requests[3]), number(c.traffic.requests[4]), number(c.no_host),
                    number(c.retries), milliseconds(c.traffic.latency.quantileSeconds(0.5)),
                    milliseconds(c.traffic.latency.quantileSeconds(0.99))});
  }
  return table(rows);
}

// "3x:503", "2x:connect_refused": the current streak and the last probe's result (spaces as
// '_', one column); "-" before any probe.
std::string lastCheck(const HostStatus& h) {
  if (h.health_detail.empty()) return "-";
  std::string detail = h.health_detail;
  std::replace(detail.begin(), detail.end(), ' ', '_');
  return number(h.health_consecutive) + "x:" + cell(detail);
}

// Passive outlier ejection: "yes"/"-", the time left ("1.25s"), the ejections in a row and
// since start ("2/7").
std::string ejectedUntil(const HostStatus& h) {
  if (!h.ejected) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fs", static_cast<double>(h.ejected_remaining_ms) / 1000.0);
  return buf;
}

std::string hostsText(const ClusterStatus& c) {
  std::vector<std::vector<std::string>> rows = {
      {"host", "address", "status", "operator", "weight", "health", "last_check", "ejected",
       "until", "ejections", "in_flight", "pooled", "requests", "5xx", "connect_failures",
       "drain_cut", "p50_ms", "p99_ms", "task"}};
  for (const HostStatus& h : c.hosts) {
    // "3*": an operator set the weight (configured weight in parentheses).
    std::string weight = number(h.weight);
    if (h.weight_overridden) weight += "*(" + number(h.configured_weight) + ")";
    std::string status(hostStatusWord(h));
    if (!h.present) status += "(gone)";
    rows.push_back({cell(h.name), cell(h.address), status,
                    std::string(adminStateName(h.admin_state)), weight, cell(h.health),
                    lastCheck(h), h.ejected ? "yes" : "-", ejectedUntil(h),
                    number(h.ejections) + "/" + number(h.ejections_total), number(h.in_flight),
                    number(h.pooled_idle), number(h.traffic.total()), number(h.traffic.requests[4]),
                    number(h.connect_failures), number(h.drain_cut),
                    milliseconds(h.traffic.latency.quantileSeconds(0.5)),
                    milliseconds(h.traffic.latency.quantileSeconds(0.99)), cell(h.task_id)});
  }
  return table(rows);
}

std::string routesText(const EdgeStatus& s) {
  std::vector<std::vector<std::string>> rows = {
      {"scope", "vhost", "prefix", "cluster", "requests", "4xx", "5xx", "p50_ms", "p99_ms"}};
  for (const RouteStatus& r : s.routes) {
    rows.push_back({cell(r.scope), cell(r.vhost), cell(r.prefix), cell(r.cluster),
                    number(r.traffic.total()), number(r.traffic.requests[3]),
                    number(r.traffic.requests[4]),
                    milliseconds(r.traffic.latency.quantileSeconds(0.5)),
                    milliseconds(r.traffic.latency.quantileSeconds(0.99))});
  }
  return table(rows);
}

std::string groupsText(const EdgeStatus& s) {
  std::vector<std::vector<std::string>> rows = {{"group", "old_app", "new_app", "old_tasks",
                                                 "new_tasks", "old_drained", "new_healthy",
                                                 "target", "cutover"}};
  for (const DeploymentGroupStatus& g : s.groups) {
    rows.push_back({cell(g.group), cell(g.old_app), cell(g.new_app), number(g.old_tasks),
                    number(g.new_tasks), number(g.old_drained), number(g.new_healthy),
                    number(g.target), g.in_cutover ? "yes" : "no"});
  }
  std::string out = table(rows);
  std::vector<std::vector<std::string>> pins = {{"group", "cluster", "mode", "state", "cdn_version",
                                                 "versions", "flips", "retries", "retry_hits",
                                                 "all_miss"}};
  for (const DeploymentGroupStatus& g : s.groups) {
    for (const PinGroupStatus& p : g.pinning) {
      std::string versions;
      for (const PinVersionStatus& v : p.versions) {
        if (!versions.empty()) versions += ",";
        versions += v.id + "(" + std::to_string(v.serving) + "/" + std::to_string(v.hosts) + ")";
      }
      const char* state = p.in_cutover ? (p.flip_held ? "cutover,flip-held" : "cutover")
                          : p.active   ? "grace"
                                       : "idle";
      pins.push_back({cell(p.group), cell(p.cluster), cell(p.mode), state,
                      p.cdn_version.empty() ? "-" : cell(p.cdn_version), cell(versions),
                      number(p.flips), number(p.retries), number(p.retry_hits),
                      number(p.all_miss)});
    }
  }
  if (pins.size() > 1)
    out += "\nasset pinning (versions: id(serving/hosts), oldest first)\n" + table(pins);
  return out;
}

std::string errorsText(const EdgeStatus& s) {
  std::vector<std::vector<std::string>> rows = {
      {"time", "listener", "client", "status", "reason", "excerpt"}};
  for (const RejectedRequest& e : s.errors) {
    rows.push_back({utcTime(e.unix_ms), cell(e.listener), cell(e.client_ip), number(e.status),
                    cell(e.reason), cell(e.excerpt, true)});
  }
  return table(rows);
}

std::string certsText(const EdgeStatus& s) {
  std::vector<std::vector<std::string>> rows = {
      {"file", "names", "not_after", "serving", "default", "ocsp", "origin", "error"}};
  for (const CertificateView& c : s.certificates) {
    std::string names;
    for (const auto& n : c.names) names += (names.empty() ? "" : ",") + n;
    rows.push_back({cell(c.cert_file), cell(names), utcTime(c.not_after_unix * 1000),
                    c.expired ? "expired" : (c.serving ? "yes" : "no"), c.is_default ? "yes" : "no",
                    cell(c.ocsp), cell(c.origin), cell(c.last_error)});
  }
  return table(rows);
}

// ---------------------------------------------------------------------------------------------
// JSON views (one line each)

template <typename Item, typename Write>
std::string jsonList(std::string_view key, const std::vector<Item>& items, Write write) {
  JsonWriter json;
  json.beginObject().key(key).beginArray();
  for (const Item& item : items) write(json, item);
  json.endArray().endObject();
  return json.take();
}

std::string infoJson(const EdgeStatus& s) {
  JsonWriter json;
  json.beginObject();
  writeInfoFields(json, s);
  json.endObject();
  return json.take();
}

std::string hostsJson(const ClusterStatus& c) {
  JsonWriter json;
  json.beginObject()
      .field("cluster", std::string_view(c.name))
      .field("health_panic", c.health_panic)
      .key("hosts")
      .beginArray();
  for (const HostStatus& h : c.hosts) writeHost(json, h);
  json.endArray().endObject();
  return json.take();
}

// The stats rows as objects keyed by the CSV's column names (empty columns left out).
std::string statJson(const EdgeStatus& s) {
  const auto& columns = statCsvColumns();
  JsonWriter json;
  json.beginObject().key("stat").beginArray();
  for (const auto& row : statCsvRows(s)) {
    json.beginObject();
    for (size_t i = 0; i < row.size(); ++i) {
      if (!row[i].empty()) json.field(columns[i], std::string_view(row[i]));
    }
    json.endObject();
  }
  json.endArray().endObject();
  return json.take();
}

// ---------------------------------------------------------------------------------------------
// Commands

struct Command;
using Handler = void (*)(const Command& command, AdminService& service, Args args, Done done);

struct Command {
  std::vector<std::string_view> words;  // the fixed words that select it
  size_t min_args;
  size_t max_args;
  std::string_view synopsis;
  std::string_view description;
  Handler run;
};

std::string usageFor(const Command& chosen);
std::string usage(const Command& command) {
  return usageFor(command);
}

// `show X [json]`: the optional trailing word must be "json".
bool wantsJson(Args args, size_t position, bool* bad) {
  if (args.size() <= position) return false;
  *bad = args[position] != "json";
  return true;
}

// A `show` view: text and JSON renderings of the whole model.
template <std::string (*Text)(const EdgeStatus&), std::string (*Json)(const EdgeStatus&)>
void showView(const Command& command, AdminService& service, Args args, Done done) {
  bool bad = false;
  const bool json = wantsJson(args, 0, &bad);
  if (bad) return done(usage(command));
  service.status([json, done = std::move(done)](EdgeStatus status) {
    done(finish(json ? Json(status) : Text(status)));
  });
}

std::string clustersJson(const EdgeStatus& s) {
  return jsonList("clusters", s.clusters, writeCluster);
}
std::string routesJson(const EdgeStatus& s) {
  return jsonList("routes", s.routes, writeRoute);
}
std::string groupsJson(const EdgeStatus& s) {
  return jsonList("groups", s.groups, writeGroup);
}
std::string errorsJson(const EdgeStatus& s) {
  return jsonList("errors", s.errors, writeRejected);
}
std::string certsJson(const EdgeStatus& s) {
  return jsonList("certificates", s.certificates, writeCertificate);
}

void runHelp(const Command&, AdminService&, Args, Done done) {
  done(finish(helpText()));
}

void runShowHosts(const Command& command, AdminService& service, Args args, Done done) {
  bool bad = false;
  const bool json = wantsJson(args, 1, &bad);
  if (bad) return done(usage(command));
  service.status([json, name = std::string(args[0]), done = std::move(done)](EdgeStatus status) {
    const ClusterStatus* cluster = findCluster(status, name);
    if (cluster == nullptr) return done(errorAnswer("notfound", "no cluster " + cell(name)));
    done(finish(json ? hostsJson(*cluster) : hostsText(*cluster)));
  });
}

void runShowConfig(const Command&, AdminService& service, Args, Done done) {
  done(finish(service.configText()));
}

// "<cluster>/<host>": the cluster is everything before the first '/'.
bool splitHost(std::string_view target, std::string_view* cluster, std::string_view* host) {
  const size_t slash = target.find('/');
  if (slash == std::string_view::npos) return false;
  *cluster = target.substr(0, slash);
  *host = target.substr(slash + 1);
  return !cluster->empty() && !host->empty();
}

// A decimal number of at most 9 digits (no sign, no overflow).
bool parseNumber(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 9) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

std::string invalidState(std::string_view word) {
  return errorAnswer("invalid", "state " + cell(word) + ": expected ready, drain or maint");
}

// set host <cluster>/<host> state <s> | weight <n>
void runSetHost(const Command& command, AdminService& service, Args args, Done done) {
  std::string_view cluster, host;
  if (!splitHost(args[0], &cluster, &host)) return done(usage(command));
  if (args[1] == "state") {
    const auto state = parseAdminState(args[2]);
    if (!state) return done(invalidState(args[2]));
    return done(resultAnswer(service.setHostState(cluster, host, *state)));
  }
  if (args[1] == "weight") {
    uint64_t weight = 0;
    if (!parseNumber(args[2], &weight)) return done(usage(command));
    if (weight < 1 || weight > kMaxWeight) {
      return done(errorAnswer("invalid", "weight " + number(weight) + ": expected 1..256"));
    }
    return done(resultAnswer(service.setHostWeight(cluster, host, static_cast<uint32_t>(weight))));
  }
  done(usage(command));
}

void runSetCluster(const Command& command, AdminService& service, Args args, Done done) {
  if (args[1] != "state") return done(usage(command));
  const auto state = parseAdminState(args[2]);
  if (!state) return done(invalidState(args[2]));
  done(resultAnswer(service.setClusterState(args[0], *state)));
}

// set group <group> cdn-version <id>
void runSetGroup(const Command& command, AdminService& service, Args args, Done done) {
  if (args[1] != "cdn-version") return done(usage(command));
  done(resultAnswer(service.setGroupCdnVersion(args[0], args[2])));
}

void runDrainHost(const Command& command, AdminService& service, Args args, Done done) {
  std::string_view cluster, host;
  if (!splitHost(args[0], &cluster, &host)) return done(usage(command));
  done(resultAnswer(service.setHostState(cluster, host, upstream::AdminState::Draining)));
}

void runDrainCluster(const Command&, AdminService& service, Args args, Done done) {
  done(resultAnswer(service.setClusterState(args[0], upstream::AdminState::Draining)));
}

void runWaitHost(const Command& command, AdminService& service, Args args, Done done) {
  std::string_view cluster, host;
  if (!splitHost(args[0], &cluster, &host)) return done(usage(command));
  uint64_t seconds = kDefaultWaitSeconds;
  if (args.size() > 1 && !parseNumber(args[1], &seconds)) return done(usage(command));
  if (seconds > kMaxWaitSeconds) {
    return done(errorAnswer("invalid", "wait " + number(seconds) + " s: at most 86400"));
  }
  service.waitHostIdle(
      cluster, host, std::chrono::seconds(seconds),
      [done = std::move(done)](CommandResult result) { done(resultAnswer(result)); });
}

void runReload(const Command&, AdminService& service, Args, Done done) {
  done(resultAnswer(service.reload()));
}

void runReloadCerts(const Command&, AdminService& service, Args, Done done) {
  done(resultAnswer(service.reloadCertificates()));
}

void runResync(const Command&, AdminService& service, Args, Done done) {
  service.resync();
  done(finish("resync requested"));
}

// upgrade [<binary>]: answered once the new process serves, or with its error.
void runUpgrade(const Command&, AdminService& service, Args args, Done done) {
  service.upgrade(args.empty() ? std::string_view() : args[0],
                  [done = std::move(done)](CommandResult result) { done(resultAnswer(result)); });
}

void runSetLogLevel(const Command&, AdminService& service, Args args, Done done) {
  done(resultAnswer(service.setLogLevel(args[0])));
}

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {{"help"}, 0, 0, "help", "this list", runHelp},
      {{"show", "info"},
       0,
       1,
       "show info [json]",
       "version, pid, uptime, workers, generation, log level, Marathon",
       showView<infoText, infoJson>},
      {{"show", "stat"},
       0,
       1,
       "show stat [json]",
       "HAProxy stats CSV (pxname,svname,...)",
       showView<renderStatCsv, statJson>},
      {{"show", "clusters"},
       0,
       1,
       "show clusters [json]",
       "clusters, hosts up, traffic",
       showView<clustersText, clustersJson>},
      {{"show", "hosts"},
       1,
       2,
       "show hosts <cluster> [json]",
       "hosts of a cluster: status, weight, in flight, traffic",
       runShowHosts},
      {{"show", "routes"},
       0,
       1,
       "show routes [json]",
       "routes and their traffic",
       showView<routesText, routesJson>},
      {{"show", "groups"},
       0,
       1,
       "show groups [json]",
       "deployment groups (blue/green) and their cutover",
       showView<groupsText, groupsJson>},
      {{"show", "instances"},
       0,
       1,
       "show instances [json]",
       "the baton instances of baton's own Marathon app: generation, Marathon state, lag",
       showView<instancesText, instancesJson>},
      {{"show", "config"}, 0, 0, "show config", "the effective config", runShowConfig},
      {{"show", "errors"},
       0,
       1,
       "show errors [json]",
       "recent rejected requests: time, listener, client, status, reason, excerpt",
       showView<errorsText, errorsJson>},
      {{"show", "certs"},
       0,
       1,
       "show certs [json]",
       "TLS certificates: file, names, expiry, serving, default, OCSP stapling, last load error",
       showView<certsText, certsJson>},
      {{"set", "host"},
       3,
       3,
       "set host <cluster>/<host> state ready|drain|maint",
       "operator state of a host (survives resyncs)",
       runSetHost},
      {{"set", "host"},
       3,
       3,
       "set host <cluster>/<host> weight <1..256>",
       "operator weight of a host (survives resyncs)",
       runSetHost},
      {{"set", "cluster"},
       3,
       3,
       "set cluster <cluster> state ready|drain|maint",
       "operator state of every host of a cluster",
       runSetCluster},
      {{"set", "group"},
       3,
       3,
       "set group <group> cdn-version <id>",
       "asset pinning: the version the CDN gets (until it has no serving host)",
       runSetGroup},
      {{"drain", "host"},
       1,
       1,
       "drain host <cluster>/<host>",
       "= set host ... state drain",
       runDrainHost},
      {{"drain", "cluster"},
       1,
       1,
       "drain cluster <cluster>",
       "= set cluster ... state drain",
       runDrainCluster},
      {{"wait", "host"},
       1,
       2,
       "wait host <cluster>/<host> [<seconds>]",
       "answers when nothing is in flight to the host (default 60 s)",
       runWaitHost},
      // Before `reload`: the first command whose words start the line is the one run.
      {{"reload", "certs"},
       0,
       0,
       "reload certs",
       "re-read every TLS certificate, key, OCSP and ticket key file now (nothing else)",
       runReloadCerts},
      {{"reload"}, 0, 0, "reload", "re-read the config file (all or nothing)", runReload},
      {{"resync"}, 0, 0, "resync", "re-read Marathon now", runResync},
      {{"upgrade"},
       0,
       1,
       "upgrade [<binary>]",
       "run the binary again as a new process taking over the sockets (zero downtime)",
       runUpgrade},
      {{"set", "log-level"},
       1,
       1,
       "set log-level error|warn|info|debug",
       "change the log level",
       runSetLogLevel},
  };
  return kCommands;
}

// Words are separated by spaces, tabs and stray line ends.
std::vector<std::string_view> tokenize(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    const size_t start = line.find_first_not_of(" \t\r\n", i);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t\r\n", start);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    i = end;
  }
  return words;
}

// The command whose fixed words start `words`; the `set host` pair shares one handler, which
// checks the sub-word, so the first of them is enough here.
const Command* match(const std::vector<std::string_view>& words) {
  for (const Command& command : commands()) {
    if (words.size() < command.words.size()) continue;
    if (std::equal(command.words.begin(), command.words.end(), words.begin())) return &command;
  }
  return nullptr;
}

// The synopsis lines of every command selected by the same words (both `set host` forms).
std::string usageFor(const Command& chosen) {
  std::string text;
  for (const Command& command : commands()) {
    if (command.words != chosen.words) continue;
    if (!text.empty()) text += "\nusage: ";
    text += command.synopsis;
  }
  return errorAnswer("usage", text);
}

}  // namespace

std::string_view refusalWord(std::string_view answer) {
  static constexpr std::string_view kWords[] = {"unknown", "usage",  "notfound", "invalid",
                                                "denied",  "failed", "timeout"};
  const size_t colon = answer.find(": ");
  if (colon == std::string_view::npos || colon > answer.find('\n')) return {};
  for (std::string_view word : kWords) {
    if (answer.substr(0, colon) == word) return word;
  }
  return {};
}

std::string helpText() {
  size_t width = 0;
  for (const Command& command : commands()) width = std::max(width, command.synopsis.size());
  std::string out;
  for (const Command& command : commands()) {
    out.append(command.synopsis).append(width - command.synopsis.size() + 2, ' ');
    out.append(command.description).append("\n");
  }
  return out;
}

void executeCommand(AdminService& service, std::string_view line,
                    std::function<void(std::string answer)> done) {
  const std::vector<std::string_view> words = tokenize(line);
  if (words.empty()) return done(errorAnswer("unknown", "empty command (try help)"));
  const Command* command = match(words);
  if (command == nullptr) {
    std::string shown;
    for (size_t i = 0; i < words.size() && i < 2; ++i) {
      if (i > 0) shown += ' ';
      shown += cell(words[i]);
    }
    return done(errorAnswer("unknown", "no command " + shown + " (try help)"));
  }
  const Args args = Args(words).subspan(command->words.size());
  if (args.size() < command->min_args || args.size() > command->max_args) {
    return done(usageFor(*command));
  }
  command->run(*command, service, args, std::move(done));
}

}  // namespace baton::proxy::admin
