// One pass over simdjson's DOM: simdjson validates the whole document (syntax, UTF-8, nesting)
// up front, then each app object is walked once, member by member, dispatching on the key.
// (parseShared runs the same walk on one app's DOM at a time: see "app spans" below.) The
// DOM rather than On-Demand because On-Demand only validates what it visits, and a document must
// be rejected as a whole when any part of it is malformed. Strings are copied once, into the
// result; paths for error messages are linked frames on the stack, rendered only on error.
#include "discovery/model/parse_apps.h"

#include <simdjson.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <latch>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "discovery/model/app_print.h"
#include "discovery/model/network.h"
#include "proxy/core/background_lane.h"

namespace baton::discovery {

namespace {

using core::Error;
using core::Result;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using Status = Result<void>;

// Propagates the error of a Status expression out of a function returning Status.
#define PARSE_TRY(expr)                                        \
  do {                                                         \
    if (auto parse_try_status_ = (expr); !parse_try_status_) { \
      return core::fail(std::move(parse_try_status_.error())); \
    }                                                          \
  } while (0)

// `key == name` for a literal `name`, compiled to a length test and one or two loads: member
// names are compared about a million times a resync, and the library's operator== was an
// out-of-line call each time.
template <size_t N>
bool is(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

constexpr uint64_t kU16Max = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

// Where a value sits in the document: `apps[3].tasks[0].ports[1]`. Each frame lives on the
// stack of the function reading that value; the string is built only for an error.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // member name; unused for an array index
  size_t index = 0;
  bool is_index = false;

  Path field(std::string_view k) const { return Path{this, k, 0, false}; }
  Path item(size_t i) const { return Path{this, {}, i, true}; }

  std::string str() const {
    std::string out = parent != nullptr ? parent->str() : std::string();
    if (is_index) return out + "[" + std::to_string(index) + "]";
    if (!out.empty()) out += '.';
    return out + std::string(key);
  }
};

std::unexpected<Error> bad(const Path& path, std::string_view what) {
  return core::fail(Error::config(path.str() + ": " + std::string(what)));
}

Status readString(element value, const Path& path, std::string_view& out) {
  if (value.get_string().get(out) != simdjson::SUCCESS) return bad(path, "expected a string");
  return {};
}

Status readString(element value, const Path& path, std::string& out) {
  std::string_view view;
  PARSE_TRY(readString(value, path, view));
  out.assign(view);
  return {};
}

Status readBool(element value, const Path& path, bool& out) {
  if (value.get_bool().get(out) != simdjson::SUCCESS) return bad(path, "expected a boolean");
  return {};
}

template <typename T>
Status readUint(element value, const Path& path, uint64_t max, T& out) {
  uint64_t n = 0;
  if (value.get_uint64().get(n) != simdjson::SUCCESS || n > max) {
    return bad(path, "expected an integer in 0.." + std::to_string(max));
  }
  out = static_cast<T>(n);
  return {};
}

Status readPort(element value, const Path& path, uint16_t& out) {
  return readUint(value, path, kU16Max, out);
}

Status readObject(element value, const Path& path, object& out) {
  if (value.get_object().get(out) != simdjson::SUCCESS) return bad(path, "expected an object");
  return {};
}

Status readArray(element value, const Path& path, array& out) {
  if (value.get_array().get(out) != simdjson::SUCCESS) return bad(path, "expected an array");
  return {};
}

// Calls fn(key, value, path) for every non-null member of an object value.
template <typename Fn>
Status forEachMember(element value, const Path& path, Fn&& fn) {
  object obj;
  PARSE_TRY(readObject(value, path, obj));
  for (auto [key, member] : obj) {
    if (member.is_null()) continue;
    PARSE_TRY(fn(key, member, path.field(key)));
  }
  return {};
}

// Calls fn(value, path) for every non-null item of an array value (a null item is skipped).
template <typename Fn>
Status forEachItem(element value, const Path& path, Fn&& fn) {
  array arr;
  PARSE_TRY(readArray(value, path, arr));
  size_t i = 0;
  for (element item : arr) {
    if (!item.is_null()) PARSE_TRY(fn(item, path.item(i)));
    ++i;
  }
  return {};
}

// ---- apps: simple fields ---------------------------------------------------------------------

Status readLabels(element value, const Path& path, std::map<std::string, std::string>& out) {
  return forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
    std::string_view text;
    PARSE_TRY(readString(v, p, text));
    out.insert_or_assign(std::string(key), std::string(text));
    return {};
  });
}

Status readHealthCheckMember(std::string_view key, element v, const Path& p, HealthCheck& hc) {
  if (is(key, "protocol")) return readString(v, p, hc.protocol);
  if (is(key, "path")) return readString(v, p, hc.path);
  if (is(key, "portIndex")) {
    uint32_t index = 0;
    PARSE_TRY(readUint(v, p, kU32Max, index));
    hc.port_index = index;
  } else if (is(key, "port")) {
    uint16_t port = 0;
    PARSE_TRY(readPort(v, p, port));
    hc.port = port;
  } else if (is(key, "intervalSeconds")) {
    return readUint(v, p, kU32Max, hc.interval_seconds);
  } else if (is(key, "timeoutSeconds")) {
    return readUint(v, p, kU32Max, hc.timeout_seconds);
  } else if (is(key, "maxConsecutiveFailures")) {
    return readUint(v, p, kU32Max, hc.max_consecutive_failures);
  } else if (is(key, "gracePeriodSeconds")) {
    return readUint(v, p, kU32Max, hc.grace_period_seconds);
  }
  return {};
}

