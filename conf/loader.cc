// Walks the TOML tree (toml++ is included here and nowhere else) into a ConfigSpec.
//
// Order of checks: unknown keys of a table first (a typo should be reported as a typo, not as the
// missing key it was meant to be), then each key's type and value, then cross-references (names
// unique, route.cluster defined). The first error stops the load. toml++ reports syntax errors by
// exception; we catch exactly toml::parse_error at the one call and turn it into an Error.
#include "conf/loader.h"

#include <toml++/toml.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <utility>

#include "conf/value_syntax.h"

namespace baton::conf {
namespace {

using core::Error;
using core::Result;

// Propagates the error of a Result<...> expression out of a function returning Result<...>.
#define CONF_TRY(expr)                                        \
  do {                                                        \
    if (auto conf_try_result_ = (expr); !conf_try_result_) {  \
      return core::fail(std::move(conf_try_result_.error())); \
    }                                                         \
  } while (0)

constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();

uint32_t lineOf(const toml::source_region& region) {
  return region.begin.line == 0 ? 1 : static_cast<uint32_t>(region.begin.line);
}
uint32_t lineOf(const toml::node& node) {
  return lineOf(node.source());
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// Everything an error message needs: the file name; builds "FILE:LINE: KEY: message".
struct Ctx {
  std::string file;

  std::unexpected<Error> error(uint32_t line, std::string_view key, std::string_view msg) const {
    return core::fail(Error::config(file + ":" + std::to_string(line) + ": " + std::string(key) +
                                    ": " + std::string(msg)));
  }
  std::unexpected<Error> error(const toml::node& node, std::string_view key,
                               std::string_view msg) const {
    return error(lineOf(node), key, msg);
  }
  std::unexpected<Error> wrongType(const toml::node& node, std::string_view key,
                                   std::string_view expected) const {
    return error(node, key,
                 "expected " + std::string(expected) + ", got " + std::string(typeName(node)));
  }
  // Re-anchors a message-only error (units, value syntax) at this node and key.
  std::unexpected<Error> at(const toml::node& node, std::string_view key, const Error& e) const {
    return error(node, key, e.detail);
  }
  SourceLoc loc(const toml::node& node) const { return SourceLoc{file, lineOf(node)}; }
};

// ---- Scalar readers: one TOML node -> one typed value, or an error naming the key. ----

Result<std::string> asString(const Ctx& ctx, const toml::node& node, std::string_view key) {
  const auto* v = node.as_string();
  if (!v) return ctx.wrongType(node, key, "a string");
  return v->get();
}

Result<bool> asBool(const Ctx& ctx, const toml::node& node, std::string_view key) {
  const auto* v = node.as_boolean();
  if (!v) return ctx.wrongType(node, key, "a boolean");
  return v->get();
}

Result<uint64_t> asInteger(const Ctx& ctx, const toml::node& node, std::string_view key,
                           uint64_t min, uint64_t max) {
  const auto* v = node.as_integer();
  if (!v) return ctx.wrongType(node, key, "an integer");
  const int64_t value = v->get();
  if (value < 0 || static_cast<uint64_t>(value) < min || static_cast<uint64_t>(value) > max) {
    return ctx.error(node, key,
                     "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                         std::to_string(value));
  }
  return static_cast<uint64_t>(value);
}

Result<uint32_t> asU32(const Ctx& ctx, const toml::node& node, std::string_view key, uint32_t min,
                       uint32_t max) {
  auto v = asInteger(ctx, node, key, min, max);
  if (!v) return core::fail(std::move(v.error()));
  return static_cast<uint32_t>(*v);
}

Result<Duration> asDuration(const Ctx& ctx, const toml::node& node, std::string_view key) {
  const auto* s = node.as_string();
  if (!s) return ctx.wrongType(node, key, "a duration string such as \"10s\" or \"250ms\"");
  auto d = parseDuration(s->get());
  if (!d) return ctx.at(node, key, d.error());
  return *d;
}

Result<uint64_t> asSize(const Ctx& ctx, const toml::node& node, std::string_view key, uint64_t min,
                        uint64_t max) {
  uint64_t bytes = 0;
  if (const auto* i = node.as_integer()) {
    if (i->get() < 0) return ctx.error(node, key, "must not be negative");
    bytes = static_cast<uint64_t>(i->get());
  } else if (const auto* s = node.as_string()) {
    auto parsed = parseSize(s->get());
    if (!parsed) return ctx.at(node, key, parsed.error());
    bytes = *parsed;
  } else {
    return ctx.wrongType(node, key, "a size (integer bytes, or a string such as \"8KiB\")");
  }
  if (bytes < min || bytes > max) {
    return ctx.error(node, key,
                     "must be " + std::to_string(min) + ".." + std::to_string(max) +
                         " bytes, got " + std::to_string(bytes));
  }
  return bytes;
}

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

template <typename E>
Result<E> asEnum(const Ctx& ctx, const toml::node& node, std::string_view key,
                 std::span<const EnumName<E>> names) {
  auto s = asString(ctx, node, key);
  if (!s) return core::fail(std::move(s.error()));
  std::string allowed;
  for (const auto& n : names) {
    if (n.name == *s) return n.value;
    allowed += (allowed.empty() ? "" : ", ") + quoted(n.name);
  }
  return ctx.error(node, key, "unknown value " + quoted(*s) + " (expected one of " + allowed + ")");
}

constexpr EnumName<RawByteMode> kRawByteModes[] = {{"forward", RawByteMode::Forward},
                                                   {"encode", RawByteMode::Encode},
                                                   {"reject", RawByteMode::Reject}};
constexpr EnumName<AccessLogFormat> kLogFormats[] = {{"text", AccessLogFormat::Text},
                                                     {"json", AccessLogFormat::Json}};
constexpr EnumName<LbPolicyKind> kPolicies[] = {{"round_robin", LbPolicyKind::RoundRobin},
                                                {"least_request", LbPolicyKind::LeastRequest},
                                                {"power_of_two", LbPolicyKind::PowerOfTwo}};

// Names of listeners, clusters and vhosts show up in logs and metrics: keep them plain.
Result<std::string> asName(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  const bool ok = !s->empty() && s->size() <= 64 &&
                  s->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_.-") == std::string::npos;
  if (!ok) return ctx.error(node, key, "name must be 1..64 of [A-Za-z0-9_.-], got " + quoted(*s));
  return s;
}

// ---- Tables ----

// A TOML table plus its dotted path ("cluster[1]"), so readers can name keys in messages.
class TableView {
 public:
  TableView(const Ctx& ctx, const toml::table& table, std::string path)
      : ctx_(ctx), table_(table), path_(std::move(path)) {}

  const Ctx& ctx() const { return ctx_; }
  const toml::table& table() const { return table_; }
  std::string key(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }
  const toml::node* get(std::string_view name) const { return table_.get(name); }
  SourceLoc loc() const { return ctx_.loc(table_); }

  // Refuses any key not in `allowed`, naming it at its own line.
  Result<void> allowOnly(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, node] : table_) {
      bool known = false;
      for (auto a : allowed) known = known || a == k.str();
      if (known) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return ctx_.error(lineOf(k.source()), key(k.str()),
                        "unknown key (expected one of: " + list + ")");
    }
    return {};
  }

  // A required key: missing -> error at the table's own line.
  Result<const toml::node*> require(std::string_view name) const {
    const toml::node* node = get(name);
    if (!node) return ctx_.error(lineOf(table_), key(name), "required key missing");
    return node;
  }

  // Reads an optional key with `read(ctx, node, key)`; leaves `out` (the default) if absent.
  template <typename T, typename Read>
  Result<void> optional(std::string_view name, T& out, Read&& read) const {
    const toml::node* node = get(name);
    if (!node) return {};
    auto value = read(ctx_, *node, key(name));
    if (!value) return core::fail(std::move(value.error()));
    out = std::move(*value);
    return {};
  }

  template <typename T, typename Read>
  Result<void> required(std::string_view name, T& out, Read&& read) const {
    auto node = require(name);
    if (!node) return core::fail(std::move(node.error()));
    auto value = read(ctx_, **node, key(name));
    if (!value) return core::fail(std::move(value.error()));
    out = std::move(*value);
    return {};
  }

 private:
  const Ctx& ctx_;
  const toml::table& table_;
  std::string path_;
};

// "vhost[0].route" -> "vhost.route": how the key is spelt in a [[table]] header.
std::string headerName(std::string_view key) {
  std::string out;
  bool in_index = false;
  for (char c : key) {
    if (c == '[') in_index = true;
    if (!in_index) out.push_back(c);
    if (c == ']') in_index = false;
  }
  return out;
}

// Sub-table `name` of `parent`, or nullopt when absent.
Result<std::optional<TableView>> subTable(const TableView& parent, std::string_view name) {
  const toml::node* node = parent.get(name);
  if (!node) return std::optional<TableView>{};
  const auto* t = node->as_table();
  if (!t)
    return parent.ctx().wrongType(*node, parent.key(name),
                                  "a table ([" + headerName(parent.key(name)) + "])");
  return std::optional<TableView>{TableView(parent.ctx(), *t, parent.key(name))};
}

// Elements of an array of tables `name` ([[name]]), each with its "name[i]" path.
Result<std::vector<TableView>> tableArray(const TableView& parent, std::string_view name) {
  std::vector<TableView> out;
  const toml::node* node = parent.get(name);
  if (!node) return out;
  const std::string key = parent.key(name);
  const auto* arr = node->as_array();
  if (!arr)
    return parent.ctx().wrongType(*node, key, "an array of tables ([[" + headerName(key) + "]])");
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string elem_key = key + "[" + std::to_string(i) + "]";
    const auto* t = (*arr)[i].as_table();
    if (!t) return parent.ctx().wrongType((*arr)[i], elem_key, "a table");
    out.emplace_back(parent.ctx(), *t, elem_key);
  }
  return out;
}

// Adapts a per-element reader into a reader of a TOML array, naming elements "key[i]".
template <typename Read>
auto readArray(Read read) {
  return
      [read](const Ctx& ctx, const toml::node& node, const std::string& key)
          -> Result<std::vector<typename std::invoke_result_t<Read, const Ctx&, const toml::node&,
                                                              const std::string&>::value_type>> {
        using T = typename std::invoke_result_t<Read, const Ctx&, const toml::node&,
                                                const std::string&>::value_type;
        const auto* arr = node.as_array();
        if (!arr) return ctx.wrongType(node, key, "an array");
        std::vector<T> out;
        for (size_t i = 0; i < arr->size(); ++i) {
          auto v = read(ctx, (*arr)[i], key + "[" + std::to_string(i) + "]");
          if (!v) return core::fail(std::move(v.error()));
          out.push_back(std::move(*v));
        }
        return out;
      };
}

auto u32In(uint32_t min, uint32_t max) {
  return [=](const Ctx& c, const toml::node& n, std::string_view k) {
    return asU32(c, n, k, min, max);
  };
}

auto sizeIn(uint64_t min, uint64_t max) {
  return [=](const Ctx& c, const toml::node& n, std::string_view k) {
    return asSize(c, n, k, min, max);
  };
}

auto u32SizeIn(uint32_t min) {
  return [=](const Ctx& c, const toml::node& n, std::string_view k) -> Result<uint32_t> {
    auto v = asSize(c, n, k, min, kU32Max);
    if (!v) return core::fail(std::move(v.error()));
    return static_cast<uint32_t>(*v);
  };
}

template <typename E, size_t N>
auto enumOf(const EnumName<E> (&names)[N]) {
  return [&names](const Ctx& c, const toml::node& n, std::string_view k) {
    return asEnum<E>(c, n, k, std::span<const EnumName<E>>(names));
  };
}

// A duration that must be positive (a zero timeout would fail every request).
Result<Duration> asPositiveDuration(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto d = asDuration(ctx, node, key);
  if (d && d->count() == 0) return ctx.error(node, key, "must be greater than 0");
  return d;
}

// Wraps a value-syntax check (message-only error) into a reader anchored at the node.
template <typename Check>
auto checkedString(Check check) {
  return [check](const Ctx& c, const toml::node& n, std::string_view k) -> Result<std::string> {
    auto s = asString(c, n, k);
    if (!s) return s;
    if (auto ok = check(*s); !ok) return c.at(n, k, ok.error());
    return s;
  };
}

template <typename Normalise>
auto normalisedString(Normalise normalise) {
  return [normalise](const Ctx& c, const toml::node& n, std::string_view k) -> Result<std::string> {
    auto s = asString(c, n, k);
    if (!s) return s;
    auto out = normalise(*s);
    if (!out) return c.at(n, k, out.error());
    return out;
  };
}

// ---- Sections ----

Result<void> readAccessLog(const TableView& t, AccessLogSpec& out) {
  CONF_TRY(t.allowOnly({"path", "format"}));
  CONF_TRY(t.optional("path", out.path, [](const Ctx& c, const toml::node& n, std::string_view k) {
    auto s = asString(c, n, k);
    if (s && s->empty()) return Result<std::string>(c.error(n, k, "must not be empty"));
    return s;
  }));
  return t.optional("format", out.format, enumOf(kLogFormats));
}

Result<void> readServer(const TableView& t, ServerSpec& out) {
  CONF_TRY(t.allowOnly({"workers", "trusted_proxies", "access_log"}));
  CONF_TRY(t.optional("workers", out.workers, u32In(0, 256)));
  CONF_TRY(t.optional("trusted_proxies", out.trusted_proxies,
                      readArray(normalisedString(normaliseCidr))));
  auto log = subTable(t, "access_log");
  if (!log) return core::fail(std::move(log.error()));
  if (*log) CONF_TRY(readAccessLog(**log, out.access_log));
  return {};
}

Result<void> readTimeouts(const TableView& t, TimeoutsSpec& out) {
  CONF_TRY(t.allowOnly({"request_head", "keepalive_idle", "upstream_connect", "upstream_first_byte",
                        "body_idle", "upstream_idle", "drain"}));
  CONF_TRY(t.optional("request_head", out.request_head, asPositiveDuration));
  CONF_TRY(t.optional("keepalive_idle", out.keepalive_idle, asPositiveDuration));
  CONF_TRY(t.optional("upstream_connect", out.upstream_connect, asPositiveDuration));
  CONF_TRY(t.optional("upstream_first_byte", out.upstream_first_byte, asPositiveDuration));
  CONF_TRY(t.optional("body_idle", out.body_idle, asPositiveDuration));
  CONF_TRY(t.optional("upstream_idle", out.upstream_idle, asPositiveDuration));
  // drain = "0s" is meaningful: close in-flight streams at once on shutdown.
  return t.optional("drain", out.drain, asDuration);
}

Result<void> readLimits(const TableView& t, LimitsSpec& out) {
  CONF_TRY(t.allowOnly({"request_line", "header_field", "header_block", "header_count", "body",
                        "requests_per_connection", "max_connections", "buffer_high_watermark"}));
  CONF_TRY(t.optional("request_line", out.request_line_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_field", out.header_field_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_block", out.header_block_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_count", out.header_count, u32In(1, 10'000)));
  CONF_TRY(t.optional("body", out.body_bytes, sizeIn(0, std::numeric_limits<uint64_t>::max())));
  CONF_TRY(t.optional("requests_per_connection", out.requests_per_connection, u32In(0, kU32Max)));
  CONF_TRY(t.optional("max_connections", out.max_connections, u32In(1, kU32Max)));
  return t.optional("buffer_high_watermark", out.buffer_high_watermark, u32SizeIn(1));
}

Result<ListenerSpec> readListener(const TableView& t) {
  ListenerSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name", "address", "raw_bytes"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.required("address", out.address, checkedString(checkListenerAddress)));
  CONF_TRY(t.optional("raw_bytes", out.raw_bytes, enumOf(kRawByteModes)));
  return out;
}

// A host is "ip:port" or { address = "ip:port", weight = N }.
Result<HostSpec> asHost(const Ctx& ctx, const toml::node& node, std::string_view key) {
  HostSpec out;
  out.loc = ctx.loc(node);
  const auto address = checkedString(checkHostAddress);
  if (node.is_string()) {
    auto a = address(ctx, node, key);
    if (!a) return core::fail(std::move(a.error()));
    out.address = std::move(*a);
    return out;
  }
  const auto* table = node.as_table();
  if (!table) return ctx.wrongType(node, key, "a string \"ip:port\" or { address, weight }");
  const TableView t(ctx, *table, std::string(key));
  CONF_TRY(t.allowOnly({"address", "weight"}));
  CONF_TRY(t.required("address", out.address, address));
  CONF_TRY(t.optional("weight", out.weight, u32In(1, 256)));
  return out;
}

Result<ClusterSpec> readCluster(const TableView& t) {
  ClusterSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name", "policy", "max_idle_connections", "connect_attempts", "hosts"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.optional("policy", out.policy, enumOf(kPolicies)));
  CONF_TRY(t.optional("max_idle_connections", out.max_idle_connections, u32In(0, 65'535)));
  CONF_TRY(t.optional("connect_attempts", out.connect_attempts, u32In(1, 16)));
  CONF_TRY(t.required("hosts", out.hosts, readArray(asHost)));
  if (out.hosts.empty())
    return t.ctx().error(*t.get("hosts"), t.key("hosts"), "at least one host required");
  return out;
}

Result<RouteSpec> readRoute(const TableView& t) {
  RouteSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"prefix", "cluster", "body_limit", "raw_bytes", "merge_slashes"}));
  CONF_TRY(t.optional("prefix", out.prefix, checkedString(checkRoutePrefix)));
  CONF_TRY(t.required("cluster", out.cluster, asString));
  CONF_TRY(
      t.optional("body_limit", out.body_bytes, sizeIn(0, std::numeric_limits<uint64_t>::max())));
  CONF_TRY(t.optional("raw_bytes", out.raw_bytes, enumOf(kRawByteModes)));
  CONF_TRY(t.optional("merge_slashes", out.merge_slashes, asBool));
  return out;
}

Result<VirtualHostSpec> readVhost(const TableView& t) {
  VirtualHostSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name", "domains", "route"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.required("domains", out.domains, readArray(normalisedString(normaliseDomain))));
  if (out.domains.empty()) {
    return t.ctx().error(*t.get("domains"), t.key("domains"), "at least one domain required");
  }
  CONF_TRY(t.require("route"));
  auto routes = tableArray(t, "route");
  if (!routes) return core::fail(std::move(routes.error()));
  if (routes->empty()) {
    return t.ctx().error(*t.get("route"), t.key("route"), "at least one [[vhost.route]] required");
  }
  for (const TableView& r : *routes) {
    auto route = readRoute(r);
    if (!route) return core::fail(std::move(route.error()));
    out.routes.push_back(std::move(*route));
  }
  return out;
}

// Reads every element of [[name]] with `read`.
template <typename T, typename Read>
Result<void> readAll(const TableView& root, std::string_view name, std::vector<T>& out,
                     Read&& read) {
  auto tables = tableArray(root, name);
  if (!tables) return core::fail(std::move(tables.error()));
  for (const TableView& t : *tables) {
    auto spec = read(t);
    if (!spec) return core::fail(std::move(spec.error()));
    out.push_back(std::move(*spec));
  }
  return {};
}

// ---- Cross-references (after every section has been read) ----

// Finds the node a spec's field came from again, to anchor a cross-reference error at its line.
// Our key paths ("vhost[0].route[1].cluster") are toml++ paths, and they name nodes we just read.
uint32_t lineAt(const toml::table& root, std::string_view key) {
  const toml::node* node = root.at_path(key).node();
  return node ? lineOf(*node) : 1;
}

template <typename Spec>
Result<void> checkUniqueNames(const Ctx& ctx, const toml::table& root, std::string_view array,
                              const std::vector<Spec>& specs) {
  std::map<std::string_view, const Spec*> seen;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto [it, inserted] = seen.emplace(specs[i].name, &specs[i]);
    if (inserted) continue;
    const std::string key = std::string(array) + "[" + std::to_string(i) + "].name";
    return ctx.error(lineAt(root, key), key,
                     "duplicate name " + quoted(specs[i].name) + " (first defined at line " +
                         std::to_string(it->second->loc.line) + ")");
  }
  return {};
}

Result<void> checkListenerAddresses(const Ctx& ctx, const toml::table& root,
                                    const std::vector<ListenerSpec>& listeners) {
  std::map<std::string_view, const ListenerSpec*> seen;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto [it, inserted] = seen.emplace(listeners[i].address, &listeners[i]);
    if (inserted) continue;
    const std::string key = "listener[" + std::to_string(i) + "].address";
    return ctx.error(lineAt(root, key), key,
                     "address " + quoted(listeners[i].address) + " already used by listener " +
                         quoted(it->second->name));
  }
  return {};
}

Result<void> checkVhostDomains(const Ctx& ctx, const toml::table& root,
                               const std::vector<VirtualHostSpec>& vhosts) {
  std::map<std::string_view, const VirtualHostSpec*> seen;
  for (size_t i = 0; i < vhosts.size(); ++i) {
    for (size_t d = 0; d < vhosts[i].domains.size(); ++d) {
      const auto [it, inserted] = seen.emplace(vhosts[i].domains[d], &vhosts[i]);
      if (inserted) continue;
      const std::string key = "vhost[" + std::to_string(i) + "].domains[" + std::to_string(d) + "]";
      return ctx.error(lineAt(root, key), key,
                       "domain " + quoted(vhosts[i].domains[d]) + " already used by vhost " +
                           quoted(it->second->name));
    }
  }
  return {};
}

Result<void> checkRouteClusters(const Ctx& ctx, const toml::table& root, const ConfigSpec& spec) {
  for (size_t v = 0; v < spec.vhosts.size(); ++v) {
    for (size_t r = 0; r < spec.vhosts[v].routes.size(); ++r) {
      const RouteSpec& route = spec.vhosts[v].routes[r];
      bool found = false;
      for (const auto& c : spec.clusters) found = found || c.name == route.cluster;
      if (found) continue;
      const std::string key =
          "vhost[" + std::to_string(v) + "].route[" + std::to_string(r) + "].cluster";
      return ctx.error(lineAt(root, key), key, "unknown cluster " + quoted(route.cluster));
    }
  }
  return {};
}

Result<void> checkCrossReferences(const Ctx& ctx, const toml::table& root, const ConfigSpec& spec) {
  CONF_TRY(checkUniqueNames(ctx, root, "listener", spec.listeners));
  CONF_TRY(checkListenerAddresses(ctx, root, spec.listeners));
  CONF_TRY(checkUniqueNames(ctx, root, "cluster", spec.clusters));
  CONF_TRY(checkUniqueNames(ctx, root, "vhost", spec.vhosts));
  CONF_TRY(checkVhostDomains(ctx, root, spec.vhosts));
  return checkRouteClusters(ctx, root, spec);
}

// ---- Top level ----

template <typename Spec, typename Read>
Result<void> readSection(const TableView& root, std::string_view name, Spec& out, Read&& read) {
  auto t = subTable(root, name);
  if (!t) return core::fail(std::move(t.error()));
  if (*t) return read(**t, out);
  return {};
}

Result<ConfigSpec> buildSpec(const Ctx& ctx, const toml::table& root_table) {
  const TableView root(ctx, root_table, "");
  ConfigSpec spec;
  spec.file = ctx.file;
  CONF_TRY(root.allowOnly({"server", "timeouts", "limits", "listener", "cluster", "vhost"}));
  CONF_TRY(readSection(root, "server", spec.server, readServer));
  CONF_TRY(readSection(root, "timeouts", spec.timeouts, readTimeouts));
  CONF_TRY(readSection(root, "limits", spec.limits, readLimits));
  CONF_TRY(readAll(root, "listener", spec.listeners, readListener));
  if (spec.listeners.empty()) {
    const toml::node* node = root.get("listener");
    return ctx.error(node ? lineOf(*node) : 1, "listener", "at least one [[listener]] required");
  }
  CONF_TRY(readAll(root, "cluster", spec.clusters, readCluster));
  CONF_TRY(readAll(root, "vhost", spec.vhosts, readVhost));
  CONF_TRY(checkCrossReferences(ctx, root_table, spec));
  return spec;
}

// The only place toml++ may throw: syntax errors become "FILE:LINE: invalid TOML: ...".
Result<toml::table> parseToml(const Ctx& ctx, std::string_view text) {
  try {
    return toml::parse(text, ctx.file);
  } catch (const toml::parse_error& e) {
    return core::fail(Error::config(ctx.file + ":" + std::to_string(lineOf(e.source())) +
                                    ": invalid TOML: " + std::string(e.description())));
  }
}

std::unexpected<Error> ioError(const std::string& path, int err) {
  return core::fail(Error{core::ErrorCode::ConfigIo, core::ErrorSource::Config, false,
                          path + ": " + std::strerror(err)});
}

Result<std::string> readFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return ioError(path, errno);
  std::string text;
  char buf[16 * 1024];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) text.append(buf, n);
  if (std::ferror(file.get())) return ioError(path, errno != 0 ? errno : EIO);
  return text;
}

}  // namespace

Result<ConfigSpec> loadConfigString(std::string_view text, const std::string& name) {
  const Ctx ctx{name};
  auto root = parseToml(ctx, text);
  if (!root) return core::fail(std::move(root.error()));
  return buildSpec(ctx, *root);
}

Result<ConfigSpec> loadConfigFile(const std::string& path) {
  errno = 0;
  auto text = readFile(path);
  if (!text) return core::fail(std::move(text.error()));
  return loadConfigString(*text, path);
}

}  // namespace baton::conf
