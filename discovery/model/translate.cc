#include "discovery/model/translate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <unordered_set>
#include <utility>

#include "conf/value_syntax.h"
#include "discovery/model/auto_domain.h"
#include "discovery/model/deployment_group.h"
#include "discovery/model/labels.h"
#include "proxy/core/two_threads.h"
#include "routing/request_target.h"
#include "routing/route_table.h"

namespace baton::discovery {

// Defined in labels.cc (see there: labels.h is outside this change).

namespace {

using conf::DiscoveryIssue;
using conf::ListenerKind;

constexpr size_t kMaxVhostName = 64;

constexpr const char* kAppIdScope = "app_id";

// One selected (app, service port index): everything later steps need.
struct PortPlan {
  const App* app = nullptr;
  size_t index = 0;
  uint16_t listen_port = 0;  // HAPROXY_{n}_PORT or the service port; 0 = no per-port listener
  ListenerKind mode = ListenerKind::Http;
  const PortLabels* labels = nullptr;  // in Translator::labels_ (or the cache), never null
  std::string cluster;
};

// One candidate route of a shared vhost, before ordering and shadow removal.
struct Candidate {
  int64_t weight = 0;
  std::string prefix;      // as written
  std::string normalized;  // routing::normalizeRoutePrefix form
  const PortPlan* plan = nullptr;
};

std::string label(size_t index, std::string_view key) {
  return "HAPROXY_" + std::to_string(index) + "_" + std::string(key);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// Vhost names are [A-Za-z0-9_.-]{1,64}: other bytes become '_', long names keep a hash of
// the raw text so two long domains never share a name.
std::string safeName(std::string_view raw) {
  std::string out;
  for (const char c : raw) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.size() <= kMaxVhostName) return out;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(raw)));
  return out.substr(0, kMaxVhostName - 17) + "-" + hash;
}

// Built with one allocation: every task's address and server name go through here on every
// resync where its app changed (100,000 of each when every app is redeployed).
bool isAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Builds a short string in a stack buffer and copies it out once: names and addresses of
// 100,000 hosts are built per resync, and most fit std::string's inline buffer (15 bytes,
// "10.0.6.25:31704"), which a reserve() sized for the worst case would have forced onto the heap.
// `write` gets a buffer of `bound` bytes and returns the end of what it wrote.
template <class Write>
std::string buildShort(size_t bound, Write write) {
  char stack[64];
  if (bound <= sizeof stack) return std::string(stack, write(stack));
  std::string out(bound, '\0');
  out.resize(static_cast<size_t>(write(out.data()) - out.data()));
  return out;
}

char* writePort(char* out, uint16_t port) {
  return std::to_chars(out, out + 5, port).ptr;  // 65535: five digits
}

