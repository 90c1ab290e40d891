#include "discovery/model/labels.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/loader.h"
#include "conf/value_syntax.h"

namespace baton::discovery {

// BATON_{n}_WEBSOCKET (true/false, default true) -> RouteSpec::websocket. Declared here and in
// translate.cc: labels.h is outside this change (it should declare them next to readPortLabels).

namespace {

using conf::DiscoveryIssue;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
std::optional<T> parseInt(std::string_view s) {
  s = trim(s);
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A pinned version id: it travels in cookies, headers and ?dpl= tokens unescaped.
bool isVersionId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// Reads one label of port `index`; the helpers below each own one label.
class PortReader {
 public:
  PortReader(const App& app, size_t index, std::vector<DiscoveryIssue>& issues)
      : app_(app),
        prefix_("HAPROXY_" + std::to_string(index) + "_"),
        baton_prefix_("BATON_" + std::to_string(index) + "_"),
        issues_(issues) {
    collect(prefix_, labels_);
    collect(baton_prefix_, baton_labels_);
  }

  const std::string* get(std::string_view key) const { return find(labels_, key); }
  const std::string* getBaton(std::string_view key) const { return find(baton_labels_, key); }
  std::string name(std::string_view key) const { return prefix_ + std::string(key); }
  std::string batonName(std::string_view key) const { return baton_prefix_ + std::string(key); }
  void issue(std::string subject, std::string message) const {
    issues_.push_back(DiscoveryIssue{app_.id, std::move(subject), std::move(message)});
  }
  const App& app() const { return app_; }

 private:
  // A port's labels by the key after its prefix ("VHOST" of "HAPROXY_0_VHOST"). The readers
  // below ask for some forty keys per port while an app carries a handful of labels: one walk
  // of the sorted map's prefix range here instead of forty string-building lookups (the labels
  // were a fifth of a 100,000-task resync's translation).
  using Found = std::vector<std::pair<std::string_view, const std::string*>>;

  void collect(const std::string& prefix, Found& out) const {
    for (auto it = app_.labels.lower_bound(prefix);
         it != app_.labels.end() && it->first.starts_with(prefix); ++it) {
      out.emplace_back(std::string_view(it->first).substr(prefix.size()), &it->second);
    }
  }
  static const std::string* find(const Found& found, std::string_view key) {
    for (const auto& [suffix, value] : found) {
      if (suffix == key) return value;
    }
    return nullptr;
  }

  const App& app_;
  std::string prefix_;
  std::string baton_prefix_;
  Found labels_;
  Found baton_labels_;
  std::vector<DiscoveryIssue>& issues_;
};

void readGroups(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.get("GROUP")) {
    out.groups = splitTrimmed(*v, ',');
  } else if (const auto it = r.app().labels.find("HAPROXY_GROUP"); it != r.app().labels.end()) {
    out.groups = splitTrimmed(it->second, ',');
  }
}

void readVhosts(const PortReader& r, PortLabels& out) {
  const std::string* v = r.get("VHOST");
  if (v == nullptr) return;
  for (const std::string& item : splitTrimmed(lower(*v), ',')) {
    auto domain = conf::normaliseDomain(item);
    if (!domain || *domain == "*") {
      r.issue(r.name("VHOST"), "invalid virtual host \"" + item + "\"; ignored");
      continue;
    }
    if (std::find(out.vhosts.begin(), out.vhosts.end(), *domain) == out.vhosts.end()) {
      out.vhosts.push_back(std::move(*domain));
    }
  }
}

void readPaths(const PortReader& r, PortLabels& out) {
  const std::string* v = r.get("PATH");
  if (v == nullptr) return;
  for (const std::string& item : splitTrimmed(*v, ' ')) {
    if (item.starts_with('-')) {
      r.issue(r.name("PATH"), "HAProxy flag \"" + item + "\" is not supported; ignored");
    } else if (!conf::checkRoutePrefix(item)) {
      r.issue(r.name("PATH"), "invalid path prefix \"" + item + "\"; ignored");
    } else {
      out.paths.push_back(item);
    }
  }
}

void readNumbers(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.get("BACKEND_WEIGHT")) {
    out.backend_weight = parseInt<int64_t>(*v);
    if (!out.backend_weight) r.issue(r.name("BACKEND_WEIGHT"), "not an integer; ignored");
  }
  if (const std::string* v = r.get("PORT")) {
    out.port = parseInt<uint16_t>(*v);
    if (!out.port || *out.port == 0) {
      out.port.reset();
      r.issue(r.name("PORT"), "not a port number 1..65535; ignored");
    }
  }
  if (const std::string* v = r.get("BIND_ADDR")) {
    const std::string_view addr = trim(*v);
    if (addr != "*") out.bind_addr = std::string(addr);
  }
}

void readModeAndBalance(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.get("MODE")) {
    const std::string mode = lower(trim(*v));
    if (mode == "http") {
      out.mode = conf::ListenerKind::Http;
    } else if (mode == "tcp") {
      out.mode = conf::ListenerKind::Tcp;
    } else {
      r.issue(r.name("MODE"), "expected http or tcp; using the default mode");
    }
  }
  if (const std::string* v = r.get("BALANCE")) {
    const std::string balance = lower(trim(*v));
    if (balance == "leastconn") {
      out.balance = conf::LbPolicyKind::LeastRequest;
    } else if (balance == "source") {
      out.balance = conf::LbPolicyKind::SourceHash;
    } else if (balance != "roundrobin") {
      r.issue(r.name("BALANCE"), "\"" + balance +
                                     "\" is not supported (roundrobin, leastconn, source); "
                                     "using roundrobin");
    }
  }
}

