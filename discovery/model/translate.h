// Typed Marathon apps + marathon-lb labels -> the clusters, routes and listeners baton serves
// (conf::DiscoveredSpec). Pure: no sockets, no clock, no DNS (the caller's `resolve` answers
// from its cache), so the same apps (in any order) and the same context give the same spec on
// every baton instance (design.md: decide from the whole state after a resync).
//
// Called by the discovery source on the control thread after each resync; the result is
// merged into the file config by the server and published like a reload.
//
// What comes out (marathon.md §3, §4.2-4.4, §8):
// - one cluster per selected (app, service port index), named like marathon-lb's backend
//   ("shop_web_10300"), hosts named like its svname, sorted by task id;
// - listener "marathon_http" (shared vhosts, scope ""), "marathon_app_id" (X-Marathon-App-Id,
//   scope "app_id"), and "port_<p>" per service port (http: scope "port_<p>"; tcp: L4);
// - one VirtualHostSpec per HAPROXY_{n}_VHOST / automatic domain, routes ordered by
//   BACKEND_WEIGHT, then longer prefix, then app id; a shadowed route is dropped and reported.
// Every label that is not applied, and every collision, becomes a DiscoveryIssue. A port with
// a malformed AUTH or BACKEND_NETWORK_ALLOWED_ACL is not exposed at all (fail closed); a tcp-mode
// port with AUTH or an allow-list gets no per-port listener (L4 cannot enforce either).
// REDIRECT_TO_HTTPS is applied on the shared vhost routes only (marathon-lb ties it to the vhost
// ACL); the other route actions are the same on the vhost, per-port and app-id routes.
// Automatic domains (options.domain) go to port index 0 of http-mode apps without a VHOST there;
// an explicit VHOST always wins a collision, then the first app id.
// Label issues are reported only for apps with at least one selected port (the apps of other
// groups belong to other load balancers).
// `groups` lists the marathon-lb deployment groups (HAPROXY_DEPLOYMENT_GROUP) with at least one
// selected port, one colour or two, by group name (admin `show groups`, the dashboard).
// Asset pinning: every cluster of a deployment group's merged app (one per service port) gets
// ClusterSpec::pin, the group's versions (deployment_group.h says how they are found and
// ordered), and each of its hosts HostSpec::version, the version of the app its task came from.
// Clusters of other apps get no pin. BATON_PIN_* label issues are reported for served groups.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/model/app.h"
#include "discovery/model/labels.h"