char* writeBytes(char* out, std::string_view bytes) {
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

std::string listenerAddress(std::string_view bind, uint16_t port) {
  const bool bracket = bind.find(':') != std::string_view::npos && !bind.starts_with('[');
  return buildShort(bind.size() + 8, [&](char* out) {
    if (bracket) *out++ = '[';
    out = writeBytes(out, bind);
    if (bracket) *out++ = ']';
    *out++ = ':';
    return writePort(out, port);
  });
}

// marathon_lb.py get_health_check: the first check that names a port (it then covers every
// service port) or whose portIndex is `index`.
const HealthCheck* healthCheckFor(const App& app, size_t index) {
  for (const HealthCheck& hc : app.health_checks) {
    if (hc.port.has_value() && *hc.port != 0) return &hc;
    if (hc.port_index.has_value() && *hc.port_index == index) return &hc;
  }
  return nullptr;
}

conf::HealthCheckProtocol checkProtocol(const std::string& marathon) {
  if (marathon == "HTTPS" || marathon == "MESOS_HTTPS") return conf::HealthCheckProtocol::Https;
  if (marathon == "TCP" || marathon == "MESOS_TCP") return conf::HealthCheckProtocol::Tcp;
  return conf::HealthCheckProtocol::Http;
}

ListenerKind defaultMode(const App& app, size_t index, const PortLabels& labels) {
  if (labels.mode) return *labels.mode;
  if (!labels.vhosts.empty()) return ListenerKind::Http;
  const HealthCheck* hc = healthCheckFor(app, index);
  if (hc == nullptr) return ListenerKind::Tcp;
  const std::string& p = hc->protocol;
  const bool http = p == "HTTP" || p == "HTTPS" || p == "MESOS_HTTP" || p == "MESOS_HTTPS";
  return http ? ListenerKind::Http : ListenerKind::Tcp;
}

bool isSelf(const App& app, const std::string& self) {
  if (self.empty()) return false;
  return app.id == self || app.id == "/" + self;
}

conf::SourceLoc originLoc(const App& app) {
  return conf::SourceLoc{"marathon:" + app.id, 0};
}

class Translator {
 public:
  Translator(const TranslateOptions& options, TranslateContext& context)
      : options_(options), context_(context) {}

  // `owners` (may be null) owns the apps of `sorted`: their clusters may be reused from and kept
  // in context.cache.
  conf::DiscoveredSpec run(std::vector<const App*> sorted,
                           const std::vector<std::shared_ptr<const App>>* owners) {
    if (owners != nullptr && context_.cache != nullptr) {
      owners_.reserve(owners->size());
      for (const auto& app : *owners) owners_.emplace(app.get(), &app);
    }
    std::stable_sort(sorted.begin(), sorted.end(), byId);
    merge_ = mergeDeploymentGroups(sorted, context_.deployment_drained, out_.issues);
    std::vector<const App*> apps = merge_.others;
    for (const App& app : merge_.merged) apps.push_back(&app);
    std::stable_sort(apps.begin(), apps.end(), byId);
    size_t ports = 0;
    for (const App* app : apps) ports += app->service_ports.size();
    plans_.reserve(ports);  // a PortPlan is large: no reallocation moves
    cluster_names_.reserve(ports);
    vhost_names_.reserve(2 * ports);
    out_.clusters.reserve(ports);
    labels_ = readAllLabels(apps);
    for (size_t i = 0; i < apps.size(); ++i) planApp(*apps[i], *labels_[i]);
    addGroups();
    std::vector<ClusterJob> jobs;
    jobs.reserve(plans_.size());
    for (const PortPlan& plan : plans_) jobs.push_back(prepareCluster(plan));
    buildAllHosts(jobs);
    for (ClusterJob& job : jobs) finishCluster(job);
    if (!reusePlanOutputs()) {
      const size_t first_issue = out_.issues.size();
      addSharedListeners();
      addAppIdVhosts();
      addPortListeners();
      addSharedVhosts();
      addCertificates();
      keepPlanOutputs(first_issue);
    }
    if (context_.cache != nullptr) {
      context_.cache->retired = std::exchange(context_.cache->clusters, std::move(next_cache_));
      auto retired_apps = std::exchange(context_.cache->apps, std::move(next_apps_));
      auto retired_outputs = std::exchange(context_.cache->plan_outputs, std::move(next_outputs_));
      context_.cache->retired_work = std::make_shared<Work>(
          Work{std::move(merge_), std::move(plans_), std::move(labels_), std::move(retired_apps),
               std::move(cluster_names_), std::move(vhost_names_), std::move(unresolved_),
               std::move(served_), std::move(owners_), std::move(retired_outputs)});
    }
    return std::move(out_);
  }

 private:
  static bool byId(const App* a, const App* b) { return a->id < b->id; }

  void issue(const App& app, std::string subject, std::string message) {
    out_.issues.push_back(DiscoveryIssue{app.id, std::move(subject), std::move(message)});
  }

  bool selected(const PortLabels& labels) const {
    for (const std::string& g : options_.groups) {
      if (g == "*") return true;
      if (std::find(labels.groups.begin(), labels.groups.end(), g) != labels.groups.end()) {
        return true;
      }
    }
    return false;
  }

  bool enabled(const PortLabels& labels) const {
    if (options_.strict_mode) return labels.enabled.value_or(false);
    return labels.enabled.value_or(true);
  }

  // Label issues of ports that other load balancers serve are not ours to report: they are
  // collected per port and kept only when the port is selected (copied out: `read` may be the
  // cached reading of TranslateCache, shared with the next call).
  void planApp(const App& app, const AppLabels& read) {
    if (isSelf(app, options_.self_app_id)) return;
    bool any = false;
    for (size_t i = 0; i < app.service_ports.size(); ++i) {
      const PortLabels& labels = read.ports[i];
      if (!selected(labels) || !enabled(labels)) continue;
      any = true;
      const auto& port_issues = read.port_issues[i];
      out_.issues.insert(out_.issues.end(), port_issues.begin(), port_issues.end());
      if (labels.fail_closed) continue;
      planPort(app, i, labels);
    }
    if (!any) return;
    out_.issues.insert(out_.issues.end(), read.app_issues.begin(), read.app_issues.end());
    served_.insert(&app);
  }

  static std::shared_ptr<const AppLabels> readAppLabels(const App& app) {
    auto out = std::make_shared<AppLabels>();
    out->ports.reserve(app.service_ports.size());
    out->port_issues.resize(app.service_ports.size());
    for (size_t i = 0; i < app.service_ports.size(); ++i) {
      out->ports.push_back(readPortLabels(app, i, out->port_issues[i]));
    }
    checkAppLabels(app, out->app_issues);
    return out;
  }

  // Every app's labels: an app (of the input, or a deployment group's merged one) whose labels
  // the last call read is not read again (see TranslateCache); the others are read on this thread
  // and a helper when there are many.
  std::vector<std::shared_ptr<const AppLabels>> readAllLabels(const std::vector<const App*>& apps) {
    std::vector<std::shared_ptr<const AppLabels>> out(apps.size());
    std::vector<std::shared_ptr<const App>> keep(apps.size());  // null: not cacheable
    std::vector<size_t> to_read;
    for (size_t i = 0; i < apps.size(); ++i) {
      keep[i] = cacheableApp(*apps[i]);
      if (keep[i] == nullptr || !(out[i] = cachedLabels(*apps[i]))) to_read.push_back(i);
    }
    core::forEachOnTwoThreads(
        to_read.size(), context_.parallel_labels_from, [](size_t) { return size_t{1}; },
        [&](size_t k) { out[to_read[k]] = readAppLabels(*apps[to_read[k]]); });
    next_apps_.reserve(apps.size());
    for (size_t i = 0; i < apps.size(); ++i) {
      if (keep[i] == nullptr) continue;
      const std::string_view id = keep[i]->id;  // in the App the entry holds
      next_apps_.emplace(id, TranslateCache::AppEntry{std::move(keep[i]), out[i]});
    }
    return out;
  }

  // A cache to read and fill, and apps shared between calls (the shared-apps overload): the
  // other overload's apps die with the call, so nothing of them may be kept.
  bool caching() const { return context_.cache != nullptr && !owners_.empty(); }

  // What the next cache's entry for `app` holds (null: no entry): an input app itself; for a
  // deployment group's merged app (made anew every call) a copy of what its labels are read from,
  // so that its labels, and with them the plan outputs, are reused across a cutover's calls too.
  std::shared_ptr<const App> cacheableApp(const App& app) const {
    if (!caching()) return nullptr;
    if (const auto* owner = cacheOwner(app)) return *owner;
    if (pinOf(app) == nullptr) return nullptr;
    auto read_from = std::make_shared<App>();
    read_from->id = app.id;
    read_from->labels = app.labels;
    read_from->service_ports = app.service_ports;
    return read_from;
  }

  // The labels the last call read for this (cacheable) app, or for an app of the same id, labels
  // and number of service ports (what reading them depends on), else null.
  std::shared_ptr<const AppLabels> cachedLabels(const App& app) const {
    const auto it = context_.cache->apps.find(app.id);
    if (it == context_.cache->apps.end()) return nullptr;
    const App& read = *it->second.app;
    if (&read == &app ||
        (read.service_ports.size() == app.service_ports.size() && read.labels == app.labels)) {
      return it->second.labels;
    }
    return nullptr;
  }

  // The deployment groups this instance serves (a port selected), already sorted by group name,
  // and their pin label issues (other groups belong to other load balancers).
  void addGroups() {
    for (size_t i = 0; i < merge_.merged.size(); ++i) {
      if (!served_.contains(&merge_.merged[i])) continue;
      out_.groups.push_back(merge_.groups[i]);
      const auto& issues = merge_.pins[i].issues;
      out_.issues.insert(out_.issues.end(), issues.begin(), issues.end());
    }
  }

  // The pinning of a merged deployment-group app; null for every other app.
  const GroupPin* pinOf(const App& app) const {
    if (merge_.merged.empty() || &app < merge_.merged.data() ||
        &app >= merge_.merged.data() + merge_.merged.size()) {
      return nullptr;
    }
    return &merge_.pins[static_cast<size_t>(&app - merge_.merged.data())];
  }

  void planPort(const App& app, size_t index, const PortLabels& labels) {
    PortPlan plan;
    plan.app = &app;
    plan.index = index;
    const uint16_t service_port = app.service_ports[index];
    plan.listen_port = labels.port.value_or(service_port);
    plan.mode = defaultMode(app, index, labels);
    plan.cluster = backendName(app.id, service_port != 0 ? service_port : plan.listen_port);
    plan.labels = &labels;
    if (plan.mode == ListenerKind::Tcp && labels.access_log != conf::AccessLogMode::All) {
      issue(app, "BATON_" + std::to_string(index) + "_ACCESS_LOG",
            "ignored on a tcp-mode port (TCP connections are not in the access log)");
    }
    if (!cluster_names_.insert(plan.cluster).second) {
      issue(app, "id",
            "cluster name \"" + plan.cluster + "\" is already used by another app; port index " +
                std::to_string(index) + " not exposed");
      return;
    }
    plans_.push_back(std::move(plan));
  }

  // What one task brings to a cluster before its HostSpec is built: the inputs that do not come
  // from the app itself (include verdict, resolved address, draining).
  struct TaskInput {
    enum class Kind : uint8_t { Skip, Unresolved, Host } kind = Kind::Skip;
    std::string ip;
    bool ipv4 = false;  // `ip` is known to be a numeric IPv4 address (Endpoint::ipv4)
    bool draining = false;
  };

  // include() and resolve() are called here, once per task and in task order, as the host list
  // is built; `inputs` gets their answers.
  std::vector<TaskInput> taskInputs(const App& app, size_t index, std::string& inputs) {
    std::vector<TaskInput> out(app.tasks.size());
    inputs.reserve(app.tasks.size() * 18);  // "A10.0.6.25\0": one resize, not a doubling series
    // Drain sets are empty but for a fast-path kill or a cutover: no lookup per task then.
    const bool any_drained =
        !merge_.drained.empty() || (context_.draining != nullptr && !context_.draining->empty());
    for (size_t t = 0; t < app.tasks.size(); ++t) {
      const Task& task = app.tasks[t];
      TaskInput& in = out[t];
      if (task.host.empty() || index >= task.endpoints.size()) {
        inputs.push_back('-');
        continue;
      }
      if (context_.include && !context_.include(app, task)) {
        inputs.push_back('x');
        continue;
      }
      const Endpoint& ep = task.endpoints[index];
      if (ep.host.empty() || ep.port == 0) {
        inputs.push_back('0');
        continue;
      }
      // A numeric IPv4 host (the parser checked) is its own answer; anything else is resolved.
      if (ep.ipv4) {
        in.ip = ep.host;
        in.ipv4 = true;
      } else {
        std::optional<std::string> ip = context_.resolve ? context_.resolve(ep.host) : std::nullopt;
        if (!ip) {
          in.kind = TaskInput::Kind::Unresolved;
          inputs.push_back('?');
          continue;
        }
        in.ip = std::move(*ip);
      }
      in.kind = TaskInput::Kind::Host;
      in.draining =
          any_drained && (merge_.drained.contains(task.id) ||
                          (context_.draining != nullptr && context_.draining->contains(task.id)));
      inputs.push_back(in.draining ? 'D' : 'A');
      inputs.append(in.ip);
      inputs.push_back('\0');
    }
    return out;
  }

  // One cluster, built in three steps so that host lists can be built on two threads:
  // prepareCluster (in plan order, here: the include and resolve callbacks run on the caller's
  // thread, and a task's "not resolved" report goes to its first port), buildHosts (pure: any
  // thread), finishCluster (in plan order, here).
  struct ClusterJob {
    const PortPlan* plan = nullptr;
    const GroupPin* pin = nullptr;
    const std::shared_ptr<const App>* owner = nullptr;  // cacheable when set
    conf::ClusterSpec cluster;
    std::string inputs;
    std::vector<TaskInput> tasks;
    std::vector<uint8_t> first_unresolved;  // per task: its "not resolved" issue is reported here
    bool cached = false;                    // hosts taken from the cache: nothing to build
    bool unresolved = false;
    std::vector<DiscoveryIssue> issues;  // raised while building the hosts
  };

  ClusterJob prepareCluster(const PortPlan& plan) {
    const App& app = *plan.app;
    ClusterJob job;
    job.plan = &plan;
    conf::ClusterSpec& cluster = job.cluster;
    cluster.loc = originLoc(app);
    cluster.name = plan.cluster;
    cluster.policy = plan.labels->balance;
    if (plan.labels->sticky) cluster.sticky_cookie = "mesosphere_server_id";
    cluster.timeouts = plan.labels->timeouts;
    cluster.retry = plan.labels->retry;
    cluster.tls_verify = plan.labels->tls_verify;
    cluster.tls_ca_file = plan.labels->tls_ca_file;
    cluster.tls_server_name = plan.labels->tls_server_name;
    cluster.limits = plan.labels->limits;
    cluster.protocol = plan.labels->protocol;
    cluster.health_check = healthCheckSpecFor(app, plan.index, *plan.labels);
    cluster.outlier = plan.labels->outlier;
    cluster.origin = "marathon:" + app.id;
    job.pin = pinOf(app);
    if (job.pin != nullptr) cluster.pin = job.pin->spec;
    job.tasks = taskInputs(app, plan.index, job.inputs);
    job.owner = job.pin == nullptr ? cacheOwner(app) : nullptr;
    if (job.owner != nullptr) {
      const auto cached = context_.cache->clusters.find(plan.cluster);
      if (cached != context_.cache->clusters.end() && cached->second.app == *job.owner &&
          cached->second.index == plan.index && cached->second.inputs == job.inputs) {
        // Same app object, same inputs: the build would give the same hosts, no issue.
        cluster.hosts = conf::HostList(cached->second.hosts);
        next_cache_.emplace(plan.cluster, std::move(cached->second));
        job.cached = true;
        return job;
      }
    }
    // A task of several ports is reported unresolved once, at its first port (plan order).
    job.first_unresolved.resize(job.tasks.size());
    for (size_t t = 0; t < job.tasks.size(); ++t) {
      if (job.tasks[t].kind != TaskInput::Kind::Unresolved) continue;
      job.unresolved = true;
      job.first_unresolved[t] = unresolved_.insert(app.tasks[t].id).second;
    }
    return job;
  }

  // Pure: reads the job, the app and its plan; writes the job only.
  static void buildHosts(ClusterJob& job) {
    const PortPlan& plan = *job.plan;
    const App& app = *plan.app;
    conf::ClusterSpec& cluster = job.cluster;
    cluster.hosts.reserve(app.tasks.size());
    for (size_t t = 0; t < app.tasks.size(); ++t) {
      const Task& task = app.tasks[t];
      auto host =
          buildHost(app, task, plan.index, job.tasks[t], job.first_unresolved[t] != 0, job.issues);
      if (!host) continue;
      if (job.pin != nullptr) {
        // The version of the app the task came from (Task::app_id, set by the merge).
        const auto it = job.pin->app_versions.find(task.app_id);
        if (it != job.pin->app_versions.end()) host->version = it->second;
      }
      cluster.hosts.push_back(std::move(*host));
    }
    sortByTask(cluster.hosts.mut());
    dropDuplicateAddresses(app, cluster, job.issues);
  }

  // The jobs to build, on this thread and a helper when there are many hosts (every app
  // redeployed: 100,000).
  void buildAllHosts(std::vector<ClusterJob>& jobs) const {
    std::vector<ClusterJob*> to_build;
    for (ClusterJob& job : jobs) {
      if (!job.cached) to_build.push_back(&job);
    }
    core::forEachOnTwoThreads(
        to_build.size(), context_.parallel_hosts_from,
        [&](size_t i) { return to_build[i]->tasks.size(); },
        [&](size_t i) { buildHosts(*to_build[i]); });
  }

  void finishCluster(ClusterJob& job) {
    if (!job.cached) {
      const bool clean = job.issues.empty() && !job.unresolved;
      std::move(job.issues.begin(), job.issues.end(), std::back_inserter(out_.issues));
      if (job.owner != nullptr && clean) {
        next_cache_.emplace(job.plan->cluster, TranslateCache::Entry{*job.owner, job.plan->index,
                                                                     std::move(job.inputs),
                                                                     job.cluster.hosts.shared()});
      }
    }
    out_.clusters.push_back(std::move(job.cluster));
  }

  static std::optional<conf::HostSpec> buildHost(const App& app, const Task& task, size_t index,
                                                 const TaskInput& in, bool report_unresolved,
                                                 std::vector<DiscoveryIssue>& issues) {
    if (in.kind == TaskInput::Kind::Skip) return std::nullopt;
    const Endpoint& ep = task.endpoints[index];
    if (in.kind == TaskInput::Kind::Unresolved) {
      if (report_unresolved) {
        issues.push_back(DiscoveryIssue{app.id, "task " + task.id,
                                        "host \"" + ep.host + "\" is not resolved yet; skipped"});
      }
      return std::nullopt;
    }
    // No per-host SourceLoc: a discovered host's errors name its cluster's (cluster.cc falls
    // back to it), and 100,000 copies of "marathon:/app/id" cost every resync and snapshot.
    conf::HostSpec host;
    host.address = listenerAddress(in.ip, ep.port);
    // An IPv4 address (nearly every task) is valid as built; anything else is checked whole.
    if (!in.ipv4 && !conf::parseIpv4(in.ip) && !conf::checkHostAddress(host.address)) {
      issues.push_back(DiscoveryIssue{
          app.id, "task " + task.id, "\"" + host.address + "\" is not a numeric address; skipped"});
      return std::nullopt;
    }
    host.name = serverName(task.host, in.ip, ep.port);
    host.task_id = task.id;
    host.draining = in.draining;
    return host;
  }

  // The owner of `app` when its cluster may be cached (an app of the input, not a merged
  // deployment group), else null.
  const std::shared_ptr<const App>* cacheOwner(const App& app) const {
    const auto it = owners_.find(&app);
    return it == owners_.end() ? nullptr : it->second;
  }

  // Hosts in task id order (then address), as marathon-lb lists its servers. A HostSpec is
  // large: an index is sorted and each host moved once.
  static void sortByTask(std::vector<conf::HostSpec>& hosts) {
    const auto before = [](const conf::HostSpec& a, const conf::HostSpec& b) {
      return std::tie(a.task_id, a.address) < std::tie(b.task_id, b.address);
    };
    if (std::is_sorted(hosts.begin(), hosts.end(), before)) return;
    std::vector<uint32_t> order(hosts.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return before(hosts[a], hosts[b]); });
    std::vector<conf::HostSpec> sorted;
    sorted.reserve(hosts.size());
    for (const uint32_t i : order) sorted.push_back(std::move(hosts[i]));
    hosts = std::move(sorted);
  }

  // Two routable tasks can share an address (a LOST task whose port the agent gave to a new
  // task). One backend entry serves both; it drains only when every task behind it does.
  static void dropDuplicateAddresses(const App& app, conf::ClusterSpec& cluster,
                                     std::vector<DiscoveryIssue>& issues) {
    if (!hasDuplicateAddress(cluster.hosts)) return;  // the usual case: nothing to merge
    std::unordered_map<std::string, size_t> first;
    std::vector<conf::HostSpec> kept;
    kept.reserve(cluster.hosts.size());
    for (auto& host : cluster.hosts.mut()) {
      auto [it, inserted] = first.emplace(host.address, kept.size());
      if (inserted) {
        kept.push_back(std::move(host));
        continue;
      }
      conf::HostSpec& same = kept[it->second];
      same.draining = same.draining && host.draining;
      same.shared_address = true;
      issues.push_back(DiscoveryIssue{app.id, "task " + host.task_id,
                                      "same address " + host.address + " as task " + same.task_id +
                                          "; one backend serves both"});
    }
    cluster.hosts = std::move(kept);
  }

  static bool hasDuplicateAddress(const std::vector<conf::HostSpec>& hosts) {
    std::vector<std::string_view> addresses;
    addresses.reserve(hosts.size());
    for (const auto& host : hosts) addresses.push_back(host.address);
    std::sort(addresses.begin(), addresses.end());
    return std::adjacent_find(addresses.begin(), addresses.end()) != addresses.end();
  }

  // TranslateCache::PlanOutputs: the last call's, when it was made from the same plans.
  bool reusePlanOutputs() {
    if (!caching()) return false;
    const auto& kept = context_.cache->plan_outputs;
    if (!kept || kept->options != options_ || kept->plans.size() != plans_.size()) return false;
    for (size_t i = 0; i < plans_.size(); ++i) {
      if (!(kept->plans[i] == keyOf(i))) return false;
    }
    out_.listeners = kept->listeners;
    out_.vhosts = kept->vhosts;
    out_.certificates = kept->certificates;
    out_.issues.insert(out_.issues.end(), kept->issues.begin(), kept->issues.end());
    next_outputs_ = kept;
    return true;
  }

  TranslateCache::PlanOutputs::Plan keyOf(size_t i) const {
    const PortPlan& plan = plans_[i];
    return {plan.labels, plan.app->service_ports[plan.index], plan.listen_port, plan.mode,
            i == 0 || plans_[i - 1].app != plan.app};
  }

  // Keeps this call's plan outputs (issues from `first_issue` on) for the next call.
  void keepPlanOutputs(size_t first_issue) {
    if (!caching()) return;
    auto kept = std::make_shared<TranslateCache::PlanOutputs>();
    kept->options = options_;
    kept->plans.reserve(plans_.size());
    for (size_t i = 0; i < plans_.size(); ++i) kept->plans.push_back(keyOf(i));
    kept->labels = labels_;
    kept->listeners = out_.listeners;
    kept->vhosts = out_.vhosts;
    kept->certificates = out_.certificates;
    kept->issues.assign(out_.issues.begin() + static_cast<std::ptrdiff_t>(first_issue),
                        out_.issues.end());
    next_outputs_ = std::move(kept);
  }

  // The same actions on every route of a port; redirect_to_https only on the shared vhosts
  // (marathon-lb ties it to the vhost ACL).
  conf::RouteSpec routeFor(const PortPlan& plan, std::string prefix, bool shared) const {
    const PortLabels& l = *plan.labels;
    conf::RouteSpec route;
    route.loc = originLoc(*plan.app);
    route.prefix = std::move(prefix);
    route.cluster = plan.cluster;
    route.allowed_sources = l.allowed_sources;
    route.basic_auth = l.auth;
    route.redirect_to_https = shared && l.redirect_to_https;
    route.redirect_root_to = l.redirect_root_to;
    route.strip_prefix = l.proxypass_path;
    if (!l.proxypass_path.empty() && !l.vhosts.empty()) route.upstream_host = l.vhosts.front();
    route.location_rewrite = l.revproxy_path;
    route.hsts = l.hsts;
    route.websocket = l.websocket;
    route.access_log = l.access_log;
    return route;
  }

  std::string uniqueVhostName(const std::string& raw) {
    std::string name = safeName(raw);
    if (vhost_names_.insert(name).second) return name;
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(raw)));
    name = safeName(raw).substr(0, std::min(name.size(), kMaxVhostName - 17)) + "-" + hash;
    vhost_names_.insert(name);
    return name;
  }

  void addSharedListeners() {
    if (options_.http_port != 0) {
      conf::ListenerSpec l;
      l.name = "marathon_http";
      l.address = listenerAddress(options_.bind_address, options_.http_port);
      l.origin = "marathon";
      out_.listeners.push_back(std::move(l));
    }
    if (options_.app_id_port != 0) {
      conf::ListenerSpec l;
      l.name = "marathon_app_id";
      l.address = listenerAddress(options_.bind_address, options_.app_id_port);
      l.route_by = conf::RouteBy::AppIdHeader;
      l.route_scope = kAppIdScope;
      l.origin = "marathon";
      out_.listeners.push_back(std::move(l));
    }
  }

  // X-Marathon-App-Id: <app id> reaches the app's first http-mode port (marathon-lb :9091).
  void addAppIdVhosts() {
    if (options_.app_id_port == 0) return;
    const App* last = nullptr;
    for (const PortPlan& plan : plans_) {
      if (plan.mode != ListenerKind::Http || plan.app == last) continue;
      last = plan.app;
      conf::VirtualHostSpec vh;
      vh.loc = originLoc(*plan.app);
      vh.name = uniqueVhostName("appid_" + plan.app->id);
      vh.domains = {plan.app->id};
      vh.routes = {routeFor(plan, "/", false)};
      vh.scope = kAppIdScope;
      out_.vhosts.push_back(std::move(vh));
    }
  }

  bool portUsable(const PortPlan& plan, std::map<uint16_t, const PortPlan*>& taken) {
    const uint16_t p = plan.listen_port;
    if (p == 0) return false;
    if (p == options_.http_port || p == options_.app_id_port ||
        (p == options_.https_port && options_.https_port != 0)) {
      issue(*plan.app, label(plan.index, "PORT"),
            "port " + std::to_string(p) + " is baton's own listener; per-port listener skipped");
      return false;
    }
    auto [it, inserted] = taken.emplace(p, &plan);
    if (!inserted) {
      issue(*plan.app, label(plan.index, "PORT"),
            "port " + std::to_string(p) + " is already served for " + it->second->app->id +
                "; per-port listener skipped");
      return false;
    }
    if (plan.mode == ListenerKind::Tcp &&
        (plan.labels->auth || !plan.labels->allowed_sources.empty())) {
      issue(*plan.app, label(plan.index, "MODE"),
            "AUTH / BACKEND_NETWORK_ALLOWED_ACL cannot be enforced in tcp mode; per-port listener "
            "not exposed");
      taken.erase(p);
      return false;
    }
    return true;
  }

  // HAPROXY_{n}_SSL_CERT files of every exposed http port, once each (several apps may share a
  // wildcard certificate). The server adds them to [tls] and opens the https listener.
  void addCertificates() {
    std::set<std::string> seen;
    for (const PortPlan& plan : plans_) {
      if (plan.labels->ssl_certs.empty()) continue;
      if (plan.mode == ListenerKind::Tcp) {
        issue(*plan.app, label(plan.index, "SSL_CERT"),
              "TLS on a tcp-mode port is not supported; ignored");
        continue;
      }
      for (const std::string& path : plan.labels->ssl_certs) {
        if (!seen.insert(path).second) continue;
        conf::CertificateSpec cert;
        cert.loc = originLoc(*plan.app);
        cert.cert = path;
        cert.origin = "marathon:" + plan.app->id;
        out_.certificates.push_back(std::move(cert));
      }
    }
  }

  void addPortListeners() {
    if (!options_.bind_service_ports) return;
    out_.listeners.reserve(out_.listeners.size() + plans_.size());
    std::map<uint16_t, const PortPlan*> taken;
    for (const PortPlan& plan : plans_) {
      if (!portUsable(plan, taken)) continue;
      const std::string name = "port_" + std::to_string(plan.listen_port);
      conf::ListenerSpec l;
      l.name = name;
      l.address = listenerAddress(
          plan.labels->bind_addr.empty() ? options_.bind_address : plan.labels->bind_addr,
          plan.listen_port);
      l.origin = "marathon:" + plan.app->id;
      if (!conf::checkListenerAddress(l.address)) {
        issue(*plan.app, label(plan.index, "BIND_ADDR"),
              "\"" + l.address + "\" is not a numeric listen address; per-port listener skipped");
        continue;
      }
      if (plan.mode == ListenerKind::Tcp) {
        l.kind = ListenerKind::Tcp;
        l.tcp_cluster = plan.cluster;
        l.alpn = std::vector<std::string>();  // TLS only: no allocation per copy of the spec
      } else {
        l.route_scope = name;
        // marathon-lb binds a port with SSL_CERT as `bind :port ssl crt <file>`.
        l.tls = !plan.labels->ssl_certs.empty();
        l.h2c = !l.tls;
        if (!l.tls) l.alpn = std::vector<std::string>();  // as above
        conf::VirtualHostSpec vh;
        vh.loc = originLoc(*plan.app);
        vh.name = uniqueVhostName(name);
        vh.domains = {"*"};
        vh.routes = {routeFor(plan, "/", false)};
        vh.scope = name;
        out_.vhosts.push_back(std::move(vh));
      }
      out_.listeners.push_back(std::move(l));
    }
  }

  // Explicit VHOST labels first (they win every collision), then automatic domains.
  std::map<std::string, std::vector<Candidate>> collectDomains() {
    std::map<std::string, std::vector<Candidate>> domains;
    for (const PortPlan& plan : plans_) addExplicit(plan, domains);
    std::unordered_set<std::string> explicit_domains;
    explicit_domains.reserve(domains.size());
    for (const auto& [domain, c] : domains) explicit_domains.insert(domain);
    for (const PortPlan& plan : plans_) addAuto(plan, explicit_domains, domains);
    return domains;
  }

  void addExplicit(const PortPlan& plan, std::map<std::string, std::vector<Candidate>>& domains) {
    const PortLabels& l = *plan.labels;
    if (l.vhosts.empty()) {
      if (!l.paths.empty()) issue(*plan.app, label(plan.index, "PATH"), "needs a VHOST; ignored");
      if (l.redirect_to_https) {
        issue(*plan.app, label(plan.index, "REDIRECT_TO_HTTPS"), "needs a VHOST; ignored");
      }
      return;
    }
    if (plan.mode == ListenerKind::Tcp) {
      issue(*plan.app, label(plan.index, "VHOST"), "ignored on a tcp-mode port");
      return;
    }
    const std::vector<std::string> paths =
        l.paths.empty() ? std::vector<std::string>{"/"} : l.paths;
    const int64_t weight = l.backend_weight.value_or(l.paths.empty() ? 0 : 1);
    for (const std::string& prefix : paths) {
      auto normalized = routing::normalizeRoutePrefix(prefix);
      if (!normalized) {
        issue(*plan.app, label(plan.index, "PATH"),
              "\"" + prefix + "\": " + normalized.error().detail + "; ignored");
        continue;
      }
      for (const std::string& domain : l.vhosts) {
        domains[domain].push_back(Candidate{weight, prefix, *normalized, &plan});
      }
    }
  }

  // Only port index 0 gets an automatic domain: one guessable name per app.
  void addAuto(const PortPlan& plan, const std::unordered_set<std::string>& explicit_domains,
               std::map<std::string, std::vector<Candidate>>& domains) {
    if (options_.domain.empty() || plan.index != 0 || plan.mode != ListenerKind::Http ||
        !plan.labels->vhosts.empty()) {
      return;
    }
    const std::string raw = autoDomain(plan.app->id, options_.domain);
    auto domain = conf::normaliseDomain(raw);
    if (raw.empty() || !domain) {
      issue(*plan.app, "domain", "no valid automatic domain for this app id (\"" + raw + "\")");
      return;
    }
    if (explicit_domains.contains(*domain)) {
      issue(*plan.app, "domain",
            "automatic domain \"" + *domain + "\" collides with an explicit VHOST; not served");
      return;
    }
    auto [it, inserted] = domains.try_emplace(*domain);
    if (!inserted) {
      issue(*plan.app, "domain",
            "automatic domain \"" + *domain + "\" collides with " +
                it->second.front().plan->app->id + "; not served");
      return;
    }
    it->second.push_back(Candidate{0, "/", "/", &plan});
  }

  // HAProxy takes the first matching use_backend: larger weight, then longer prefix, then app id.
  static void orderCandidates(std::vector<Candidate>& c) {
    std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
      if (a.weight != b.weight) return a.weight > b.weight;
      if (a.normalized.size() != b.normalized.size()) {
        return a.normalized.size() > b.normalized.size();
      }
      if (a.plan->app->id != b.plan->app->id) return a.plan->app->id < b.plan->app->id;
      if (a.plan->index != b.plan->index) return a.plan->index < b.plan->index;
      return a.normalized < b.normalized;
    });
  }

  std::vector<conf::RouteSpec> keepReachable(const std::string& domain,
                                             const std::vector<Candidate>& candidates) {
    std::vector<conf::RouteSpec> routes;
    std::vector<const Candidate*> kept;
    for (const Candidate& c : candidates) {
      const auto shadow = std::find_if(kept.begin(), kept.end(), [&](const Candidate* k) {
        return routing::prefixMatches(k->normalized, c.normalized);
      });
      if (shadow != kept.end()) {
        const PortPlan& other = *(*shadow)->plan;
        issue(*c.plan->app, label(c.plan->index, "VHOST"),
              "collision: " + domain + c.prefix + " is already routed to " + other.app->id +
                  " (port index " + std::to_string(other.index) + ", prefix " + (*shadow)->prefix +
                  "); route dropped");
        continue;
      }
      kept.push_back(&c);
      routes.push_back(routeFor(*c.plan, c.prefix, true));
    }
    return routes;
  }

  void addSharedVhosts() {
    if (options_.http_port == 0) return;
    for (auto& [domain, candidates] : collectDomains()) {
      orderCandidates(candidates);
      conf::VirtualHostSpec vh;
      vh.loc = conf::SourceLoc{"marathon", 0};
      vh.name = uniqueVhostName("mlb_" + domain);
      vh.domains = {domain};
      vh.routes = keepReachable(domain, candidates);
      out_.vhosts.push_back(std::move(vh));
    }
  }

  // What run() leaves in TranslateCache::retired_work: the members below, moved.
  struct Work {
    DeploymentMerge merge;
    std::vector<PortPlan> plans;
    std::vector<std::shared_ptr<const AppLabels>> labels;
    std::unordered_map<std::string_view, TranslateCache::AppEntry> retired_apps;
    std::unordered_set<std::string> cluster_names;
    std::unordered_set<std::string> vhost_names;
    std::unordered_set<std::string> unresolved;
    std::unordered_set<const App*> served;
    std::unordered_map<const App*, const std::shared_ptr<const App>*> owners;
    std::shared_ptr<const TranslateCache::PlanOutputs> plan_outputs;
  };

  const TranslateOptions& options_;
  TranslateContext& context_;
  DeploymentMerge merge_;  // owns the merged deployment-group apps the plans point to
  std::vector<PortPlan> plans_;
  // Per app of run()'s sorted list (the input's and the merged groups'); the plans point in.
  std::vector<std::shared_ptr<const AppLabels>> labels_;
  // Membership only (their order is never read): hashed, as 10,000 apps insert into each.
  std::unordered_set<std::string> cluster_names_;
  std::unordered_set<std::string> vhost_names_;
  std::unordered_set<std::string> unresolved_;
  std::unordered_set<const App*> served_;  // apps with at least one selected, enabled port
  // The owners of the input apps (shared-apps overload with a cache only), and the cache this
  // call leaves for the next.
  std::unordered_map<const App*, const std::shared_ptr<const App>*> owners_;
  std::unordered_map<std::string, TranslateCache::Entry> next_cache_;
  std::unordered_map<std::string_view, TranslateCache::AppEntry> next_apps_;
  std::shared_ptr<const TranslateCache::PlanOutputs> next_outputs_;
  conf::DiscoveredSpec out_;
};

}  // namespace