// A path-valued action; a bad one is ignored (with an issue) rather than handed to the proxy.
void readPathLabel(const PortReader& r, std::string_view key, std::string& out) {
  const std::string* v = r.get(key);
  if (v == nullptr) return;
  const std::string_view path = trim(*v);
  if (!conf::checkRoutePrefix(path)) {
    r.issue(r.name(key), "\"" + std::string(path) + "\" is not a path; ignored");
    return;
  }
  out = std::string(path);
}

void readFlags(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.get("ENABLED")) out.enabled = parseMlbBool(*v);
  if (const std::string* v = r.get("STICKY")) out.sticky = parseMlbBool(*v);
  if (const std::string* v = r.get("REDIRECT_TO_HTTPS")) out.redirect_to_https = parseMlbBool(*v);
  if (const std::string* v = r.get("USE_HSTS")) out.hsts = parseMlbBool(*v);
  readPathLabel(r, "HTTP_BACKEND_PROXYPASS_PATH", out.proxypass_path);
  readPathLabel(r, "HTTP_BACKEND_REVPROXY_PATH", out.revproxy_path);
  readPathLabel(r, "HTTP_BACKEND_REDIR", out.redirect_root_to);
}

// Certificate files are read by baton's TLS code, which reports a file it cannot load; here only
// the form is checked (a relative path would depend on baton's working directory).
void readSslCerts(const PortReader& r, PortLabels& out) {
  const std::string* v = r.get("SSL_CERT");
  if (v == nullptr) return;
  for (std::string& path : splitTrimmed(*v, ',')) {
    if (path.empty()) continue;
    if (path.front() != '/') {
      r.issue(r.name("SSL_CERT"), "\"" + path + "\" is not an absolute path; ignored");
      continue;
    }
    out.ssl_certs.push_back(std::move(path));
  }
}

// "realm:user:crypt-hash", split on the first two ':' (a crypt hash has no ':').
void readAuth(const PortReader& r, PortLabels& out) {
  const std::string* v = r.get("AUTH");
  if (v == nullptr) return;
  const size_t a = v->find(':');
  const size_t b = a == std::string::npos ? a : v->find(':', a + 1);
  if (b == std::string::npos || a == 0 || b == a + 1 || b + 1 == v->size()) {
    out.fail_closed = true;
    r.issue(r.name("AUTH"), "expected \"realm:user:crypt-hash\"; port not exposed");
    return;
  }
  conf::BasicAuthSpec auth;
  auth.realm = v->substr(0, a);
  auth.users.push_back({v->substr(a + 1, b - a - 1), v->substr(b + 1)});
  out.auth = std::move(auth);
}