Status readHealthChecks(element value, const Path& path, std::vector<HealthCheck>& out) {
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    HealthCheck hc;
    PARSE_TRY(forEachMember(item, p, [&](std::string_view k, element v, const Path& fp) -> Status {
      return readHealthCheckMember(k, v, fp, hc);
    }));
    out.push_back(std::move(hc));
    return {};
  });
}

Status readVersionInfo(element value, const Path& path, App& app) {
  return forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
    if (is(key, "lastScalingAt")) return readString(v, p, app.last_scaling_at);
    if (is(key, "lastConfigChangeAt")) return readString(v, p, app.last_config_change_at);
    return {};
  });
}

// ---- apps: network fields (into AppNetwork, resolved by network.h) ----------------------------

Status readPortMappings(element value, const Path& path, std::vector<PortMapping>& out) {
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    PortMapping mapping;
    PARSE_TRY(
        forEachMember(item, p, [&](std::string_view key, element v, const Path& fp) -> Status {
          if (is(key, "containerPort")) return readPort(v, fp, mapping.container_port);
          if (!is(key, "servicePort")) return Status{};
          uint16_t port = 0;
          PARSE_TRY(readPort(v, fp, port));
          mapping.service_port = port;
          return Status{};
        }));
    out.push_back(mapping);
    return {};
  });
}

Status readDocker(element value, const Path& path, AppNetwork& net) {
  return forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
    if (is(key, "portMappings")) return readPortMappings(v, p, net.docker_port_mappings);
    if (!is(key, "network")) return {};
    std::string_view name;
    PARSE_TRY(readString(v, p, name));
    net.docker_network = dockerNetworkMode(name);
    return {};
  });
}

Status readContainer(element value, const Path& path, AppNetwork& net) {
  return forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
    if (is(key, "docker")) return readDocker(v, p, net);
    if (is(key, "portMappings")) return readPortMappings(v, p, net.port_mappings);
    return {};
  });
}

Status readNetworks(element value, const Path& path, AppNetwork& net) {
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    NetworkMode mode = NetworkMode::Container;  // an entry without a mode is "container"
    PARSE_TRY(
        forEachMember(item, p, [&](std::string_view key, element v, const Path& fp) -> Status {
          if (!is(key, "mode")) return Status{};
          std::string_view name;
          PARSE_TRY(readString(v, fp, name));
          auto parsed = networkModeFromName(name);
          if (!parsed) return bad(fp, "unknown network mode \"" + std::string(name) + "\"");
          mode = *parsed;
          return Status{};
        }));
    net.last_networks_mode = mode;  // the last entry wins (Marathon forbids mixing modes)
    return {};
  });
}

Status readIpAddress(element value, const Path& path, AppNetwork& net) {
  net.has_ip_address = true;
  return forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
    if (!is(key, "discovery")) return {};
    return forEachMember(v, p, [&](std::string_view dkey, element dv, const Path& dp) -> Status {
      if (!is(dkey, "ports")) return {};
      return forEachItem(dv, dp, [&](element port, const Path& pp) -> Status {
        object obj;
        PARSE_TRY(readObject(port, pp, obj));
        element number;
        if (obj["number"].get(number) != simdjson::SUCCESS || number.is_null()) {
          return bad(pp.field("number"), "missing");
        }
        uint16_t n = 0;
        PARSE_TRY(readPort(number, pp.field("number"), n));
        net.discovery_ports.push_back(n);
        return {};
      });
    });
  });
}

Status readPortDefinitions(element value, const Path& path, AppNetwork& net) {
  net.has_port_definitions = true;
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    uint16_t port = 0;  // a definition without a port keeps its index
    PARSE_TRY(
        forEachMember(item, p, [&](std::string_view key, element v, const Path& fp) -> Status {
          return is(key, "port") ? readPort(v, fp, port) : Status{};
        }));
    net.port_definitions.push_back(port);
    return {};
  });
}

template <typename Ports>  // std::vector or core::InlineVector of uint16_t
Status readPortList(element value, const Path& path, Ports& out) {
  array arr;
  PARSE_TRY(readArray(value, path, arr));
  out.reserve(arr.size());
  size_t i = 0;
  for (element item : arr) {
    uint16_t port = 0;
    PARSE_TRY(readPort(item, path.item(i++), port));
    out.push_back(port);
  }
  return {};
}

// ---- tasks ------------------------------------------------------------------------------------

Status readHealthResults(element value, const Path& path, HealthResults& out) {
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    HealthCheckResult result;
    PARSE_TRY(
        forEachMember(item, p, [&](std::string_view key, element v, const Path& fp) -> Status {
          return is(key, "alive") ? readBool(v, fp, result.alive) : Status{};
        }));
    out.push_back(result);
    return {};
  });
}

Status readIpAddresses(element value, const Path& path, TaskNetwork& net) {
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    std::string_view ip;
    bool has_ip = false;
    PARSE_TRY(
        forEachMember(item, p, [&](std::string_view key, element v, const Path& fp) -> Status {
          if (!is(key, "ipAddress")) return Status{};
          has_ip = true;
          return readString(v, fp, ip);
        }));
    if (has_ip && !net.first_ip) net.first_ip = ip;
    return {};
  });
}