std::optional<conf::HealthCheckSpec> healthCheckSpecFor(const App& app, size_t index,
                                                        const PortLabels& labels) {
  if (!labels.health_check) return std::nullopt;
  const HealthCheck* hc = healthCheckFor(app, index);
  if (hc == nullptr || hc->protocol == "COMMAND") return std::nullopt;
  conf::HealthCheckSpec spec;
  spec.protocol = checkProtocol(hc->protocol);
  if (spec.protocol != conf::HealthCheckProtocol::Tcp) {
    spec.path = labels.health_check_path.empty() ? hc->path : labels.health_check_path;
    if (spec.path.empty() || spec.path.front() != '/') spec.path = "/" + spec.path;
  }
  if (hc->port.has_value() && *hc->port != 0) spec.port = *hc->port;
  spec.interval = labels.health_check_interval.value_or(
      std::chrono::seconds(std::max<uint32_t>(hc->interval_seconds, 1)));
  spec.timeout = std::chrono::seconds(std::max<uint32_t>(hc->timeout_seconds, 1));
  spec.unhealthy_threshold = std::max<uint32_t>(hc->max_consecutive_failures, 1);
  spec.healthy_threshold = 2;
  spec.grace = std::chrono::seconds(hc->grace_period_seconds);
  return spec;
}