void readAcl(const PortReader& r, PortLabels& out) {
  const std::string* v = r.get("BACKEND_NETWORK_ALLOWED_ACL");
  if (v == nullptr) return;
  for (const std::string& item : splitTrimmed(*v, ' ')) {
    auto cidr = conf::normaliseCidr(item);
    if (!cidr) {
      out.fail_closed = true;
      r.issue(r.name("BACKEND_NETWORK_ALLOWED_ACL"),
              "invalid address or CIDR \"" + item + "\"; port not exposed");
      return;
    }
    out.allowed_sources.push_back(std::move(*cidr));
  }
  if (out.allowed_sources.empty()) {
    out.fail_closed = true;
    r.issue(r.name("BACKEND_NETWORK_ALLOWED_ACL"), "empty allow-list; port not exposed");
  }
}

void readTimeout(const PortReader& r, std::string_view key, std::optional<conf::Duration>& out) {
  const std::string* v = r.getBaton(key);
  if (v == nullptr) return;
  auto d = conf::parseDuration(trim(*v));
  if (!d) {
    r.issue(r.batonName(key), "invalid duration: " + d.error().detail + "; ignored");
    return;
  }
  out = *d;
}

// A whole number 0..max; anything else is an issue and the value stays.
void readCount(const PortReader& r, std::string_view key, uint32_t max, uint32_t& out) {
  const std::string* v = r.getBaton(key);
  if (v == nullptr) return;
  const std::string_view text = trim(*v);
  uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n > max) {
    r.issue(r.batonName(key), "not a whole number 0.." + std::to_string(max) + "; ignored");
    return;
  }
  out = n;
}