// `is` tests the length inline first, so a member no reader wants costs a few compares, not
// calls (every member of 100,000 tasks comes through here on a resync).
Status readTaskMember(std::string_view key, element v, const Path& p, Task& task,
                      TaskNetwork& net) {
  if (is(key, "id")) return readString(v, p, task.id);
  if (is(key, "appId")) return readString(v, p, task.app_id);
  if (is(key, "host")) {
    PARSE_TRY(readString(v, p, net.host));
    task.host.assign(net.host);
  } else if (is(key, "state")) {
    std::string_view name;
    PARSE_TRY(readString(v, p, name));
    task.state = taskStateFromName(name);
  } else if (is(key, "version") || is(key, "startedAt")) {
    std::string_view unused;  // still refused when not a string, as when it was kept
    return readString(v, p, unused);
  } else if (is(key, "ports")) {
    return readPortList(v, p, net.ports);
  } else if (is(key, "ipAddresses")) {
    return readIpAddresses(v, p, net);
  } else if (is(key, "healthCheckResults")) {
    return readHealthResults(v, p, task.health);
  }
  return {};
}

Status readTask(element value, const Path& path, const AppNetwork& app_net, App& app) {
  // Built in place (a failed task fails the whole document, which is then dropped).
  Task& task = app.tasks.emplace_back();
  TaskNetwork net;
  bool has_id = false;
  PARSE_TRY(
      forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
        has_id = has_id || is(key, "id");
        return readTaskMember(key, v, p, task, net);
      }));
  if (!has_id) return bad(path.field("id"), "missing");
  // Task ids key the drain sets and the health verdicts: two tasks sharing "" would share them.
  if (task.id.empty()) return bad(path.field("id"), "empty");
  task.endpoints = resolveEndpoints(app_net, app.network, net, app.service_ports.size());
  return {};
}

Status readTasks(element value, const Path& path, const AppNetwork& net, App& app) {
  array arr;
  PARSE_TRY(readArray(value, path, arr));
  app.tasks.reserve(arr.size());
  return forEachItem(value, path, [&](element item, const Path& p) -> Status {
    return readTask(item, p, net, app);
  });
}

// ---- one app ----------------------------------------------------------------------------------

// Every member except `tasks`, whose endpoints need the resolved network mode first.
Status readAppMember(std::string_view key, element v, const Path& p, App& app, AppNetwork& net) {
  if (is(key, "id")) return readString(v, p, app.id);
  if (is(key, "labels")) return readLabels(v, p, app.labels);
  if (is(key, "instances")) return readUint(v, p, kU32Max, app.instances);
  if (is(key, "container")) return readContainer(v, p, net);
  if (is(key, "networks")) return readNetworks(v, p, net);
  if (is(key, "ipAddress")) return readIpAddress(v, p, net);
  if (is(key, "portDefinitions")) return readPortDefinitions(v, p, net);
  if (is(key, "ports")) return readPortList(v, p, net.legacy_ports);
  if (is(key, "healthChecks")) return readHealthChecks(v, p, app.health_checks);
  if (is(key, "version")) return readString(v, p, app.version);
  if (is(key, "versionInfo")) return readVersionInfo(v, p, app);
  if (is(key, "deployments")) {
    array deployments;
    PARSE_TRY(readArray(v, p, deployments));
    app.deploying = deployments.size() > 0;
  }
  return {};
}

Status readApp(element value, const Path& path, ServicePortAssigner& assigner, App& app) {
  AppNetwork net;
  element tasks;
  bool has_id = false;
  bool has_tasks = false;
  PARSE_TRY(
      forEachMember(value, path, [&](std::string_view key, element v, const Path& p) -> Status {
        if (is(key, "tasks")) {
          tasks = v;
          has_tasks = true;
          return Status{};
        }
        has_id = has_id || is(key, "id");
        return readAppMember(key, v, p, app, net);
      }));
  if (!has_id) return bad(path.field("id"), "missing");
  if (!app.id.starts_with('/')) return bad(path.field("id"), "must start with \"/\"");
  app.network = resolveMode(net);
  app.service_ports = resolveServicePorts(net, app.network, app.id, assigner);
  if (has_tasks) PARSE_TRY(readTasks(tasks, path.field("tasks"), net, app));
  return {};
}

constexpr Path kAppsPath{nullptr, "apps"};

// The document's "apps" array (a document is {"apps": [...]}).
Status readAppList(element root, array& arr) {
  const Path doc{nullptr, "document"};
  object obj;
  PARSE_TRY(readObject(root, doc, obj));
  element list;
  if (obj["apps"].get(list) != simdjson::SUCCESS || list.is_null()) {
    return bad(kAppsPath, "missing");
  }
  return readArray(list, kAppsPath, arr);
}

Status readApps(element root, std::vector<App>& apps) {
  array arr;
  PARSE_TRY(readAppList(root, arr));
  apps.reserve(arr.size());
  ServicePortAssigner assigner;
  size_t i = 0;
  for (element item : arr) {
    PARSE_TRY(readApp(item, kAppsPath.item(i++), assigner, apps.emplace_back()));
  }
  return {};
}

// ---- fingerprints (AppsParser::parseShared) ----------------------------------------------------

