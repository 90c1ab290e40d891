// marathon-lb labels (HAPROXY_*) and baton's own (BATON_*), read into typed per-port settings.
//
// translate.h calls readPortLabels() once per (app, service port index) and checkAppLabels()
// once per app, on the control thread. Pure functions: every problem becomes a DiscoveryIssue
// (marathon.md §3; a label is never dropped silently). Values follow marathon-lb's parsing:
// booleans accept "true,t,yes,y" in any case, lists are comma-separated and trimmed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config_spec.h"
#include "discovery/model/app.h"

namespace baton::discovery {

// marathon-lb's string_to_bool: "true", "t", "yes", "y" in any case; everything else is false.
bool parseMlbBool(std::string_view value);

// Splits on `sep`, trims ASCII whitespace, drops empty items.
std::vector<std::string> splitTrimmed(std::string_view value, char sep);

// The labels of one service port, already validated.
struct PortLabels {
  std::vector<std::string> groups;  // HAPROXY_{n}_GROUP, else HAPROXY_GROUP ([] = no group)
  std::optional<bool> enabled;      // HAPROXY_{n}_ENABLED
  std::vector<std::string> vhosts;  // lower-cased, trimmed, syntax-checked
  std::vector<std::string> paths;   // HAPROXY_{n}_PATH prefixes (flags removed)
  std::optional<int64_t> backend_weight;
  std::optional<uint16_t> port;            // HAPROXY_{n}_PORT
  std::string bind_addr;                   // HAPROXY_{n}_BIND_ADDR ("" = the default)
  std::optional<conf::ListenerKind> mode;  // HAPROXY_{n}_MODE (unset when absent or invalid)
  conf::LbPolicyKind balance = conf::LbPolicyKind::RoundRobin;
  bool sticky = false;
  bool redirect_to_https = false;
  bool hsts = false;
  std::optional<conf::BasicAuthSpec> auth;
  std::string proxypass_path;                // HTTP_BACKEND_PROXYPASS_PATH
  std::string revproxy_path;                 // HTTP_BACKEND_REVPROXY_PATH
  std::string redirect_root_to;              // HTTP_BACKEND_REDIR
  std::vector<std::string> allowed_sources;  // canonical CIDRs
  conf::TimeoutOverrides timeouts;
  // BATON_{n}_RETRY_ON ("reset,503", "5xx", "none"), BATON_{n}_RETRIES (0..8): the cluster's
  // retry policy (conf::RetryPolicySpec; unset labels keep its defaults).
  conf::RetryPolicySpec retry;
  // BATON_{n}_MAX_CONNECTIONS, _MAX_PENDING, _MAX_REQUESTS: circuit breaking (0 = no limit).
  conf::CircuitLimitsSpec limits;
  bool websocket = true;  // BATON_{n}_WEBSOCKET (HAProxy tunnelled upgrades on every backend)
  // BATON_{n}_ACCESS_LOG: all (default), errors or off: which of the port's requests the access
  // log gets (what marathon-lb users did with template overrides).
  conf::AccessLogMode access_log = conf::AccessLogMode::All;
  // BATON_{n}_PROTO: http1 (default), h2c or h2 (TLS, ALPN h2, certificate verified against
  // the system store) toward the tasks: gRPC apps need h2c or h2.
  conf::UpstreamProtocol protocol = conf::UpstreamProtocol::Http1;
  // With BATON_{n}_PROTO=h2: BATON_{n}_TLS_VERIFY (true/false), _TLS_CA_FILE (an absolute PEM
  // path on baton's host), _TLS_SERVER_NAME (the DNS name the tasks' certificate carries, sent
  // as SNI and verified instead of each task's IP address).
  bool tls_verify = true;
  std::string tls_ca_file;
  std::string tls_server_name;
  // HAPROXY_{n}_SSL_CERT: combined PEM files on baton's host (absolute paths, comma-separated);
  // the port's own listener terminates TLS with them and the :443 listener offers them by SNI.
  std::vector<std::string> ssl_certs;
  // Active health checks from the app's healthChecks (translate.h): BATON_{n}_HEALTH_CHECK=off
  // turns them off for this port; _PATH and _INTERVAL (seconds, "0.5", or "200ms") override.
  bool health_check = true;
  std::string health_check_path;                        // "" = the check's own
  std::optional<conf::Duration> health_check_interval;  // unset = the check's own
  // Passive outlier ejection (on by default, as for configured clusters): BATON_{n}_OUTLIER=off,
  // _OUTLIER_CONSECUTIVE (failures in a row, 1..1000), _OUTLIER_BASE_EJECTION (seconds or a
  // duration such as "500ms"; max_ejection grows to it when it is larger).
  conf::OutlierSpec outlier;
  // A security label (AUTH, BACKEND_NETWORK_ALLOWED_ACL) is malformed: the port must not be
  // exposed at all, since serving it without the check would fail open.
  bool fail_closed = false;
};

// Asset pinning labels of one app of a deployment group (asset-pinning.md §1), per version.
// Read by mergeDeploymentGroups (deployment_group.h) for every app of a group.
struct PinVersionLabels {
  std::string version;   // BATON_PIN_VERSION when valid ([A-Za-z0-9._-]{1,64}), else ""
  std::string manifest;  // BATON_PIN_MANIFEST when a valid absolute path, else ""
};
PinVersionLabels readPinVersionLabels(const App& app, std::vector<conf::DiscoveryIssue>& issues);

// Per group, read from the group's newest app: BATON_PIN_MODE (off | assets | full, any case;
// else an issue and assets), BATON_PIN_CACHE_CAP (true/false words as BATON_{n}_WEBSOCKET;
// else an issue and unset, i.e. [pinning] cache_cap), and the two that make the CDN version the
// same on every baton instance (issue 10; routing/README.md "Several instances"):
// BATON_PIN_CDN_VERSION (a version id as BATON_PIN_VERSION: the CDN version while that version
// is live) and BATON_PIN_CDN_MAX_FRESH (seconds, or a duration such as "5m": the longest
// shared-cache lifetime the group's unhashed files and documents are served with; the flip hold
// then ends at the cutover's start + that, a deadline every instance computes alike).
struct PinGroupLabels {
  conf::PinMode mode = conf::PinMode::Assets;
  std::optional<bool> cache_cap;
  std::string cdn_version;                  // "" = none (or invalid: an issue)
  std::optional<int64_t> cdn_max_fresh_ms;  // unset = none (or invalid: an issue)
};
PinGroupLabels readPinGroupLabels(const App& app, std::vector<conf::DiscoveryIssue>& issues);

// Reads the labels of service port `index`. Value errors are appended to `issues`. Reads the
// app's id, labels and number of service ports only, as does checkAppLabels: translate.h's
// TranslateCache reuses the result for any app object equal in those.
PortLabels readPortLabels(const App& app, size_t index, std::vector<conf::DiscoveryIssue>& issues);

// One issue per label baton does not apply: unsupported (BIND_OPTIONS,
// BACKEND_HEALTHCHECK_PORT_INDEX), template overrides (with the BATON_{n}_* label that replaces
// their usual use where there is one), unknown HAPROXY_* / BATON_* names, and BATON_PIN_* on an
// app outside a deployment group (pinning needs HAPROXY_DEPLOYMENT_GROUP).
void checkAppLabels(const App& app, std::vector<conf::DiscoveryIssue>& issues);

}  // namespace baton::discovery