// marathon-lb's true words, and their false counterparts; anything else is not a boolean.
std::optional<bool> booleanWord(std::string_view value) {
  const std::string_view v = trim(value);
  if (parseMlbBool(v)) return true;
  for (std::string_view word : {"false", "f", "no", "n"}) {
    if (v.size() == word.size() && std::equal(v.begin(), v.end(), word.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return false;
    }
  }
  return std::nullopt;
}

// BATON_{n}_WEBSOCKET: a word that is neither marathon-lb true nor false is an issue, and the
// default (allowed) stays.
void readWebSocket(const PortReader& r, PortLabels& out) {
  const std::string* v = r.getBaton("WEBSOCKET");
  if (v == nullptr) return;
  if (auto word = booleanWord(*v)) {
    out.websocket = *word;
  } else {
    r.issue(r.batonName("WEBSOCKET"), "not a boolean (true/false); WebSocket stays allowed");
  }
}

// BATON_{n}_ACCESS_LOG: all | errors | off, any case (marathon-lb's true/false words too:
// true = all, false = off). Anything else is an issue and every request stays logged.
void readAccessLog(const PortReader& r, PortLabels& out) {
  const std::string* v = r.getBaton("ACCESS_LOG");
  if (v == nullptr) return;
  const std::string word = lower(trim(*v));
  if (word == "all") {
    out.access_log = conf::AccessLogMode::All;
  } else if (word == "errors") {
    out.access_log = conf::AccessLogMode::Errors;
  } else if (word == "off") {
    out.access_log = conf::AccessLogMode::Off;
  } else if (auto flag = booleanWord(*v)) {
    out.access_log = *flag ? conf::AccessLogMode::All : conf::AccessLogMode::Off;
  } else {
    r.issue(r.batonName("ACCESS_LOG"),
            "\"" + *v + "\" is not all, errors or off; every request stays logged");
  }
}

// BATON_{n}_PROTO: http1 | h2c | h2, any case. Anything else is an issue and the port stays
// HTTP/1 (a backend that speaks only HTTP/2 then fails visibly, 502, never silently).
void readProto(const PortReader& r, PortLabels& out) {
  const std::string* v = r.getBaton("PROTO");
  if (v == nullptr) return;
  const std::string word = lower(trim(*v));
  if (word == "http1") {
    out.protocol = conf::UpstreamProtocol::Http1;
  } else if (word == "h2c") {
    out.protocol = conf::UpstreamProtocol::H2c;
  } else if (word == "h2") {
    out.protocol = conf::UpstreamProtocol::H2;
  } else {
    r.issue(r.batonName("PROTO"), "not one of http1, h2c, h2; the port stays http1");
  }
}

// BATON_{n}_TLS_VERIFY, _TLS_CA_FILE, _TLS_SERVER_NAME: how an h2 port's tasks are verified.
// On another protocol they would be silently meaningless: an issue, ignored.
void readUpstreamTls(const PortReader& r, PortLabels& out) {
  for (const char* key : {"TLS_VERIFY", "TLS_CA_FILE", "TLS_SERVER_NAME"}) {
    if (r.getBaton(key) != nullptr && out.protocol != conf::UpstreamProtocol::H2) {
      r.issue(r.batonName(key), "only with BATON_{n}_PROTO=h2; ignored");
      return;
    }
  }
  if (const std::string* v = r.getBaton("TLS_VERIFY")) {
    if (auto word = booleanWord(*v)) {
      out.tls_verify = *word;
    } else {
      r.issue(r.batonName("TLS_VERIFY"), "not a boolean (true/false); certificates stay verified");
    }
  }
  if (const std::string* v = r.getBaton("TLS_CA_FILE")) {
    const std::string_view path = trim(*v);
    if (path.starts_with('/')) {
      out.tls_ca_file = std::string(path);
    } else {
      r.issue(r.batonName("TLS_CA_FILE"), "not an absolute path; the system trust store is used");
    }
  }
  if (const std::string* v = r.getBaton("TLS_SERVER_NAME")) {
    if (auto name = conf::normaliseDnsName(trim(*v))) {
      out.tls_server_name = std::move(*name);
    } else {
      r.issue(r.batonName("TLS_SERVER_NAME"),
              name.error().detail + "; the task's address is verified");
    }
  }
}

// on/true/yes/1 or off/false/no/0, any case; anything else is nullopt.
std::optional<bool> onOffWord(std::string_view value) {
  const std::string word = lower(trim(value));
  if (word == "on" || word == "true" || word == "yes" || word == "1") return true;
  if (word == "off" || word == "false" || word == "no" || word == "0") return false;
  return std::nullopt;
}

// Seconds (fractions allowed, up to a day) or a duration with its unit ("500ms"), > 0.
std::optional<conf::Duration> positiveSecondsOrDuration(std::string_view value) {
  const std::string_view text = trim(value);
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  std::optional<conf::Duration> out;
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds > 0 && seconds <= 86'400)
      out = conf::Duration(static_cast<int64_t>(seconds * 1000));
  } else if (auto d = conf::parseDuration(text)) {
    out = *d;
  }
  if (!out || out->count() <= 0) return std::nullopt;
  return out;
}

// BATON_{n}_HEALTH_CHECK (on/off words), _PATH (a request path), _INTERVAL (seconds, fractions
// allowed, or a duration with its unit). A bad value is an issue and the check's own stays.
void readHealthCheck(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.getBaton("HEALTH_CHECK")) {
    const std::optional<bool> on = onOffWord(*v);
    if (on == false) {
      out.health_check = false;
    } else if (!on) {
      r.issue(r.batonName("HEALTH_CHECK"), "not on/off; the app's health check stays");
    }
  }
  if (const std::string* v = r.getBaton("HEALTH_CHECK_PATH")) {
    const std::string_view path = trim(*v);
    if (conf::checkRoutePrefix(path)) {
      out.health_check_path = std::string(path);
    } else {
      r.issue(r.batonName("HEALTH_CHECK_PATH"), "invalid path \"" + *v + "\"; ignored");
    }
  }
  if (const std::string* v = r.getBaton("HEALTH_CHECK_INTERVAL")) {
    if (const auto interval = positiveSecondsOrDuration(*v)) {
      out.health_check_interval = interval;
    } else {
      r.issue(r.batonName("HEALTH_CHECK_INTERVAL"),
              "not a positive number of seconds (or a duration such as \"500ms\"); ignored");
    }
  }
}