// A running 64-bit hash of the values the parser reads. Not cryptographic: the documents come
// from the operator's Marathon, and a false match needs the same app id as well.
class Fingerprint {
 public:
  void add(uint64_t v) {
    h_ = (h_ ^ v) * 0x9E3779B97F4A7C15ULL;
    h_ ^= h_ >> 29;
  }
  // Eight bytes a step, inline: the document's strings are mostly short, and a library hash
  // call per string was a tenth of a 100,000-task parse. The length goes first, so the zero
  // padding of the last word is unambiguous.
  void add(std::string_view s) {
    add(s.size());
    size_t at = 0;
    for (; at + 8 <= s.size(); at += 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + at, 8);
      add(word);
    }
    if (at < s.size()) {
      uint64_t tail = 0;
      std::memcpy(&tail, s.data() + at, s.size() - at);
      add(tail);
    }
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0x243F6A8885A308D3ULL;
};

// Members of an object value, items of an array value. Callers check the type first (a default
// object or array must not be iterated).
object membersOf(element value) {
  object obj;
  if (value.get_object().get(obj) != simdjson::SUCCESS) return {};
  return obj;
}
array itemsOf(element value) {
  array arr;
  if (value.get_array().get(arr) != simdjson::SUCCESS) return {};
  return arr;
}

void hashValue(element value, Fingerprint& fp) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::ARRAY:
      fp.add(uint64_t{'['});
      for (element item : itemsOf(value)) hashValue(item, fp);
      fp.add(uint64_t{']'});
      return;
    case element_type::OBJECT:
      fp.add(uint64_t{'{'});
      for (auto [key, member] : membersOf(value)) {
        fp.add(key);
        hashValue(member, fp);
      }
      fp.add(uint64_t{'}'});
      return;
    case element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) == simdjson::SUCCESS) fp.add(text);
      fp.add(uint64_t{'"'});
      return;
    }
    case element_type::INT64: {
      int64_t n = 0;
      if (value.get_int64().get(n) == simdjson::SUCCESS) fp.add(static_cast<uint64_t>(n));
      fp.add(uint64_t{'i'});
      return;
    }
    case element_type::UINT64: {
      uint64_t n = 0;
      if (value.get_uint64().get(n) == simdjson::SUCCESS) fp.add(n);
      fp.add(uint64_t{'u'});
      return;
    }
    case element_type::DOUBLE: {
      double d = 0;
      if (value.get_double().get(d) == simdjson::SUCCESS) fp.add(std::bit_cast<uint64_t>(d));
      fp.add(uint64_t{'d'});
      return;
    }
    case element_type::BOOL: {
      bool b = false;
      if (value.get_bool().get(b) == simdjson::SUCCESS) fp.add(b ? uint64_t{'t'} : uint64_t{'f'});
      fp.add(uint64_t{'b'});
      return;
    }
    case element_type::NULL_VALUE:
      fp.add(uint64_t{'n'});
      return;
  }
}

// A health-check result is read for its `alive` members only (readHealthResults).
void hashHealthResults(element value, Fingerprint& fp) {
  if (!value.is_array()) return hashValue(value, fp);
  fp.add(uint64_t{'['});
  for (element result : itemsOf(value)) {
    if (!result.is_object()) {
      hashValue(result, fp);
      continue;
    }
    fp.add(uint64_t{'{'});
    for (auto [key, member] : membersOf(result)) {
      if (!is(key, "alive")) continue;
      fp.add(key);
      hashValue(member, fp);
    }
    fp.add(uint64_t{'}'});
  }
  fp.add(uint64_t{']'});
}

void hashTasks(element value, Fingerprint& fp) {
  if (!value.is_array()) return hashValue(value, fp);
  fp.add(uint64_t{'['});
  for (element task : itemsOf(value)) {
    if (!task.is_object()) {
      hashValue(task, fp);
      continue;
    }
    fp.add(uint64_t{'{'});
    for (auto [key, member] : membersOf(task)) {
      fp.add(key);
      if (is(key, "healthCheckResults")) {
        hashHealthResults(member, fp);
      } else {
        hashValue(member, fp);
      }
    }
    fp.add(uint64_t{'}'});
  }
  fp.add(uint64_t{']'});
}

// nullopt for a value that is not an object (readApp then reports it).
std::optional<uint64_t> appFingerprint(element value) {
  if (!value.is_object()) return std::nullopt;
  Fingerprint fp;
  for (auto [key, member] : membersOf(value)) {
    fp.add(key);
    if (is(key, "tasks")) {
      hashTasks(member, fp);
    } else {
      hashValue(member, fp);
    }
  }
  return fp.value();
}

using AppsByFingerprint = std::unordered_map<uint64_t, std::shared_ptr<const App>>;

// One app of a shared read: `previous`'s app when the fingerprint and id match (true), else
// parsed (false). A parsed app is kept in `next` unless the port assigner gave it its ports.
Result<bool> readSharedApp(element item, const Path& path, const AppsByFingerprint& previous,
                           ServicePortAssigner& assigner, SharedApps& apps,
                           AppsByFingerprint& next) {
  const std::optional<uint64_t> fp = appFingerprint(item);
  if (fp) {
    const auto same = previous.find(*fp);
    std::string_view id;
    if (same != previous.end() && item["id"].get(id) == simdjson::SUCCESS &&
        id == same->second->id) {
      next.emplace(*fp, same->second);
      apps.push_back(same->second);
      return true;
    }
  }
  auto app = std::make_shared<App>();
  const uint64_t assigned = assigner.calls();
  PARSE_TRY(readApp(item, path, assigner, *app));
  if (fp && assigner.calls() == assigned) next.emplace(*fp, app);
  apps.push_back(std::move(app));
  return false;
}