std::string backendName(std::string_view app_id, uint16_t service_port) {
  std::string name(app_id.starts_with('/') ? app_id.substr(1) : app_id);
  std::replace(name.begin(), name.end(), '/', '_');
  return name + "_" + std::to_string(service_port);
}

std::string serverName(std::string_view host, std::string_view ip, uint16_t port) {
  return buildShort(host.size() + ip.size() + 8, [&](char* out) {
    char* const start = out;
    if (host != ip) {
      out = writeBytes(out, host);
      *out++ = '_';
    }
    out = writeBytes(out, ip);
    *out++ = '_';
    out = writePort(out, port);
    for (char* c = start; c != out; ++c) {
      if (!isAsciiAlnum(*c)) *c = '_';
    }
    return out;
  });
}

conf::DiscoveredSpec translate(const std::vector<App>& apps, const TranslateOptions& options,
                               TranslateContext& context) {
  std::vector<const App*> input;
  input.reserve(apps.size());
  for (const App& app : apps) input.push_back(&app);
  return Translator(options, context).run(std::move(input), nullptr);
}

conf::DiscoveredSpec translate(const std::vector<std::shared_ptr<const App>>& apps,
                               const TranslateOptions& options, TranslateContext& context) {
  std::vector<const App*> input;
  input.reserve(apps.size());
  for (const auto& app : apps) input.push_back(app.get());
  return Translator(options, context).run(std::move(input), &apps);
}

}  // namespace baton::discovery