// BATON_{n}_OUTLIER (on/off words), _OUTLIER_CONSECUTIVE (1..1000), _OUTLIER_BASE_EJECTION
// (seconds, fractions allowed, or a duration with its unit). A bad value is an issue and the
// default stays.
void readOutlier(const PortReader& r, PortLabels& out) {
  if (const std::string* v = r.getBaton("OUTLIER")) {
    const std::optional<bool> on = onOffWord(*v);
    if (on == false) {
      out.outlier.consecutive_failures = 0;
      out.outlier.consecutive_5xx = 0;
      return;  // the other two mean nothing now
    }
    if (!on) {
      r.issue(r.batonName("OUTLIER"), "not on/off; outlier ejection stays on");
    }
  }
  uint32_t consecutive = out.outlier.consecutive_failures;
  readCount(r, "OUTLIER_CONSECUTIVE", 1000, consecutive);
  if (consecutive == 0) {
    r.issue(r.batonName("OUTLIER_CONSECUTIVE"), "must be 1..1000 (use _OUTLIER=off); ignored");
  } else {
    out.outlier.consecutive_failures = consecutive;
  }
  if (const std::string* v = r.getBaton("OUTLIER_BASE_EJECTION")) {
    if (const auto base = positiveSecondsOrDuration(*v)) {
      out.outlier.base_ejection = *base;
      out.outlier.max_ejection = std::max(out.outlier.max_ejection, *base);
    } else {
      r.issue(r.batonName("OUTLIER_BASE_EJECTION"),
              "not a positive number of seconds (or a duration such as \"500ms\"); ignored");
    }
  }
}

void readTimeouts(const PortReader& r, PortLabels& out) {
  readTimeout(r, "TIMEOUT_CONNECT", out.timeouts.upstream_connect);
  readTimeout(r, "TIMEOUT_SERVER", out.timeouts.upstream_first_byte);
  readTimeout(r, "TIMEOUT_BODY_IDLE", out.timeouts.body_idle);
  readTimeout(r, "TIMEOUT_TUNNEL", out.timeouts.tunnel_idle);
}

// BATON_{n}_RETRY_ON: comma-separated conditions (conf::addRetryCondition) or "none"; a bad
// list is an issue and the default policy stays whole. BATON_{n}_RETRIES: 0..8.
void readRetryOn(const PortReader& r, PortLabels& out) {
  const std::string* v = r.getBaton("RETRY_ON");
  if (v == nullptr) return;
  conf::RetryPolicySpec parsed;
  parsed.on_reset = false;
  const std::string list = lower(trim(*v));
  if (list != "none") {
    for (const std::string& item : splitTrimmed(list, ',')) {
      if (auto added = conf::addRetryCondition(item, parsed.on_reset, parsed.statuses); !added) {
        r.issue(r.batonName("RETRY_ON"), added.error().detail + "; the default policy stays");
        return;
      }
    }
  }
  out.retry.on_reset = parsed.on_reset;
  out.retry.statuses = std::move(parsed.statuses);
}

void readRetry(const PortReader& r, PortLabels& out) {
  readRetryOn(r, out);
  readCount(r, "RETRIES", 8, out.retry.retries);
}

void readCircuitLimits(const PortReader& r, PortLabels& out) {
  readCount(r, "MAX_CONNECTIONS", 10'000'000, out.limits.max_connections);
  readCount(r, "MAX_PENDING", 10'000'000, out.limits.max_pending);
  readCount(r, "MAX_REQUESTS", 10'000'000, out.limits.max_requests);
}