// readApps, reusing the apps of `previous` whose fingerprint (and id) match; `next` receives
// this document's reusable apps.
Status readSharedApps(element root, const AppsByFingerprint& previous, SharedApps& apps,
                      AppsByFingerprint& next, AppsParser::Stats& stats) {
  array arr;
  PARSE_TRY(readAppList(root, arr));
  apps.reserve(arr.size());
  next.reserve(arr.size());
  ServicePortAssigner assigner;
  size_t i = 0;
  for (element item : arr) {
    auto read = readSharedApp(item, kAppsPath.item(i++), previous, assigner, apps, next);
    if (!read) return core::fail(std::move(read.error()));
    ++(*read ? stats.by_fingerprint : stats.parsed);
  }
  return {};
}

// ---- the document split into app spans (AppsParser::parseShared) -----------------------------
//
// A DOM of the whole 37 MB, 100,000-task document is ~90 MB resident (tape, string copies,
// structural indexes) kept from one resync to the next, and releasing it instead costs more CPU
// than the parse (fresh pages fault in at ~20 us each on this VM). So the shared parse splits
// the document at the top level and runs the DOM parser on one app at a time, with buffers the
// size of the largest app. The document is still validated as a whole: the skeleton between the
// spans is checked here byte by byte (JSON whitespace and the punctuation of `{"key":value,...}`
// and `[item,...]` only), and every span (each app, each other root key and value) is parsed,
// and so validated, by simdjson: a valid skeleton of valid spans is a valid document. Anything
// else (a root that is not an object, `apps` not an array, an escaped root key, a span simdjson
// or readApp refuses) goes to the whole-document parse, so a refusal names exactly what
// parseInPlace would name. The walk over each app's bytes, and the print it takes of them, are
// in app_print.h. Since any split into valid spans joined by a valid skeleton makes a valid
// document, how the walk finds the spans cannot let an invalid document through.

struct DocumentSpans {
  std::vector<std::string_view> apps;         // the items of the first root "apps" array
  std::vector<SpanPrint> prints;              // one per app span
  std::vector<std::string_view> others;       // every other root key, and its value
  size_t tail_from = std::string_view::npos;  // the first app split by the helper (TailSplit)
};

// ---- the split on two threads -----------------------------------------------------------------
//
// The split walks every byte in order, so on a large document the second half is split (and its
// apps parsed, see parseSpans) by a helper thread, from a guessed app boundary: the first
// `}, {"id": "/` (any spacing) past the middle. Marathon writes each app's id first and app ids
// start with '/' (a task's id never does). The guess is checked, not trusted: the first thread,
// splitting from the start, takes the helper's items only when one of its own items starts at
// exactly that byte. The helper's walk then began in the very state the first thread's would
// have been in, so it is the walk the first thread would have made. Otherwise the helper's work
// is dropped and the first thread goes on alone.

// A document this large has its apps split and parsed on two threads (a 37 MB, 100,000-task
// document: ~0.5 s of parsing on one core otherwise); below it a thread costs more than it saves.
constexpr size_t kParallelParseBytes = 1 << 20;

// The helper's half of the split (parseSpans): written by the helper, read by the first thread
// after `split_done`.
struct TailSplit {
  size_t start = 0;  // the guessed item start
  DocumentSpans spans;
  size_t end = std::string_view::npos;  // the index after the apps array's ']', or npos
  std::latch split_done{1};
  std::atomic<bool> dropped{false};  // the guess was wrong: the helper stops after its split
};

// Where the helper starts: the '{' of the first app past the middle whose first member is an
// "id" starting with '/', and that follows another object and a comma; 0 = no helper.
size_t tailStart(std::string_view doc) {
  if (doc.size() < kParallelParseBytes || std::thread::hardware_concurrency() < 2) return 0;
  const size_t limit = std::min(doc.size(), doc.size() / 2 + kParallelParseBytes);
  for (size_t at = doc.find("\"id\"", doc.size() / 2); at < limit;
       at = doc.find("\"id\"", at + 1)) {
    size_t after = skipSpace(doc, at + 4);
    if (after >= doc.size() || doc[after] != ':') continue;
    after = skipSpace(doc, after + 1);
    if (doc.substr(after, 2) != "\"/") continue;
    size_t before = at;
    const auto back = [&](char want) {
      while (before > 0 && isJsonSpace(doc[before - 1])) --before;
      if (before == 0 || doc[before - 1] != want) return false;
      --before;
      return true;
    };
    if (!back('{')) continue;
    const size_t brace = before;
    if (back(',') && back('}')) return brace;
  }
  return 0;
}

// The items of an array from `pos` (an item's start), each printed; the index after the array's
// ']', or npos. With `tail`, the helper's items are taken when an item starts at tail->start.
size_t splitItems(std::string_view doc, size_t pos, DocumentSpans& spans, TailSplit* tail) {
  std::vector<std::string_view>& items = spans.apps;
  std::vector<SpanPrint>& prints = spans.prints;
  while (pos < doc.size()) {
    if (tail != nullptr && pos >= tail->start) {
      if (pos == tail->start) {
        tail->split_done.wait();
        if (tail->end == std::string_view::npos) return tail->end;  // where this walk would fail
        spans.tail_from = items.size();
        items.insert(items.end(), tail->spans.apps.begin(), tail->spans.apps.end());
        prints.insert(prints.end(), tail->spans.prints.begin(), tail->spans.prints.end());
        return tail->end;
      }
      tail->dropped.store(true);
      tail = nullptr;
    }
    const size_t end = scanApp(doc, pos, prints.emplace_back());
    if (end == std::string_view::npos) return end;
    items.push_back(doc.substr(pos, end - pos));
    pos = skipSpace(doc, end);
    if (pos >= doc.size()) break;
    if (doc[pos] == ']') return pos + 1;
    if (doc[pos] != ',') break;
    pos = skipSpace(doc, pos + 1);
  }
  if (tail != nullptr) tail->dropped.store(true);
  return std::string_view::npos;
}