namespace baton::discovery {

struct TranslateOptions {           // from conf::MarathonSpec
  std::vector<std::string> groups;  // "*" = every app, including apps with no group
  bool strict_mode = false;
  std::string domain;           // automatic domains; "" = off
  std::string bind_address;     // "" = all addresses (listener address ":port")
  uint16_t http_port = 80;      // 0 = no shared vhost listener
  uint16_t app_id_port = 9091;  // 0 = no X-Marathon-App-Id listener
  uint16_t https_port = 443;    // reserved for the server's https listener (0 = none)
  bool bind_service_ports = true;
  std::string self_app_id;  // never expose this app (baton's own)
  bool operator==(const TranslateOptions&) const = default;
};

// What an app's labels say (labels.h: readPortLabels per service port, checkAppLabels), with the
// issues raised reading them. Pure in the app: an unchanged app object reads the same.
struct AppLabels {
  std::vector<PortLabels> ports;  // by service port index
  std::vector<std::vector<conf::DiscoveryIssue>> port_issues;
  std::vector<conf::DiscoveryIssue> app_issues;
};

// What translate keeps from one call to the next so that an unchanged app costs no label reading
// and no host building. Per app id, its labels as read (10,000 apps' labels are ~74 M
// instructions, a third of a one-app resync's translate): reused for the same app object
// (parse_apps.h parseShared hands an unchanged app over as the same object) and for a new object
// with the same labels and number of service ports (all readPortLabels and checkAppLabels read
// besides the id: a scale or a redeploy changes only tasks), a deployment group's merged app
// (made anew each call) included. Per cluster, the app object it was built from, the per-task
// inputs that do not come from the app (include verdict, draining, resolved address) and the
// hosts built. When all of them are the same, the cluster gets the very same shared host list
// (conf::HostList), which the server's comparisons and the snapshot's cluster reuse then
// recognise without comparing hosts. Only clusters whose build reported no issue are kept. Owned
// by the caller (the discovery manager), used on the control thread; the output is the same as
// without a cache.
struct TranslateCache {
  struct AppEntry {
    // The app read (its id is the key's storage); for a deployment group's merged app, made
    // anew each call, a copy of its id, labels and service ports.
    std::shared_ptr<const App> app;
    std::shared_ptr<const AppLabels> labels;
  };
  std::unordered_map<std::string_view, AppEntry> apps;  // by app id; the last call's apps only
  struct Entry {
    std::shared_ptr<const App> app;  // held: the address stays this app's while cached
    size_t index = 0;                // service port index
    std::string inputs;
    std::shared_ptr<const std::vector<conf::HostSpec>> hosts;
  };
  std::unordered_map<std::string, Entry> clusters;  // by cluster name; the last call's only
  // The outputs made from the port plans alone (listeners, vhosts, certificates and the issues
  // raised making them; half or more of a 10,000-app translate), with the plans they were made
  // from. A call whose plans are the same (the same options; per plan, in order, the very same
  // cached PortLabels, service port, listen port, mode and whether it starts its App) takes them
  // as they are: a scale, a redeploy or a health change moves only hosts. A PortLabels is only
  // ever read for one app id, so the same one means the same app id, and `labels` holds them so
  // that no address is reused meanwhile.
  struct PlanOutputs {
    struct Plan {
      const PortLabels* labels = nullptr;
      uint16_t service_port = 0;
      uint16_t listen_port = 0;
      conf::ListenerKind mode = conf::ListenerKind::Http;
      // The first plan of its App object: the app-id vhosts are one per App, and a document
      // naming an id twice gives two Apps the same cached labels.
      bool first_of_app = false;
      bool operator==(const Plan&) const = default;
    };
    TranslateOptions options;
    std::vector<Plan> plans;
    std::vector<std::shared_ptr<const AppLabels>> labels;
    conf::SharedList<conf::ListenerSpec> listeners;
    conf::SharedList<conf::VirtualHostSpec> vhosts;
    conf::SharedList<conf::CertificateSpec> certificates;
    std::vector<conf::DiscoveryIssue> issues;
  };
  std::shared_ptr<const PlanOutputs> plan_outputs;  // null: none kept yet
  // The call before's map, left for the caller to free where it likes (the discovery manager
  // frees it on its Reclaimer's thread): its entries hold the previous document's apps.
  std::unordered_map<std::string, Entry> retired;
  // The last call's working state (per-port plans, the call before's labels, name sets: ~13 M
  // instructions of destructors for 10,000 apps; replaced plan outputs), left to be freed the
  // same way.
  std::shared_ptr<void> retired_work;
};

struct TranslateContext {
  // Numeric IP for a task host ("10.0.6.25" or an agent name); nullopt = unresolved (the task is
  // skipped this round and an issue reported). Tests pass a lambda.
  std::function<std::optional<std::string>(std::string_view host)> resolve;
  // Routable state + health (the caller combines isRoutable and HealthVerdicts); true = include.
  // Unset = every task. For a deployment group the App is the merged "/<group>" app (the new
  // colour's labels and health checks, the tasks of both colours).
  std::function<bool(const App&, const Task&)> include;
  // Task ids the caller wants drained now (fast path: TASK_KILLING / unhealthy kill events).
  const std::unordered_set<std::string>* draining = nullptr;
  // In/out: task ids drained by a deployment-group cutover; a drained task stays drained until it
  // is gone (pruned when absent from `apps`). See marathon.md §4.2 "Measured flaw".
  std::unordered_set<std::string>* deployment_drained = nullptr;
  // In/out, may be null (no reuse): see TranslateCache. Used with the shared-apps overload only.
  TranslateCache* cache = nullptr;
  // Host lists to build totalling this many tasks or more are built on two threads (the second
  // thread is started and joined inside translate; the callbacks above stay on the caller's).
  size_t parallel_hosts_from = 20000;
  // The same for reading the labels of this many apps or more.
  size_t parallel_labels_from = 2000;
};

conf::DiscoveredSpec translate(const std::vector<App>& apps, const TranslateOptions& options,
                               TranslateContext& context);
// The same for apps shared between documents (parse_apps.h parseShared), using context.cache.
conf::DiscoveredSpec translate(const std::vector<std::shared_ptr<const App>>& apps,
                               const TranslateOptions& options, TranslateContext& context);

// marathon-lb's backend name: "/shop/web" + 10300 -> "shop_web_10300".
std::string backendName(std::string_view app_id, uint16_t service_port);

// marathon-lb's server name: "<host>_<ip>_<port>", or "<ip>_<port>" when host == ip, every
// non-alphanumeric byte replaced by '_' (zdd.py parses these from the stats CSV).
std::string serverName(std::string_view host, std::string_view ip, uint16_t port);

// baton's own active health check of service port `index` (issue 8), from the app's
// healthChecks as marathon-lb picks them (the first with an explicit port, which then covers
// every port, else the one whose portIndex is `index`): HTTP / MESOS_HTTP -> http, HTTPS /
// MESOS_HTTPS -> https, TCP / MESOS_TCP -> tcp; path, port, intervalSeconds, timeoutSeconds,
// gracePeriodSeconds; maxConsecutiveFailures -> unhealthy_threshold (at least 1); healthy
// after 2 passes; statuses 200-399 pass (Marathon's rule). COMMAND checks run inside the task:
// none. Labels: BATON_{n}_HEALTH_CHECK=off -> none; _PATH and _INTERVAL override.
std::optional<conf::HealthCheckSpec> healthCheckSpecFor(const App& app, size_t index,
                                                        const PortLabels& labels);

}  // namespace baton::discovery