// Per-port label suffixes baton applies (HAPROXY_{n}_<key>).
constexpr std::array kKnownPortKeys = {
    "GROUP",
    "ENABLED",
    "VHOST",
    "PATH",
    "BACKEND_WEIGHT",
    "PORT",
    "BIND_ADDR",
    "MODE",
    "BALANCE",
    "STICKY",
    "REDIRECT_TO_HTTPS",
    "USE_HSTS",
    "SSL_CERT",
    "AUTH",
    "HTTP_BACKEND_PROXYPASS_PATH",
    "HTTP_BACKEND_REVPROXY_PATH",
    "HTTP_BACKEND_REDIR",
    "BACKEND_NETWORK_ALLOWED_ACL",
};
constexpr std::array kBatonPortKeys = {"TIMEOUT_CONNECT",
                                       "TIMEOUT_SERVER",
                                       "TIMEOUT_BODY_IDLE",
                                       "TIMEOUT_TUNNEL",
                                       "WEBSOCKET",
                                       "ACCESS_LOG",
                                       "PROTO",
                                       "HEALTH_CHECK",
                                       "HEALTH_CHECK_PATH",
                                       "HEALTH_CHECK_INTERVAL",
                                       "RETRY_ON",
                                       "RETRIES",
                                       "MAX_CONNECTIONS",
                                       "MAX_PENDING",
                                       "MAX_REQUESTS",
                                       "TLS_VERIFY",
                                       "TLS_CA_FILE",
                                       "TLS_SERVER_NAME",
                                       "OUTLIER",
                                       "OUTLIER_CONSECUTIVE",
                                       "OUTLIER_BASE_EJECTION"};
// App-level BATON_ labels: asset pinning of a deployment group's versions.
constexpr std::array kBatonAppLabels = {"BATON_PIN_VERSION",     "BATON_PIN_MODE",
                                        "BATON_PIN_MANIFEST",    "BATON_PIN_CACHE_CAP",
                                        "BATON_PIN_CDN_VERSION", "BATON_PIN_CDN_MAX_FRESH"};
constexpr std::array kKnownAppLabels = {
    "HAPROXY_GROUP",
    "HAPROXY_APP_ID",
    "HAPROXY_DEPLOYMENT_GROUP",
    "HAPROXY_DEPLOYMENT_ALT_PORT",
    "HAPROXY_DEPLOYMENT_COLOUR",
    "HAPROXY_DEPLOYMENT_STARTED_AT",
    "HAPROXY_DEPLOYMENT_TARGET_INSTANCES",
    "HAPROXY_DEPLOYMENT_NEW_INSTANCES",
};

template <size_t N>
bool contains(const std::array<const char*, N>& keys, std::string_view key) {
  return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; });
}