// The items of the array at `pos` (its '['), each printed; the index after its ']', or npos.
size_t splitArray(std::string_view doc, size_t pos, DocumentSpans& spans, TailSplit* tail) {
  pos = skipSpace(doc, pos + 1);
  if (pos < doc.size() && doc[pos] == ']') {
    if (tail != nullptr) tail->dropped.store(true);
    return pos + 1;
  }
  return splitItems(doc, pos, spans, tail);
}

// `{"apps":[...], ...}` split into spans; false when the skeleton is anything else.
bool splitDocument(std::string_view doc, DocumentSpans& spans, TailSplit* tail) {
  size_t pos = skipSpace(doc, 0);
  if (pos >= doc.size() || doc[pos] != '{') return false;
  pos = skipSpace(doc, pos + 1);
  bool seen_apps = false;
  while (pos < doc.size() && doc[pos] == '"') {
    const size_t key_end = skipString(doc, pos);
    if (key_end == std::string_view::npos) return false;
    const std::string_view key = doc.substr(pos, key_end - pos);
    if (key.find('\\') != std::string_view::npos) return false;  // the DOM compares unescaped
    pos = skipSpace(doc, key_end);
    if (pos >= doc.size() || doc[pos] != ':') return false;
    pos = skipSpace(doc, pos + 1);
    size_t end = std::string_view::npos;
    if (is(key, "\"apps\"") && !seen_apps) {
      seen_apps = true;
      if (pos < doc.size() && doc[pos] == '[') end = splitArray(doc, pos, spans, tail);
    } else {
      end = skipValue(doc, pos);
      spans.others.push_back(key);
      if (end != std::string_view::npos) spans.others.push_back(doc.substr(pos, end - pos));
    }
    if (end == std::string_view::npos) return false;
    pos = skipSpace(doc, end);
    if (pos >= doc.size() || doc[pos] != ',') break;
    pos = skipSpace(doc, pos + 1);
    if (pos >= doc.size() || doc[pos] != '"') return false;  // {"a":1,}
  }
  if (pos >= doc.size() || doc[pos] != '}') return false;
  return seen_apps && skipSpace(doc, pos + 1) == doc.size();
}

// Nesting allowed inside an app: simdjson's default limit for the whole document, where an app
// sits two levels down.
constexpr size_t kSpanMaxDepth = simdjson::DEFAULT_MAX_DEPTH - 2;

// The reusable apps of the last document by raw print. An app with a usable print is kept by it
// alone: Marathon writes each app the same way every time, so an app whose print changed has
// changed (the DOM fingerprint, ~130 instructions a task, would only find the same app written
// with other spacing or member order). Apps without a usable print are kept by fingerprint.
using AppsByPrint = std::unordered_map<uint64_t, std::shared_ptr<const App>>;

// The last document's reusable apps, by either test.
struct Reference {
  const AppsByFingerprint& by_fingerprint;
  const AppsByPrint& by_print;
};

// What parsing a range of app spans produced.
struct SpanRun {
  SharedApps apps;
  AppsByFingerprint next;
  AppsByPrint next_prints;
  AppsParser::Stats stats;
  size_t end = 0;  // the index after the last app taken
  bool ok = true;  // false: an app was refused (the whole-document parse names why)
};

// The last document's app when `print` matches it (and its id), taken without a parse.
bool reusePrinted(const SpanPrint& print, const AppsByPrint& previous, SpanRun& out) {
  if (!print.usable) return false;
  const auto same = previous.find(print.value);
  if (same == previous.end() || same->second->id != print.id) return false;
  out.apps.push_back(same->second);
  out.next_prints.emplace(print.value, same->second);
  ++out.stats.by_print;
  return true;
}

bool readySpanParser(simdjson::dom::parser& parser, bool& ready) {
  if (!ready) ready = parser.allocate(64 * 1024, kSpanMaxDepth) == simdjson::SUCCESS;
  return ready;
}

// Apps [begin, end) of `items`, appended to `out`. With `assigner` null the range is parsed
// ahead of the apps before it: it stops (out.end) before the first app whose service ports the
// assigner hands out, leaving that app and the rest for an in-order pass.
void parseSpanRange(simdjson::dom::parser& parser, const DocumentSpans& spans, size_t begin,
                    size_t end, const Reference& previous, ServicePortAssigner* assigner,
                    SpanRun& out) {
  ServicePortAssigner probe;
  ServicePortAssigner& ports = assigner != nullptr ? *assigner : probe;
  element value;
  for (size_t i = begin; i < end; ++i) {
    const SpanPrint& print = spans.prints[i];
    if (reusePrinted(print, previous.by_print, out)) continue;  // never an assigned app
    const uint64_t calls = ports.calls();
    const std::string_view item = spans.apps[i];
    if (parser.parse(item.data(), item.size(), false).get(value) != simdjson::SUCCESS) {
      out.ok = false;
      return;
    }
    if (print.usable) {
      auto app = std::make_shared<App>();
      if (!readApp(value, kAppsPath.item(i), ports, *app)) {
        out.ok = false;
        return;
      }
      if (ports.calls() != calls) {
        if (assigner == nullptr) {
          out.end = i;  // for the in-order pass
          return;
        }
      } else {
        out.next_prints.emplace(print.value, app);
      }
      out.apps.push_back(std::move(app));
      ++out.stats.parsed;
      continue;
    }
    const auto read =
        readSharedApp(value, kAppsPath.item(i), previous.by_fingerprint, ports, out.apps, out.next);
    if (!read) {
      out.ok = false;
      return;
    }
    if (assigner == nullptr && ports.calls() != calls) {
      out.apps.pop_back();  // never in out.next: readSharedApp keeps no assigned app
      out.end = i;
      return;
    }
    ++(*read ? out.stats.by_fingerprint : out.stats.parsed);
  }
  out.end = end;
}

// `tail`'s apps (parsed ahead) appended to `run`'s.
void absorb(SpanRun& run, SpanRun&& tail) {
  for (auto& app : tail.apps) run.apps.push_back(std::move(app));
  run.next.merge(tail.next);
  run.next_prints.merge(tail.next_prints);
  run.stats.by_print += tail.stats.by_print;
  run.stats.by_fingerprint += tail.stats.by_fingerprint;
  run.stats.parsed += tail.stats.parsed;
}

// Where the second thread starts: the app at which half of the apps' bytes lie before it;
// 0 = parse on this thread only.
size_t parallelSplit(const std::vector<std::string_view>& items, size_t document_size) {
  if (document_size < kParallelParseBytes || items.size() < 2) return 0;
  if (std::thread::hardware_concurrency() < 2) return 0;
  size_t total = 0;
  for (std::string_view item : items) total += item.size();
  size_t before = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (before * 2 >= total) return i;
    before += items[i].size();
  }
  return items.size() - 1;
}

// The span parsers of an AppsParser: one per thread.
struct SpanParsers {
  simdjson::dom::parser& first;
  simdjson::dom::parser& second;
  bool& second_ready;
};

// The split's helper was not used (a small document, or no app boundary where it guessed): the
// apps are parsed on two threads anyway when the document is large, split by bytes.
void parseInParallel(SpanParsers parsers, const DocumentSpans& spans, size_t document_size,
                     const Reference& previous, ServicePortAssigner& assigner, SpanRun& run) {
  const std::vector<std::string_view>& items = spans.apps;
  const size_t split = parallelSplit(items, document_size);
  if (split == 0 || !readySpanParser(parsers.second, parsers.second_ready)) {
    parseSpanRange(parsers.first, spans, 0, items.size(), previous, &assigner, run);
    return;
  }
  SpanRun tail;
  tail.next_prints.reserve(items.size() - split);
  {
    std::jthread helper = core::BackgroundLane::startHelper([&] {  // in the resync's lane
      parseSpanRange(parsers.second, spans, split, items.size(), previous, nullptr, tail);
    });
    parseSpanRange(parsers.first, spans, 0, split, previous, &assigner, run);
  }
  if (!run.ok || !tail.ok) {
    run.ok = false;
    return;
  }
  const size_t tail_end = tail.end;
  absorb(run, std::move(tail));
  parseSpanRange(parsers.first, spans, tail_end, items.size(), previous, &assigner, run);
}

}  // namespace

TaskState taskStateFromName(std::string_view name) {
  static constexpr std::pair<std::string_view, TaskState> kStates[] = {
      {"TASK_RUNNING", TaskState::Running},
      {"TASK_STAGING", TaskState::Staging},
      {"TASK_STARTING", TaskState::Starting},
      {"TASK_KILLING", TaskState::Killing},
      {"TASK_FINISHED", TaskState::Finished},
      {"TASK_FAILED", TaskState::Failed},
      {"TASK_KILLED", TaskState::Killed},
      {"TASK_ERROR", TaskState::Error},
      {"TASK_LOST", TaskState::Lost},
      {"TASK_DROPPED", TaskState::Dropped},
      {"TASK_UNREACHABLE", TaskState::Unreachable},
      {"TASK_GONE", TaskState::Gone},
      {"TASK_GONE_BY_OPERATOR", TaskState::GoneByOperator},
      {"TASK_UNKNOWN", TaskState::Unknown},
  };
  for (const auto& [text, state] : kStates) {
    if (name == text) return state;
  }
  return TaskState::Unknown;
}

struct AppsParser::Impl {
  simdjson::dom::parser parser;
  // The document copied with simdjson's required padding, reused across documents.
  std::unique_ptr<char[]> buffer;
  size_t buffer_capacity = 0;
  // parseShared: the apps of the last successful call, by fingerprint and by raw print.
  AppsByFingerprint shared;
  AppsByPrint printed;
  Stats stats;  // of the last successful call
  // parseShared: one app (or root member) at a time: buffers the size of the largest app.
  simdjson::dom::parser spans;
  bool spans_ready = false;
  // parseShared on a large document: the helper thread's parser for the second half.
  simdjson::dom::parser tail_spans;
  bool tail_ready = false;

  std::string_view copyPadded(std::string_view json) {
    if (buffer == nullptr || buffer_capacity < json.size()) {
      buffer_capacity = json.size() + json.size() / 4;
      buffer.reset(new char[buffer_capacity + simdjson::SIMDJSON_PADDING]);
    }
    std::memcpy(buffer.get(), json.data(), json.size());
    std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return {buffer.get(), json.size()};
  }
};