// "HAPROXY_12_VHOST" -> "VHOST" when `label` is "<prefix><digits>_<key>"; nullopt otherwise.
std::optional<std::string_view> portKey(std::string_view label, std::string_view prefix) {
  if (!label.starts_with(prefix)) return std::nullopt;
  label.remove_prefix(prefix.size());
  size_t digits = 0;
  while (digits < label.size() && std::isdigit(static_cast<unsigned char>(label[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits >= label.size() || label[digits] != '_') return std::nullopt;
  return label.substr(digits + 1);
}

// The {n} of a per-port label ("HAPROXY_12_VHOST" -> 12); nullopt for app-level labels.
std::optional<size_t> portIndex(std::string_view label) {
  const size_t start = label.find('_') + 1;
  size_t n = 0;
  const auto [end, ec] = std::from_chars(label.data() + start, label.data() + label.size(), n);
  if (ec != std::errc() || end == label.data() + start) return std::nullopt;
  return n;
}

// Why a template-override label is ignored, and what replaces its usual use.
std::string templateMessage(std::string_view key) {
  std::string msg = "HAProxy template overrides are not supported; label ignored";
  if (key.starts_with("BACKEND") || key.starts_with("FRONTEND")) {
    msg +=
        " (per-app timeouts: BATON_{n}_TIMEOUT_CONNECT, _SERVER, _BODY_IDLE, _TUNNEL; per-app "
        "access logs: BATON_{n}_ACCESS_LOG=all|errors|off)";
  }
  return msg;
}

std::string unsupportedMessage(std::string_view key) {
  if (key == "BIND_OPTIONS") return "bind options are not supported yet; label ignored";
  return "health checks through another port are not supported yet; label ignored";
}

bool isTemplateKey(std::string_view key) {
  constexpr std::array kTemplatePrefixes = {"FRONTEND_HEAD",
                                            "BACKEND_HEAD",
                                            "FRONTEND_BACKEND_GLUE",
                                            "BACKEND_HTTP_OPTIONS",
                                            "BACKEND_HTTP_HEALTHCHECK_OPTIONS",
                                            "BACKEND_TCP_HEALTHCHECK_OPTIONS",
                                            "BACKEND_SERVER_",
                                            "BACKEND_STICKY_OPTIONS",
                                            "BACKEND_HSTS_OPTIONS",
                                            "BACKEND_REDIRECT_HTTP_TO_HTTPS",
                                            "HTTP_BACKEND_PROXYPASS_GLUE",
                                            "HTTP_BACKEND_REVPROXY_GLUE",
                                            "HTTP_BACKEND_NETWORK_ALLOWED_ACL",
                                            "TCP_BACKEND_NETWORK_ALLOWED_ACL",
                                            "USERLIST_HEAD",
                                            "HTTP_FRONTEND_",
                                            "HTTPS_FRONTEND_",
                                            "MAP_HTTP_FRONTEND_",
                                            "MAP_HTTPS_FRONTEND_"};
  return std::any_of(kTemplatePrefixes.begin(), kTemplatePrefixes.end(),
                     [&](const char* p) { return key.starts_with(p); });
}

std::optional<std::string> haproxyLabelIssue(std::string_view label) {
  if (contains(kKnownAppLabels, label)) return std::nullopt;
  const auto key = portKey(label, "HAPROXY_");
  if (!key) return "unknown marathon-lb label; ignored";
  if (contains(kKnownPortKeys, *key)) return std::nullopt;
  if (*key == "BIND_OPTIONS" || *key == "BACKEND_HEALTHCHECK_PORT_INDEX") {
    return unsupportedMessage(*key);
  }
  if (isTemplateKey(*key)) return templateMessage(*key);
  return "unknown marathon-lb label; ignored";
}

}  // namespace

bool parseMlbBool(std::string_view value) {
  const std::string v = lower(trim(value));
  return v == "true" || v == "t" || v == "yes" || v == "y";
}

std::vector<std::string> splitTrimmed(std::string_view value, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(sep, start);
    if (end == std::string_view::npos) end = value.size();
    const std::string_view item = trim(value.substr(start, end - start));
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

namespace {

// BATON_PIN_CDN_MAX_FRESH: whole seconds 0..1 year (max-age's unit), or a duration ("5m").
std::optional<int64_t> pinFreshMs(std::string_view text) {
  constexpr int64_t kYearS = 365LL * 86'400;
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds < 0 || seconds > kYearS) return std::nullopt;
    return seconds * 1000;
  }
  auto d = conf::parseDuration(text);
  if (!d || d->count() > kYearS * 1000) return std::nullopt;
  return d->count();
}

}  // namespace

PinVersionLabels readPinVersionLabels(const App& app, std::vector<DiscoveryIssue>& issues) {
  PinVersionLabels out;
  const auto report = [&](const char* label, std::string message) {
    issues.push_back(DiscoveryIssue{app.id, label, std::move(message)});
  };
  if (const auto it = app.labels.find("BATON_PIN_VERSION"); it != app.labels.end()) {
    const std::string_view id = trim(it->second);
    if (isVersionId(id)) {
      out.version = std::string(id);
    } else {
      report("BATON_PIN_VERSION", "\"" + it->second +
                                      "\" is not 1..64 of [A-Za-z0-9._-]; using the id derived "
                                      "from the app id and lastConfigChangeAt");
    }
  }
  if (const auto it = app.labels.find("BATON_PIN_MANIFEST"); it != app.labels.end()) {
    const std::string_view path = trim(it->second);
    if (auto ok = conf::checkRedirectPath(path)) {
      out.manifest = std::string(path);
    } else {
      report("BATON_PIN_MANIFEST", ok.error().detail + "; ignored");
    }
  }
  return out;
}

PinGroupLabels readPinGroupLabels(const App& app, std::vector<DiscoveryIssue>& issues) {
  PinGroupLabels out;
  if (const auto it = app.labels.find("BATON_PIN_MODE"); it != app.labels.end()) {
    const std::string mode = lower(trim(it->second));
    if (mode == "off") {
      out.mode = conf::PinMode::Off;
    } else if (mode == "full") {
      out.mode = conf::PinMode::Full;
    } else if (mode != "assets") {
      issues.push_back(
          DiscoveryIssue{app.id, "BATON_PIN_MODE",
                         "\"" + it->second + "\" is not one of off, assets, full; using assets"});
    }
  }
  if (const auto it = app.labels.find("BATON_PIN_CACHE_CAP"); it != app.labels.end()) {
    out.cache_cap = booleanWord(it->second);
    if (!out.cache_cap) {
      issues.push_back(DiscoveryIssue{app.id, "BATON_PIN_CACHE_CAP",
                                      "not a boolean (true/false); [pinning] cache_cap applies"});
    }
  }
  if (const auto it = app.labels.find("BATON_PIN_CDN_VERSION"); it != app.labels.end()) {
    const std::string_view id = trim(it->second);
    if (isVersionId(id)) {
      out.cdn_version = std::string(id);
    } else {
      issues.push_back(
          DiscoveryIssue{app.id, "BATON_PIN_CDN_VERSION",
                         "\"" + it->second + "\" is not 1..64 of [A-Za-z0-9._-]; ignored"});
    }
  }
  if (const auto it = app.labels.find("BATON_PIN_CDN_MAX_FRESH"); it != app.labels.end()) {
    out.cdn_max_fresh_ms = pinFreshMs(trim(it->second));
    if (!out.cdn_max_fresh_ms) {
      issues.push_back(DiscoveryIssue{
          app.id, "BATON_PIN_CDN_MAX_FRESH",
          "not a number of seconds 0..31536000 (or a duration such as \"5m\"); ignored"});
    }
  }
  return out;
}

PortLabels readPortLabels(const App& app, size_t index, std::vector<DiscoveryIssue>& issues) {
  const PortReader r(app, index, issues);
  PortLabels out;
  readGroups(r, out);
  readFlags(r, out);
  readVhosts(r, out);
  readPaths(r, out);
  readNumbers(r, out);
  readModeAndBalance(r, out);
  readAuth(r, out);
  readAcl(r, out);
  readTimeouts(r, out);
  readWebSocket(r, out);
  readAccessLog(r, out);
  readProto(r, out);
  readUpstreamTls(r, out);
  readSslCerts(r, out);
  readHealthCheck(r, out);
  readOutlier(r, out);
  readRetry(r, out);
  readCircuitLimits(r, out);
  return out;
}

void checkAppLabels(const App& app, std::vector<DiscoveryIssue>& issues) {
  for (const auto& [label, value] : app.labels) {
    std::optional<std::string> problem;
    if (label.starts_with("HAPROXY_")) {
      problem = haproxyLabelIssue(label);
    } else if (contains(kBatonAppLabels, label)) {
      if (!app.labels.contains("HAPROXY_DEPLOYMENT_GROUP")) {
        problem =
            "asset pinning applies to deployment groups (HAPROXY_DEPLOYMENT_GROUP) only; "
            "label ignored";
      }
    } else if (label.starts_with("BATON_")) {
      const auto key = portKey(label, "BATON_");
      if (!key || !contains(kBatonPortKeys, *key)) problem = "unknown baton label; ignored";
    }
    const auto index = portIndex(label);
    if (!problem && index && *index >= app.service_ports.size()) {
      problem = "the app has no service port " + std::to_string(*index) + "; label ignored";
    }
    if (problem) issues.push_back(DiscoveryIssue{app.id, label, std::move(*problem)});
  }
}

}  // namespace baton::discovery