AppsParser::AppsParser() : impl_(std::make_unique<Impl>()) {}
AppsParser::~AppsParser() = default;
AppsParser::AppsParser(AppsParser&&) noexcept = default;
AppsParser& AppsParser::operator=(AppsParser&&) noexcept = default;

static_assert(AppsParser::kPadding >= simdjson::SIMDJSON_PADDING);

core::Result<std::vector<App>> AppsParser::parse(std::string_view json) {
  return parsePadded(impl_->copyPadded(json));
}

core::Result<std::vector<App>> AppsParser::parseInPlace(std::string& body) {
  const size_t size = body.size();
  body.resize(size + kPadding, '\0');  // within the reserved capacity: no copy
  auto apps = parsePadded(std::string_view(body.data(), size));
  body.resize(size);
  return apps;
}

core::Result<std::vector<App>> AppsParser::parsePadded(std::string_view padded) {
  element root;
  auto err = impl_->parser.parse(padded.data(), padded.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    return core::fail(
        Error::config(std::string("document: not valid JSON: ") + simdjson::error_message(err)));
  }
  std::vector<App> apps;
  PARSE_TRY(readApps(root, apps));
  return apps;
}

core::Result<SharedApps> AppsParser::parseShared(std::string& body) {
  const size_t size = body.size();
  body.resize(size + kPadding, '\0');  // within the reserved capacity: no copy
  auto apps = parseSharedPadded(std::string_view(body.data(), size));
  body.resize(size);
  return apps;
}

core::Result<SharedApps> AppsParser::parseSharedPadded(std::string_view padded) {
  if (auto apps = parseSpans(padded)) return std::move(*apps);
  // The whole-document DOM: an error (named exactly as parseInPlace names it) or an unusual
  // document. Its buffers, the size of this document, are not kept.
  element root;
  auto err = impl_->parser.parse(padded.data(), padded.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    impl_->parser = simdjson::dom::parser{};
    return core::fail(
        Error::config(std::string("document: not valid JSON: ") + simdjson::error_message(err)));
  }
  SharedApps apps;
  AppsByFingerprint next;
  Stats stats;
  stats.whole_document = true;
  auto read = readSharedApps(root, impl_->shared, apps, next, stats);
  impl_->parser = simdjson::dom::parser{};
  PARSE_TRY(read);
  impl_->shared = std::move(next);
  impl_->printed.clear();  // this path prints nothing: the next document parses every app
  impl_->stats = stats;
  return apps;
}

std::optional<SharedApps> AppsParser::parseSpans(std::string_view padded) {
  if (!readySpanParser(impl_->spans, impl_->spans_ready)) return std::nullopt;
  const Reference previous{impl_->shared, impl_->printed};
  // The helper splits the second half and parses its apps ahead of the first half's: it stops at
  // the first app that needs the service port assigner (whose answers depend on every app
  // before it), and the rest is parsed here, in order, once the first half has fed the assigner.
  TailSplit tail;
  SpanRun tail_run;
  std::jthread helper;
  tail.start = tailStart(padded);
  if (tail.start != 0 && readySpanParser(impl_->tail_spans, impl_->tail_ready)) {
    helper = core::BackgroundLane::startHelper([&] {  // in the resync's lane
      tail.end = splitItems(padded, tail.start, tail.spans, nullptr);
      tail.split_done.count_down();
      if (tail.end == std::string_view::npos || tail.dropped.load()) return;
      tail_run.next_prints.reserve(tail.spans.apps.size());  // no rehash as the half grows
      parseSpanRange(impl_->tail_spans, tail.spans, 0, tail.spans.apps.size(), previous, nullptr,
                     tail_run);
    });
  }
  DocumentSpans spans;
  const bool split = splitDocument(padded, spans, helper.joinable() ? &tail : nullptr);
  if (spans.tail_from == std::string_view::npos) tail.dropped.store(true);
  if (helper.joinable() && spans.tail_from == std::string_view::npos) helper.join();
  if (!split) return std::nullopt;
  element value;
  for (std::string_view other : spans.others) {  // validated only
    if (impl_->spans.parse(other.data(), other.size(), false).get(value) != simdjson::SUCCESS) {
      return std::nullopt;
    }
  }
  const std::vector<std::string_view>& items = spans.apps;
  ServicePortAssigner assigner;
  SpanRun run;
  run.apps.reserve(items.size());
  run.next.reserve(items.size());
  run.next_prints.reserve(items.size());
  if (spans.tail_from != std::string_view::npos) {
    parseSpanRange(impl_->spans, spans, 0, spans.tail_from, previous, &assigner, run);
    helper.join();
    if (!run.ok || !tail_run.ok) return std::nullopt;
    const size_t rest = spans.tail_from + tail_run.end;
    absorb(run, std::move(tail_run));
    parseSpanRange(impl_->spans, spans, rest, items.size(), previous, &assigner, run);
  } else {
    parseInParallel(SpanParsers{impl_->spans, impl_->tail_spans, impl_->tail_ready}, spans,
                    padded.size(), previous, assigner, run);
  }
  if (!run.ok) return std::nullopt;
  impl_->shared = std::move(run.next);
  impl_->printed = std::move(run.next_prints);
  impl_->stats = run.stats;
  impl_->stats.split_on_two_threads = spans.tail_from != std::string_view::npos;
  return std::move(run.apps);
}

AppsParser::Stats AppsParser::lastStats() const {
  return impl_->stats;
}

core::Result<std::vector<App>> parseApps(std::string_view json) {
  return AppsParser().parse(json);
}

}  // namespace baton::discovery
