// Walks the TOML tree (toml++ is included here and nowhere else) into a ConfigSpec.
//
// Order of checks: unknown keys of a table first (a typo should be reported as a typo, not as the
// missing key it was meant to be), then each key's type and value, then cross-references (names
// unique, route.cluster defined). The first error stops the load. toml++ reports syntax errors by
// exception; we catch exactly toml::parse_error at the one call and turn it into an Error.
#include "conf/loader.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

std::string inQuotes(std::string_view s) {
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
    allowed += (allowed.empty() ? "" : ", ") + inQuotes(n.name);
  }
  return ctx.error(node, key,
                   "unknown value " + inQuotes(*s) + " (expected one of " + allowed + ")");
}

constexpr EnumName<RawByteMode> kRawByteModes[] = {{"forward", RawByteMode::Forward},
                                                   {"encode", RawByteMode::Encode},
                                                   {"reject", RawByteMode::Reject}};
constexpr EnumName<AccessLogFormat> kLogFormats[] = {{"text", AccessLogFormat::Text},
                                                     {"json", AccessLogFormat::Json}};
constexpr EnumName<MarathonAuthScheme> kAuthSchemes[] = {{"token", MarathonAuthScheme::Token},
                                                         {"bearer", MarathonAuthScheme::Bearer}};
constexpr EnumName<AccessLogMode> kLogModes[] = {
    {"all", AccessLogMode::All}, {"errors", AccessLogMode::Errors}, {"off", AccessLogMode::Off}};
constexpr EnumName<LbPolicyKind> kPolicies[] = {{"round_robin", LbPolicyKind::RoundRobin},
                                                {"least_request", LbPolicyKind::LeastRequest},
                                                {"power_of_two", LbPolicyKind::PowerOfTwo},
                                                {"source_hash", LbPolicyKind::SourceHash}};
constexpr EnumName<UpstreamProtocol> kUpstreamProtocols[] = {{"http1", UpstreamProtocol::Http1},
                                                             {"h2c", UpstreamProtocol::H2c},
                                                             {"h2", UpstreamProtocol::H2}};
constexpr EnumName<ListenerKind> kListenerKinds[] = {{"http", ListenerKind::Http},
                                                     {"tcp", ListenerKind::Tcp}};
constexpr EnumName<RouteBy> kRouteBy[] = {{"host", RouteBy::Host},
                                          {"app_id", RouteBy::AppIdHeader}};
constexpr EnumName<TlsVersion> kTlsVersions[] = {{"1.2", TlsVersion::Tls12},
                                                 {"1.3", TlsVersion::Tls13}};
constexpr EnumName<PinMode> kPinModes[] = {
    {"off", PinMode::Off}, {"assets", PinMode::Assets}, {"full", PinMode::Full}};
constexpr EnumName<CdnOrigin> kCdnOrigins[] = {
    {"auto", CdnOrigin::Auto}, {"yes", CdnOrigin::Yes}, {"no", CdnOrigin::No}};

// Names of listeners, clusters and vhosts show up in logs and metrics: keep them plain.
Result<std::string> asName(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  const bool ok = !s->empty() && s->size() <= 64 &&
                  s->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_.-") == std::string::npos;
  if (!ok) return ctx.error(node, key, "name must be 1..64 of [A-Za-z0-9_.-], got " + inQuotes(*s));
  return s;
}

// A route scope: "" (the shared vhosts) or a name.
Result<std::string> asScope(const Ctx& ctx, const toml::node& node, std::string_view key) {
  if (const auto* v = node.as_string(); v && v->get().empty()) return std::string();
  return asName(ctx, node, key);
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

// Reads the optional sub-table `name` of `parent` with `read(table, out)`.
template <typename Spec, typename Read>
Result<void> readSection(const TableView& parent, std::string_view name, Spec& out, Read&& read) {
  auto t = subTable(parent, name);
  if (!t) return core::fail(std::move(t.error()));
  if (*t) return read(**t, out);
  return {};
}

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
                        "body_idle", "upstream_idle", "drain", "host_drain", "tls_handshake",
                        "tunnel_idle"}));
  CONF_TRY(t.optional("tls_handshake", out.tls_handshake, asPositiveDuration));
  CONF_TRY(t.optional("tunnel_idle", out.tunnel_idle, asPositiveDuration));
  CONF_TRY(t.optional("request_head", out.request_head, asPositiveDuration));
  CONF_TRY(t.optional("keepalive_idle", out.keepalive_idle, asPositiveDuration));
  CONF_TRY(t.optional("upstream_connect", out.upstream_connect, asPositiveDuration));
  CONF_TRY(t.optional("upstream_first_byte", out.upstream_first_byte, asPositiveDuration));
  CONF_TRY(t.optional("body_idle", out.body_idle, asPositiveDuration));
  CONF_TRY(t.optional("upstream_idle", out.upstream_idle, asPositiveDuration));
  // drain = "0s" is meaningful: close in-flight streams at once on shutdown.
  CONF_TRY(t.optional("drain", out.drain, asDuration));
  // host_drain = "0s": never cut a drained host's requests.
  return t.optional("host_drain", out.host_drain, asDuration);
}

// A byte rate: "1KiB/s" (a size string with "/s"), or an integer of bytes per second; 0 = off.
Result<uint64_t> asRate(const Ctx& ctx, const toml::node& node, std::string_view key) {
  if (const auto* i = node.as_integer()) {
    if (i->get() < 0) return ctx.error(node, key, "must not be negative");
    return static_cast<uint64_t>(i->get());
  }
  const auto* s = node.as_string();
  if (s == nullptr) {
    return ctx.wrongType(node, key,
                         "a rate (integer bytes per second, or a string such as \"1KiB/s\")");
  }
  std::string_view text = s->get();
  if (!text.ends_with("/s"))
    return ctx.error(node, key, "a rate ends with \"/s\", e.g. \"1KiB/s\"");
  text.remove_suffix(2);
  auto parsed = parseSize(text);
  if (!parsed) return ctx.at(node, key, parsed.error());
  return *parsed;
}

Result<void> readLimits(const TableView& t, LimitsSpec& out) {
  CONF_TRY(t.allowOnly({"request_line", "header_field", "header_block", "header_count", "body",
                        "requests_per_connection", "max_connections", "buffer_high_watermark",
                        "body_min_rate", "body_rate_window", "max_connections_total",
                        "buffer_budget", "fd_reserve"}));
  CONF_TRY(t.optional("request_line", out.request_line_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_field", out.header_field_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_block", out.header_block_bytes, u32SizeIn(1)));
  CONF_TRY(t.optional("header_count", out.header_count, u32In(1, 10'000)));
  CONF_TRY(t.optional("body", out.body_bytes, sizeIn(0, std::numeric_limits<uint64_t>::max())));
  CONF_TRY(t.optional("requests_per_connection", out.requests_per_connection, u32In(0, kU32Max)));
  CONF_TRY(t.optional("max_connections", out.max_connections, u32In(1, kU32Max)));
  CONF_TRY(t.optional("buffer_high_watermark", out.buffer_high_watermark, u32SizeIn(1)));
  CONF_TRY(t.optional("body_min_rate", out.body_min_rate, asRate));
  CONF_TRY(t.optional("body_rate_window", out.body_rate_window, asPositiveDuration));
  CONF_TRY(t.optional("max_connections_total", out.max_connections_total, u32In(0, kU32Max)));
  CONF_TRY(t.optional("buffer_budget", out.buffer_budget,
                      sizeIn(0, std::numeric_limits<uint64_t>::max())));
  return t.optional("fd_reserve", out.fd_reserve, u32In(0, 65'536));
}

// Keys that only make sense for one listener kind are refused on the other, at their own line.
Result<void> checkListenerKindKeys(const TableView& t, ListenerKind kind) {
  if (kind == ListenerKind::Tcp) {
    if (!t.get("cluster")) {
      return t.ctx().error(lineOf(t.table()), t.key("cluster"), "required for kind = \"tcp\"");
    }
    for (std::string_view http_only :
         {"route_by", "scope", "raw_bytes", "tls", "alpn", "h2c", "cdn_origin"}) {
      if (const toml::node* n = t.get(http_only)) {
        return t.ctx().error(*n, t.key(http_only), "only for kind = \"http\"");
      }
    }
  } else if (const toml::node* n = t.get("cluster")) {
    return t.ctx().error(*n, t.key("cluster"),
                         "only for kind = \"tcp\" (an http listener routes through vhosts)");
  }
  return {};
}

// An ALPN protocol baton speaks: "h2" or "http/1.1".
Result<std::string> asAlpn(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (s && *s != "h2" && *s != "http/1.1") {
    return ctx.error(node, key, "unknown protocol " + inQuotes(*s) + " (\"h2\" or \"http/1.1\")");
  }
  return s;
}

// tls / alpn / h2c: what an http listener speaks besides plain HTTP/1.
Result<void> readListenerProtocols(const TableView& t, ListenerSpec& out) {
  CONF_TRY(t.optional("tls", out.tls, asBool));
  CONF_TRY(t.optional("alpn", out.alpn, readArray(asAlpn)));
  CONF_TRY(t.optional("h2c", out.h2c, asBool));
  if (const toml::node* n = t.get("alpn")) {
    if (!out.tls) return t.ctx().error(*n, t.key("alpn"), "only for tls = true");
    if (out.alpn.empty()) return t.ctx().error(*n, t.key("alpn"), "at least one protocol");
    if (out.alpn.size() == 2 && out.alpn[0] == out.alpn[1]) {
      return t.ctx().error(*n, t.key("alpn"), "lists " + inQuotes(out.alpn[0]) + " twice");
    }
  }
  if (const toml::node* n = t.get("h2c"); n && out.tls) {
    return t.ctx().error(*n, t.key("h2c"), "only for plain listeners (TLS ones use alpn)");
  }
  if (out.tls) out.h2c = false;
  return {};
}

Result<ListenerSpec> readListener(const TableView& t) {
  ListenerSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name", "address", "kind", "cluster", "route_by", "scope", "raw_bytes",
                        "tls", "alpn", "h2c", "cdn_origin"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.required("address", out.address, checkedString(checkListenerAddress)));
  CONF_TRY(t.optional("kind", out.kind, enumOf(kListenerKinds)));
  CONF_TRY(checkListenerKindKeys(t, out.kind));
  CONF_TRY(t.optional("cluster", out.tcp_cluster, asName));
  CONF_TRY(t.optional("route_by", out.route_by, enumOf(kRouteBy)));
  CONF_TRY(t.optional("scope", out.route_scope, asScope));
  CONF_TRY(t.optional("raw_bytes", out.raw_bytes, enumOf(kRawByteModes)));
  CONF_TRY(readListenerProtocols(t, out));
  CONF_TRY(t.optional("cdn_origin", out.cdn_origin, enumOf(kCdnOrigins)));
  return out;
}

// A pinned version id (pin_versions, a host's version): what BATON_PIN_VERSION allows, so a
// configured id can be written in a cookie or a ?dpl= token unescaped.
Result<std::string> asVersionId(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  const bool ok = !s->empty() && s->size() <= 64 &&
                  s->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-") == std::string::npos;
  if (!ok) {
    return ctx.error(node, key, "version id must be 1..64 of [A-Za-z0-9._-], got " + inQuotes(*s));
  }
  return s;
}

// A host is "ip:port" or { address = "ip:port", weight = N, name, version }.
Result<HostSpec> asHost(const Ctx& ctx, const toml::node& node, std::string_view key) {
  HostSpec out;
  out.line = ctx.loc(node).line;
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
  CONF_TRY(t.allowOnly({"address", "weight", "name", "version"}));
  CONF_TRY(t.required("address", out.address, address));
  CONF_TRY(t.optional("weight", out.weight, u32In(1, 256)));
  CONF_TRY(t.optional("name", out.name, asName));
  CONF_TRY(t.optional("version", out.version, asVersionId));
  return out;
}

Result<void> readClusterTimeouts(const TableView& t, TimeoutOverrides& out) {
  CONF_TRY(t.allowOnly({"upstream_connect", "upstream_first_byte", "body_idle", "tunnel_idle"}));
  CONF_TRY(t.optional("upstream_connect", out.upstream_connect, asPositiveDuration));
  CONF_TRY(t.optional("upstream_first_byte", out.upstream_first_byte, asPositiveDuration));
  CONF_TRY(t.optional("body_idle", out.body_idle, asPositiveDuration));
  return t.optional("tunnel_idle", out.tunnel_idle, asPositiveDuration);
}

// A route's timeouts: what decides one request (tunnel_idle is the route's own key).
Result<void> readRouteTimeouts(const TableView& t, TimeoutOverrides& out) {
  CONF_TRY(t.allowOnly({"upstream_connect", "upstream_first_byte", "body_idle"}));
  CONF_TRY(t.optional("upstream_connect", out.upstream_connect, asPositiveDuration));
  CONF_TRY(t.optional("upstream_first_byte", out.upstream_first_byte, asPositiveDuration));
  return t.optional("body_idle", out.body_idle, asPositiveDuration);
}

// Host names are what stats, admin commands and sticky cookies use to name a host.
Result<void> checkHostNames(const TableView& t, const std::vector<HostSpec>& hosts) {
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i].name.empty()) continue;
    const auto [it, inserted] = seen.emplace(hosts[i].name, i);
    if (inserted) continue;
    return t.ctx().error(hosts[i].line, t.key("hosts[" + std::to_string(i) + "].name"),
                         "duplicate host name " + inQuotes(hosts[i].name) + " (hosts[" +
                             std::to_string(it->second) + "])");
  }
  return {};
}

// pin_versions: at least one id, each once, oldest first.
Result<std::vector<PinVersionSpec>> asPinVersions(const Ctx& ctx, const toml::node& node,
                                                  const std::string& key) {
  auto ids = readArray(asVersionId)(ctx, node, key);
  if (!ids) return core::fail(std::move(ids.error()));
  if (ids->empty()) return ctx.error(node, key, "at least one version id required");
  std::vector<PinVersionSpec> out;
  for (size_t i = 0; i < ids->size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if ((*ids)[i] != (*ids)[j]) continue;
      return ctx.error(*node.as_array()->get(i), key + "[" + std::to_string(i) + "]",
                       "duplicate version id " + inQuotes((*ids)[i]) + " (" + key + "[" +
                           std::to_string(j) + "])");
    }
    out.push_back(PinVersionSpec{(*ids)[i], "", "", ""});
  }
  return out;
}

// pin_group / pin_mode / pin_versions / pin_cache_cap: a configured pinned group. The group
// name and its versions come together; the other keys mean nothing without them.
Result<void> readClusterPin(const TableView& t, std::optional<PinGroupSpec>& out) {
  const toml::node* group = t.get("pin_group");
  const toml::node* versions = t.get("pin_versions");
  if (group == nullptr) {
    for (const char* key : {"pin_versions", "pin_mode", "pin_cache_cap"}) {
      if (const toml::node* n = t.get(key)) {
        return t.ctx().error(*n, t.key(key), "requires pin_group");
      }
    }
    return {};
  }
  if (versions == nullptr) {
    return t.ctx().error(*group, t.key("pin_group"), "requires pin_versions");
  }
  PinGroupSpec pin;
  CONF_TRY(t.required("pin_group", pin.group, asName));
  CONF_TRY(t.optional("pin_mode", pin.mode, enumOf(kPinModes)));
  CONF_TRY(t.optional("pin_cache_cap", pin.cache_cap, asBool));
  CONF_TRY(t.required("pin_versions", pin.versions, asPinVersions));
  out = std::move(pin);
  return {};
}

// A host's version must be one of its cluster's pin_versions.
Result<void> checkHostVersions(const TableView& t, const ClusterSpec& cluster) {
  for (size_t i = 0; i < cluster.hosts.size(); ++i) {
    const std::string& version = cluster.hosts[i].version;
    if (version.empty()) continue;
    const std::string key = t.key("hosts[" + std::to_string(i) + "].version");
    if (!cluster.pin) return t.ctx().error(cluster.hosts[i].line, key, "requires pin_group");
    const auto& versions = cluster.pin->versions;
    const bool known = std::any_of(versions.begin(), versions.end(),
                                   [&](const PinVersionSpec& v) { return v.id == version; });
    if (!known) {
      return t.ctx().error(cluster.hosts[i].line, key,
                           "unknown version " + inQuotes(version) + " (not in pin_versions)");
    }
  }
  return {};
}

constexpr EnumName<HealthCheckProtocol> kHealthProtocols[] = {{"http", HealthCheckProtocol::Http},
                                                              {"https", HealthCheckProtocol::Https},
                                                              {"tcp", HealthCheckProtocol::Tcp}};

// "200-399" or "200": the statuses a check accepts.
Result<std::pair<uint16_t, uint16_t>> asStatusRange(const Ctx& ctx, const toml::node& node,
                                                    std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return core::fail(std::move(s.error()));
  const auto parse = [](std::string_view text) -> std::optional<uint16_t> {
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 100 || v > 599) {
      return std::nullopt;
    }
    return static_cast<uint16_t>(v);
  };
  const std::string_view text = *s;
  const size_t dash = text.find('-');
  const auto lo = parse(text.substr(0, dash));
  const auto hi = dash == std::string_view::npos ? lo : parse(text.substr(dash + 1));
  if (!lo || !hi || *lo > *hi) {
    return ctx.error(node, key, "expected a status or a range such as \"200-399\" (100..599)");
  }
  return std::pair{*lo, *hi};
}

// health_check = { protocol, path, port, interval, timeout, healthy_threshold,
// unhealthy_threshold, grace, expect, host }
Result<void> readHealthCheck(const TableView& t, std::optional<HealthCheckSpec>& out) {
  HealthCheckSpec spec;
  CONF_TRY(t.allowOnly({"protocol", "path", "port", "interval", "timeout", "healthy_threshold",
                        "unhealthy_threshold", "grace", "expect", "host"}));
  CONF_TRY(t.optional("protocol", spec.protocol, enumOf(kHealthProtocols)));
  CONF_TRY(t.optional("path", spec.path, checkedString(checkRoutePrefix)));
  std::optional<uint16_t> port;
  CONF_TRY(t.optional("port", port, [](const Ctx& c, const toml::node& n, std::string_view k) {
    auto v = asInteger(c, n, k, 1, 65'535);
    if (!v) return Result<std::optional<uint16_t>>(core::fail(std::move(v.error())));
    return Result<std::optional<uint16_t>>(static_cast<uint16_t>(*v));
  }));
  spec.port = port;
  CONF_TRY(t.optional("interval", spec.interval, asPositiveDuration));
  CONF_TRY(t.optional("timeout", spec.timeout, asPositiveDuration));
  CONF_TRY(t.optional("healthy_threshold", spec.healthy_threshold, u32In(1, 100)));
  CONF_TRY(t.optional("unhealthy_threshold", spec.unhealthy_threshold, u32In(1, 100)));
  CONF_TRY(t.optional("grace", spec.grace, asDuration));
  std::pair<uint16_t, uint16_t> expect{spec.expect_min, spec.expect_max};
  CONF_TRY(t.optional("expect", expect, asStatusRange));
  spec.expect_min = expect.first;
  spec.expect_max = expect.second;
  CONF_TRY(t.optional("host", spec.host_header, checkedString(checkHostHeader)));
  if (spec.protocol == HealthCheckProtocol::Tcp) {
    for (const char* key : {"path", "expect", "host"}) {
      if (const toml::node* n = t.get(key)) {
        return t.ctx().error(*n, t.key(key), "only with protocol = \"http\" or \"https\"");
      }
    }
  }
  out = std::move(spec);
  return {};
}

// retry = { on = ["reset", "503"], retries = 2, replay_buffer = "64KiB" } (cluster and route).
// Listing `on` replaces the default (["reset"]): on = [] retries nothing that reached a host.
Result<void> readRetryPolicy(const TableView& t, RetryPolicySpec& out) {
  CONF_TRY(t.allowOnly({"on", "retries", "replay_buffer"}));
  std::optional<std::vector<std::string>> on;
  CONF_TRY(t.optional("on", on, readArray(asString)));
  if (on) {
    out.on_reset = false;
    out.statuses.clear();
    const toml::array& items = *t.get("on")->as_array();
    for (size_t i = 0; i < on->size(); ++i) {
      if (auto ok = addRetryCondition((*on)[i], out.on_reset, out.statuses); !ok) {
        return t.ctx().at(items[i], t.key("on[" + std::to_string(i) + "]"), ok.error());
      }
    }
  }
  CONF_TRY(t.optional("retries", out.retries, u32In(0, 8)));
  return t.optional("replay_buffer", out.replay_buffer, sizeIn(0, 16 * 1024 * 1024));
}

Result<void> readRouteRetry(const TableView& t, std::optional<RetryPolicySpec>& out) {
  RetryPolicySpec spec;
  CONF_TRY(readRetryPolicy(t, spec));
  out = std::move(spec);
  return {};
}

// retry_budget = { percent = 20, min_retries = 10, window = "10s" }
Result<void> readRetryBudget(const TableView& t, RetryBudgetSpec& out) {
  CONF_TRY(t.allowOnly({"percent", "min_retries", "window"}));
  CONF_TRY(t.optional("percent", out.percent, u32In(0, 100)));
  CONF_TRY(t.optional("min_retries", out.min_retries, u32In(0, 1'000'000)));
  return t.optional("window", out.window, asPositiveDuration);
}

// Circuit breaking: max_connections, max_pending, max_requests (0 = no limit).
Result<void> readCircuitLimits(const TableView& t, CircuitLimitsSpec& out) {
  CONF_TRY(t.optional("max_connections", out.max_connections, u32In(0, 10'000'000)));
  CONF_TRY(t.optional("max_pending", out.max_pending, u32In(0, 10'000'000)));
  return t.optional("max_requests", out.max_requests, u32In(0, 10'000'000));
}

// outlier = { consecutive_failures, consecutive_5xx, base_ejection, max_ejection,
// max_ejected_percent }; consecutive_failures = 0 with consecutive_5xx = 0 turns it off.
Result<void> readOutlier(const TableView& t, OutlierSpec& out) {
  CONF_TRY(t.allowOnly({"consecutive_failures", "consecutive_5xx", "base_ejection", "max_ejection",
                        "max_ejected_percent"}));
  CONF_TRY(t.optional("consecutive_failures", out.consecutive_failures, u32In(0, 1000)));
  CONF_TRY(t.optional("consecutive_5xx", out.consecutive_5xx, u32In(0, 1000)));
  CONF_TRY(t.optional("base_ejection", out.base_ejection, asPositiveDuration));
  CONF_TRY(t.optional("max_ejection", out.max_ejection, asPositiveDuration));
  CONF_TRY(t.optional("max_ejected_percent", out.max_ejected_percent, u32In(0, 100)));
  if (out.max_ejection < out.base_ejection) {
    const char* key = t.get("max_ejection") != nullptr ? "max_ejection" : "base_ejection";
    return t.ctx().error(*t.get(key), t.key(key), "max_ejection must be >= base_ejection");
  }
  return {};
}

Result<ClusterSpec> readCluster(const TableView& t) {
  ClusterSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name",
                        "policy",
                        "max_idle_connections",
                        "connect_attempts",
                        "sticky_cookie",
                        "timeouts",
                        "hosts",
                        "protocol",
                        "tls_verify",
                        "tls_ca_file",
                        "tls_server_name",
                        "pin_group",
                        "pin_mode",
                        "pin_versions",
                        "pin_cache_cap",
                        "health_check",
                        "panic",
                        "outlier",
                        "retry",
                        "retry_budget",
                        "max_connections",
                        "max_pending",
                        "max_requests"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.optional("policy", out.policy, enumOf(kPolicies)));
  CONF_TRY(t.optional("max_idle_connections", out.max_idle_connections, u32In(0, 65'535)));
  CONF_TRY(t.optional("connect_attempts", out.connect_attempts, u32In(1, 16)));
  CONF_TRY(t.optional("sticky_cookie", out.sticky_cookie, checkedString(checkCookieName)));
  CONF_TRY(readSection(t, "timeouts", out.timeouts, readClusterTimeouts));
  CONF_TRY(t.optional("protocol", out.protocol, enumOf(kUpstreamProtocols)));
  CONF_TRY(t.optional("tls_verify", out.tls_verify, asBool));
  CONF_TRY(t.optional("tls_ca_file", out.tls_ca_file, asString));
  CONF_TRY(t.optional("tls_server_name", out.tls_server_name, normalisedString(normaliseDnsName)));
  // TLS settings on a plain-text cluster would be silently ignored: refuse them.
  for (const char* key : {"tls_verify", "tls_ca_file", "tls_server_name"}) {
    if (out.protocol != UpstreamProtocol::H2 && t.get(key) != nullptr) {
      return t.ctx().error(*t.get(key), t.key(key), "only with protocol = \"h2\"");
    }
  }
  CONF_TRY(t.required("hosts", out.hosts, readArray(asHost)));
  if (out.hosts.empty())
    return t.ctx().error(*t.get("hosts"), t.key("hosts"), "at least one host required");
  CONF_TRY(checkHostNames(t, out.hosts));
  CONF_TRY(readClusterPin(t, out.pin));
  CONF_TRY(checkHostVersions(t, out));
  CONF_TRY(readSection(t, "health_check", out.health_check, readHealthCheck));
  CONF_TRY(t.optional("panic", out.panic, asBool));
  CONF_TRY(readSection(t, "outlier", out.outlier, readOutlier));
  CONF_TRY(readSection(t, "retry", out.retry, readRetryPolicy));
  CONF_TRY(readSection(t, "retry_budget", out.retry_budget, readRetryBudget));
  CONF_TRY(readCircuitLimits(t, out.limits));
  return out;
}

// { user = "u", password_hash = "$6$..." }
Result<BasicAuthUser> asAuthUser(const Ctx& ctx, const toml::node& node, std::string_view key) {
  const auto* table = node.as_table();
  if (!table) return ctx.wrongType(node, key, "a table { user, password_hash }");
  const TableView t(ctx, *table, std::string(key));
  BasicAuthUser out;
  CONF_TRY(t.allowOnly({"user", "password_hash"}));
  CONF_TRY(t.required("user", out.user, checkedString(checkAuthUser)));
  CONF_TRY(t.required("password_hash", out.password_hash, checkedString(checkCryptHash)));
  return out;
}

Result<void> readBasicAuth(const TableView& t, std::optional<BasicAuthSpec>& out) {
  BasicAuthSpec spec;
  CONF_TRY(t.allowOnly({"realm", "users"}));
  CONF_TRY(t.required("realm", spec.realm, checkedString(checkAuthRealm)));
  CONF_TRY(t.required("users", spec.users, readArray(asAuthUser)));
  if (spec.users.empty()) {
    return t.ctx().error(*t.get("users"), t.key("users"), "at least one user required");
  }
  for (size_t i = 1; i < spec.users.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spec.users[i].user != spec.users[j].user) continue;
      const std::string key = t.key("users[" + std::to_string(i) + "].user");
      return t.ctx().error(
          *t.get("users")->as_array()->get(i), key,
          "duplicate user " + inQuotes(spec.users[i].user) + " (users[" + std::to_string(j) + "])");
    }
  }
  out = std::move(spec);
  return {};
}

// What a route does besides forwarding (marathon-lb's per-app labels).
Result<void> readRouteActions(const TableView& t, RouteSpec& out) {
  CONF_TRY(t.optional("allowed_sources", out.allowed_sources,
                      readArray(normalisedString(normaliseCidr))));
  CONF_TRY(readSection(t, "basic_auth", out.basic_auth, readBasicAuth));
  CONF_TRY(t.optional("redirect_to_https", out.redirect_to_https, asBool));
  CONF_TRY(t.optional("redirect_root_to", out.redirect_root_to, checkedString(checkRedirectPath)));
  CONF_TRY(t.optional("strip_prefix", out.strip_prefix, checkedString(checkRoutePrefix)));
  CONF_TRY(t.optional("upstream_host", out.upstream_host, checkedString(checkHostHeader)));
  CONF_TRY(t.optional("location_rewrite", out.location_rewrite, checkedString(checkRedirectPath)));
  CONF_TRY(t.optional("websocket", out.websocket, asBool));
  CONF_TRY(t.optional("tunnel_idle", out.tunnel_idle, asPositiveDuration));
  return t.optional("hsts", out.hsts, asBool);
}

Result<RouteSpec> readRoute(const TableView& t) {
  RouteSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"prefix", "cluster", "body_limit", "raw_bytes", "merge_slashes",
                        "allowed_sources", "basic_auth", "redirect_to_https", "redirect_root_to",
                        "strip_prefix", "upstream_host", "location_rewrite", "hsts", "websocket",
                        "tunnel_idle", "timeouts", "retry", "access_log"}));
  CONF_TRY(t.optional("prefix", out.prefix, checkedString(checkRoutePrefix)));
  CONF_TRY(t.required("cluster", out.cluster, asString));
  CONF_TRY(
      t.optional("body_limit", out.body_bytes, sizeIn(0, std::numeric_limits<uint64_t>::max())));
  CONF_TRY(t.optional("raw_bytes", out.raw_bytes, enumOf(kRawByteModes)));
  CONF_TRY(t.optional("merge_slashes", out.merge_slashes, asBool));
  CONF_TRY(t.optional("access_log", out.access_log, enumOf(kLogModes)));
  CONF_TRY(readRouteActions(t, out));
  CONF_TRY(readSection(t, "timeouts", out.timeouts, readRouteTimeouts));
  CONF_TRY(readSection(t, "retry", out.retry, readRouteRetry));
  return out;
}

// A host name pattern, or a Marathon app id ("/shop/web") matched by route_by = "app_id"
// listeners (a Host header never starts with '/', so the two cannot be confused).
Result<std::string> normaliseVhostDomain(std::string_view domain) {
  return domain.starts_with('/') ? normaliseAppId(domain) : normaliseDomain(domain);
}

// Defined with the [pinning] section (a vhost may override its asset patterns).
Result<std::string> asPathSuffix(const Ctx& ctx, const toml::node& node, std::string_view key);

Result<VirtualHostSpec> readVhost(const TableView& t) {
  VirtualHostSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"name", "domains", "scope", "route", "cdn_origin", "pin_asset_suffixes",
                        "pin_asset_prefixes"}));
  CONF_TRY(t.required("name", out.name, asName));
  CONF_TRY(t.optional("scope", out.scope, asScope));
  CONF_TRY(t.optional("cdn_origin", out.cdn_origin, enumOf(kCdnOrigins)));
  CONF_TRY(t.optional("pin_asset_suffixes", out.pin_asset_suffixes, readArray(asPathSuffix)));
  CONF_TRY(t.optional("pin_asset_prefixes", out.pin_asset_prefixes,
                      readArray(checkedString(checkRoutePrefix))));
  CONF_TRY(t.required("domains", out.domains, readArray(normalisedString(normaliseVhostDomain))));
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

// "file:PATH" with a relative PATH is taken relative to the config file's directory, so a config
// and its app document can move together; http(s) URLs only get their syntax checked.
auto marathonUrl(const std::string& config_file) {
  return
      [config_file](const Ctx& c, const toml::node& n, std::string_view k) -> Result<std::string> {
        auto s = asString(c, n, k);
        if (!s || !s->starts_with("file:")) return checkedString(checkMarathonUrl)(c, n, k);
        const std::filesystem::path path(s->substr(5));
        if (path.empty()) return c.error(n, k, "\"file:\" needs a path");
        if (path.is_absolute()) return s;
        return "file:" + (std::filesystem::path(config_file).parent_path() / path).string();
      };
}

Result<uint16_t> asPort(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto v = asInteger(ctx, node, key, 0, 65'535);
  if (!v) return core::fail(std::move(v.error()));
  return static_cast<uint16_t>(*v);
}

// A string value sent to Marathon in a header: control characters would split the header.
Result<std::string> asHeaderString(const Ctx& ctx, const toml::node& node, std::string_view key) {
  return checkedString(checkHeaderSafe)(ctx, node, key);
}

Result<std::string> asOptionalIp(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s || s->empty()) return s;
  return checkedString(checkNumericIp)(ctx, node, key);
}

Result<void> readMarathonLists(const TableView& t, MarathonSpec& out) {
  CONF_TRY(t.optional("urls", out.urls, readArray(marathonUrl(t.ctx().file))));
  if (const toml::node* n = t.get("urls"); n && out.urls.empty()) {
    return t.ctx().error(*n, t.key("urls"),
                         "at least one URL required (omit the key to turn discovery off)");
  }
  CONF_TRY(t.optional("groups", out.groups, readArray(checkedString(checkMarathonGroup))));
  if (out.groups.empty()) {
    return t.ctx().error(*t.get("groups"), t.key("groups"),
                         "at least one group required (\"*\" selects every app)");
  }
  return {};
}

Result<void> readMarathonDurations(const TableView& t, MarathonSpec& out) {
  CONF_TRY(t.optional("resync_interval", out.resync_interval, asPositiveDuration));
  // "0ms" is meaningful: every event triggers its own resync.
  CONF_TRY(t.optional("event_debounce", out.event_debounce, asDuration));
  CONF_TRY(t.optional("stream_idle_timeout", out.stream_idle_timeout, asPositiveDuration));
  CONF_TRY(t.optional("request_timeout", out.request_timeout, asPositiveDuration));
  return t.optional("max_backoff", out.max_backoff, asPositiveDuration);
}

Result<void> readMarathon(const TableView& t, MarathonSpec& out) {
  CONF_TRY(t.allowOnly({"urls",
                        "groups",
                        "strict_mode",
                        "health_check",
                        "domain",
                        "username",
                        "password",
                        "auth_token",
                        "auth_scheme",
                        "ca_file",
                        "resync_interval",
                        "event_debounce",
                        "stream_idle_timeout",
                        "request_timeout",
                        "max_backoff",
                        "state_file",
                        "bind_address",
                        "http_port",
                        "app_id_port",
                        "https_port",
                        "bind_service_ports"}));
  CONF_TRY(readMarathonLists(t, out));
  CONF_TRY(t.optional("strict_mode", out.strict_mode, asBool));
  CONF_TRY(t.optional("health_check", out.health_check, asBool));
  CONF_TRY(t.optional("domain", out.domain, normalisedString(normaliseDnsName)));
  CONF_TRY(t.optional("username", out.username, asHeaderString));
  CONF_TRY(t.optional("password", out.password, asHeaderString));
  CONF_TRY(t.optional("auth_token", out.auth_token, asHeaderString));
  CONF_TRY(t.optional("auth_scheme", out.auth_scheme, enumOf(kAuthSchemes)));
  CONF_TRY(t.optional("ca_file", out.ca_file, asString));
  CONF_TRY(readMarathonDurations(t, out));
  CONF_TRY(t.optional("state_file", out.state_file, asString));
  CONF_TRY(t.optional("bind_address", out.bind_address, asOptionalIp));
  CONF_TRY(t.optional("http_port", out.http_port, asPort));
  CONF_TRY(t.optional("app_id_port", out.app_id_port, asPort));
  CONF_TRY(t.optional("https_port", out.https_port, asPort));
  return t.optional("bind_service_ports", out.bind_service_ports, asBool);
}

// "0600" (an octal string, as chmod takes it): at most 0777, and never writable by others.
Result<uint32_t> asSocketMode(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return core::fail(std::move(s.error()));
  uint32_t mode = 0;
  if (s->empty() || s->size() > 4)
    return ctx.error(node, key, "must be an octal mode like \"0600\"");
  for (char c : *s) {
    if (c < '0' || c > '7') return ctx.error(node, key, "must be an octal mode like \"0600\"");
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (mode > 0777) return ctx.error(node, key, "must be at most 0777");
  if ((mode & 0002) != 0) {
    return ctx.error(node, key, "must not be writable by others (anyone could drain hosts)");
  }
  return mode;
}

// The token from `token_file`, read at load time (readTokenFile's rule).
Result<std::string> asTokenFile(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto path = asString(ctx, node, key);
  if (!path) return core::fail(std::move(path.error()));
  auto token = readTokenFile(*path);
  if (!token) return ctx.error(node, key, token.error().detail);
  return token;
}

Result<void> readAdmin(const TableView& t, AdminSpec& out) {
  CONF_TRY(t.allowOnly(
      {"http", "socket", "socket_mode", "socket_uids", "socket_gids", "token", "token_file"}));
  CONF_TRY(t.optional("http", out.http_address,
                      [](const Ctx& c, const toml::node& n, std::string_view k) {
                        auto s = asString(c, n, k);
                        if (!s || s->empty()) return s;
                        return checkedString(checkListenerAddress)(c, n, k);
                      }));
  CONF_TRY(t.optional("socket", out.socket_path, asString));
  CONF_TRY(t.optional("socket_mode", out.socket_mode, asSocketMode));
  CONF_TRY(t.optional("socket_uids", out.socket_uids, readArray(u32In(0, kU32Max))));
  CONF_TRY(t.optional("socket_gids", out.socket_gids, readArray(u32In(0, kU32Max))));
  CONF_TRY(t.optional("token", out.token, asString));
  return t.optional("token_file", out.token, asTokenFile);
}

Result<void> readUpstream(const TableView& t, UpstreamSpec& out) {
  CONF_TRY(t.allowOnly({"source_address"}));
  return t.optional("source_address", out.source_address,
                    [](const Ctx& c, const toml::node& n, std::string_view k) {
                      auto s = asString(c, n, k);
                      if (!s || s->empty()) return s;  // "" = the kernel's choice
                      return normalisedString(normaliseSourceAddress)(c, n, k);
                    });
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

// A file path; relative paths are taken relative to the config file's directory.
auto filePath(const std::string& config_file) {
  return
      [config_file](const Ctx& c, const toml::node& n, std::string_view k) -> Result<std::string> {
        auto s = asString(c, n, k);
        if (!s || s->empty()) return s;
        const std::filesystem::path path(*s);
        if (path.is_absolute()) return s;
        return (std::filesystem::path(config_file).parent_path() / path).string();
      };
}

Result<CertificateSpec> readCertificate(const TableView& t) {
  CertificateSpec out;
  out.loc = t.loc();
  CONF_TRY(t.allowOnly({"cert", "key", "ocsp", "default"}));
  CONF_TRY(t.required("cert", out.cert, filePath(t.ctx().file)));
  if (out.cert.empty()) return t.ctx().error(*t.get("cert"), t.key("cert"), "must not be empty");
  CONF_TRY(t.optional("key", out.key, filePath(t.ctx().file)));
  CONF_TRY(t.optional("ocsp", out.ocsp, filePath(t.ctx().file)));
  CONF_TRY(t.optional("default", out.is_default, asBool));
  return out;
}

// [tls] and its [[tls.certificate]] entries (the files themselves are read by proxy/tls when the
// server builds its contexts, which names file and key on failure).
Result<void> readTls(const TableView& t, TlsSpec& out) {
  CONF_TRY(t.allowOnly({"min_version", "ciphers", "ciphersuites", "ticket_key_rotation",
                        "ticket_key_file", "watch_interval", "certificate"}));
  CONF_TRY(t.optional("min_version", out.min_version, enumOf(kTlsVersions)));
  CONF_TRY(t.optional("ciphers", out.ciphers, asString));
  CONF_TRY(t.optional("ciphersuites", out.ciphersuites, asString));
  CONF_TRY(t.optional("ticket_key_rotation", out.ticket_key_rotation, asDuration));
  CONF_TRY(t.optional("ticket_key_file", out.ticket_key_file, filePath(t.ctx().file)));
  CONF_TRY(t.optional("watch_interval", out.watch_interval, asDuration));
  CONF_TRY(readAll(t, "certificate", out.certificates, readCertificate));
  size_t defaults = 0;
  for (const auto& c : out.certificates) defaults += c.is_default ? 1 : 0;
  if (defaults > 1) {
    return t.ctx().error(lineOf(t.table()), t.key("certificate"),
                         "more than one certificate has default = true");
  }
  return {};
}

Result<void> readHttp2(const TableView& t, Http2Spec& out) {
  CONF_TRY(t.allowOnly({"max_concurrent_streams", "initial_window", "max_header_list",
                        "reset_burst", "reset_rate", "control_frame_burst", "control_frame_rate"}));
  CONF_TRY(t.optional("max_concurrent_streams", out.max_concurrent_streams, u32In(1, 10'000)));
  // RFC 9113 6.9.2: a window is at most 2^31-1.
  CONF_TRY(
      t.optional("initial_window", out.initial_window_bytes,
                 [](const Ctx& c, const toml::node& n, std::string_view k) -> Result<uint32_t> {
                   auto v = asSize(c, n, k, 1024, 0x7fffffff);
                   if (!v) return core::fail(std::move(v.error()));
                   return static_cast<uint32_t>(*v);
                 }));
  CONF_TRY(t.optional("max_header_list", out.max_header_list_bytes, u32SizeIn(1024)));
  CONF_TRY(t.optional("reset_burst", out.reset_burst, u32In(1, kU32Max)));
  CONF_TRY(t.optional("reset_rate", out.reset_rate, u32In(1, kU32Max)));
  CONF_TRY(t.optional("control_frame_burst", out.control_frame_burst, u32In(1, kU32Max)));
  return t.optional("control_frame_rate", out.control_frame_rate, u32In(1, kU32Max));
}

// A query parameter name (pinning.token_param): matched byte for byte against the raw query,
// so only bytes that never need percent-encoding.
Result<std::string> asParamName(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  const bool ok = !s->empty() && s->size() <= 64 &&
                  s->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-~") == std::string::npos;
  if (!ok) {
    return ctx.error(node, key,
                     "query parameter name must be 1..64 of [A-Za-z0-9._~-], got " + inQuotes(*s));
  }
  return s;
}

// A header field name (an RFC 9110 token, the same bytes as a cookie name), stored lower-case
// as the request path compares it.
Result<std::string> asHeaderName(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  if (!checkCookieName(*s)) {
    return ctx.error(node, key,
                     "invalid header name " + inQuotes(*s) +
                         ": expected 1..64 of letters, digits and !#$%&'*+-.^_`|~");
  }
  for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An asset suffix (".js", "-min.css"): the end of a path, compared case-insensitively, so
// stored lower-case; no '/', '?' or '#' (it could never match the end of a path).
Result<std::string> asPathSuffix(const Ctx& ctx, const toml::node& node, std::string_view key) {
  auto s = asString(ctx, node, key);
  if (!s) return s;
  bool ok = !s->empty() && s->size() <= 64;
  for (char& c : *s) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && u > 0x20 && u < 0x7f && c != '/' && c != '?' && c != '#';
    c = static_cast<char>(std::tolower(u));
  }
  if (!ok) {
    return ctx.error(node, key,
                     "suffix must be 1..64 visible ASCII bytes without '/', '?' or '#', got " +
                         inQuotes(node.as_string()->get()));
  }
  return s;
}

Result<void> readPinningNames(const TableView& t, PinningSpec& out) {
  CONF_TRY(t.optional("token_param", out.token_param, asParamName));
  CONF_TRY(t.optional("header", out.header, asHeaderName));
  return t.optional("cookie", out.cookie, checkedString(checkCookieName));
}

Result<void> readPinningPaths(const TableView& t, PinningSpec& out) {
  CONF_TRY(t.optional("asset_suffixes", out.asset_suffixes, readArray(asPathSuffix)));
  CONF_TRY(
      t.optional("asset_prefixes", out.asset_prefixes, readArray(checkedString(checkRoutePrefix))));
  CONF_TRY(t.optional("hashed_min_hex", out.hashed_min_hex, u32In(4, 64)));
  return t.optional("hashed_prefixes", out.hashed_prefixes,
                    readArray(checkedString(checkRoutePrefix)));
}

// [pinning]: asset pinning during blue-green cutovers (conf/README.md, asset-pinning.md).
Result<void> readPinning(const TableView& t, PinningSpec& out) {
  CONF_TRY(t.allowOnly({"token_param", "header", "cookie", "cookie_ttl", "grace", "max_retries",
                        "map_entries", "negative_ttl", "cache_cap", "cdn_origin", "asset_suffixes",
                        "asset_prefixes", "hashed_min_hex", "hashed_prefixes"}));
  CONF_TRY(readPinningNames(t, out));
  CONF_TRY(t.optional("cookie_ttl", out.cookie_ttl, asPositiveDuration));
  // grace = "0s": pinning ends the moment a group is back to one version.
  CONF_TRY(t.optional("grace", out.grace, asDuration));
  CONF_TRY(t.optional("max_retries", out.max_retries, u32In(0, 8)));
  CONF_TRY(t.optional("map_entries", out.map_entries, u32In(0, 10'000'000)));
  // negative_ttl = "0s": a 404 is never remembered (every miss is retried afresh).
  CONF_TRY(t.optional("negative_ttl", out.negative_ttl, asDuration));
  CONF_TRY(t.optional("cache_cap", out.cache_cap, asBool));
  CONF_TRY(t.optional("cdn_origin", out.cdn_origin, enumOf(kCdnOrigins)));
  return readPinningPaths(t, out);
}

// ---- Whole-spec validation (validateConfig; the loader's last step) ----

// Names file, line and key in a validation error. A spec read from a file finds the line of the
// key again in the TOML tree; a spec built in code has only the SourceLoc of the enclosing table,
// or nothing (then the message is "FILE: KEY: message").
class Reporter {
 public:
  using LineOfKey = std::function<uint32_t(const std::string& key)>;  // 0 = not found

  Reporter(std::string file, LineOfKey line_of_key, uint32_t fallback_line)
      : file_(std::move(file)), line_of_key_(std::move(line_of_key)), fallback_(fallback_line) {}

  std::unexpected<Error> error(const std::string& key, const SourceLoc* loc,
                               std::string_view msg) const {
    uint32_t line = line_of_key_ ? line_of_key_(key) : 0;
    if (line == 0 && loc) line = loc->line;
    if (line == 0) line = fallback_;
    const std::string& file = loc && !loc->file.empty() ? loc->file : file_;
    std::string where;
    if (!file.empty()) where = file + (line ? ":" + std::to_string(line) : "") + ": ";
    return core::fail(Error::config(where + key + ": " + std::string(msg)));
  }

 private:
  std::string file_;
  LineOfKey line_of_key_;
  uint32_t fallback_;
};

std::string indexed(std::string_view array, size_t i) {
  return std::string(array) + "[" + std::to_string(i) + "]";
}

bool hasCluster(const ConfigSpec& spec, std::string_view name) {
  for (const auto& c : spec.clusters) {
    if (c.name == name) return true;
  }
  return false;
}

template <typename Spec>
Result<void> checkUniqueNames(const Reporter& rep, std::string_view array,
                              const std::vector<Spec>& specs) {
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto [it, inserted] = seen.emplace(specs[i].name, i);
    if (inserted) continue;
    const SourceLoc& first = specs[it->second].loc;
    return rep.error(indexed(array, i) + ".name", &specs[i].loc,
                     "duplicate name " + inQuotes(specs[i].name) +
                         (first.line ? " (first defined at line " + std::to_string(first.line)
                                     : " (first is " + indexed(array, it->second)) +
                         ")");
  }
  return {};
}

// Two sockets on one address string would both bind (SO_REUSEPORT) and split the traffic.
Result<void> checkListenerAddresses(const Reporter& rep, const ConfigSpec& spec) {
  std::map<std::string_view, const ListenerSpec*> seen;
  for (size_t i = 0; i < spec.listeners.size(); ++i) {
    const ListenerSpec& l = spec.listeners[i];
    const auto [it, inserted] = seen.emplace(l.address, &l);
    if (inserted) continue;
    return rep.error(indexed("listener", i) + ".address", &l.loc,
                     "address " + inQuotes(l.address) + " already used by listener " +
                         inQuotes(it->second->name));
  }
  if (auto it = seen.find(spec.admin.http_address); it != seen.end()) {
    return rep.error("admin.http", nullptr,
                     "address " + inQuotes(spec.admin.http_address) + " already used by listener " +
                         inQuotes(it->second->name));
  }
  return {};
}

// A domain is unique within its scope: scoped vhosts are only seen by their scope's listeners.
Result<void> checkVhostDomains(const Reporter& rep, const std::vector<VirtualHostSpec>& vhosts) {
  std::map<std::pair<std::string_view, std::string_view>, const VirtualHostSpec*> seen;
  for (size_t i = 0; i < vhosts.size(); ++i) {
    const VirtualHostSpec& vh = vhosts[i];
    for (size_t d = 0; d < vh.domains.size(); ++d) {
      const auto [it, inserted] =
          seen.emplace(std::pair<std::string_view, std::string_view>(vh.scope, vh.domains[d]), &vh);
      if (inserted) continue;
      return rep.error(indexed("vhost", i) + ".domains[" + std::to_string(d) + "]", &vh.loc,
                       "domain " + inQuotes(vh.domains[d]) + " already used by vhost " +
                           inQuotes(it->second->name) +
                           (vh.scope.empty() ? "" : " in scope " + inQuotes(vh.scope)));
    }
  }
  return {};
}

Result<void> checkRouteClusters(const Reporter& rep, const ConfigSpec& spec) {
  for (size_t v = 0; v < spec.vhosts.size(); ++v) {
    for (size_t r = 0; r < spec.vhosts[v].routes.size(); ++r) {
      const RouteSpec& route = spec.vhosts[v].routes[r];
      if (hasCluster(spec, route.cluster)) continue;
      return rep.error(indexed("vhost", v) + ".route[" + std::to_string(r) + "].cluster",
                       &route.loc, "unknown cluster " + inQuotes(route.cluster));
    }
  }
  return {};
}

Result<void> checkTcpListener(const Reporter& rep, const std::string& key, const ListenerSpec& l,
                              const ConfigSpec& spec) {
  if (l.tcp_cluster.empty())
    return rep.error(key + ".cluster", &l.loc, "required for kind = \"tcp\"");
  if (!hasCluster(spec, l.tcp_cluster)) {
    return rep.error(key + ".cluster", &l.loc, "unknown cluster " + inQuotes(l.tcp_cluster));
  }
  const char* http_only = l.route_by != RouteBy::Host           ? "route_by"
                          : !l.route_scope.empty()              ? "scope"
                          : l.raw_bytes != RawByteMode::Forward ? "raw_bytes"
                                                                : nullptr;
  if (http_only) return rep.error(key + "." + http_only, &l.loc, "only for kind = \"http\"");
  return {};
}

Result<void> checkHttpListener(const Reporter& rep, const std::string& key, const ListenerSpec& l,
                               const ConfigSpec& spec) {
  if (!l.tcp_cluster.empty()) {
    return rep.error(key + ".cluster", &l.loc,
                     "only for kind = \"tcp\" (an http listener routes through vhosts)");
  }
  if (l.route_scope.empty()) return {};
  for (const auto& vh : spec.vhosts) {
    if (vh.scope == l.route_scope) return {};
  }
  return rep.error(key + ".scope", &l.loc, "no vhost has scope " + inQuotes(l.route_scope));
}

Result<void> checkListenerRules(const Reporter& rep, const ConfigSpec& spec) {
  for (size_t i = 0; i < spec.listeners.size(); ++i) {
    const ListenerSpec& l = spec.listeners[i];
    const std::string key = indexed("listener", i);
    // With Marathon on, HAPROXY_{n}_SSL_CERT labels may still bring certificates.
    if (l.tls && spec.tls.certificates.empty() && spec.marathon.urls.empty()) {
      return rep.error(key + ".tls", &l.loc, "no [[tls.certificate]] to serve");
    }
    CONF_TRY(l.kind == ListenerKind::Tcp ? checkTcpListener(rep, key, l, spec)
                                         : checkHttpListener(rep, key, l, spec));
  }
  return {};
}

// Runs a message-only value check and anchors its error at `key`.
Result<void> checkValue(const Reporter& rep, const std::string& key, Result<void> checked) {
  if (!checked) return rep.error(key, nullptr, checked.error().detail);
  return {};
}

Result<void> checkMarathonUrls(const Reporter& rep, const MarathonSpec& m) {
  for (size_t i = 0; i < m.urls.size(); ++i) {
    const std::string key = indexed("marathon.urls", i);
    if (!m.urls[i].starts_with("file:")) {
      CONF_TRY(checkValue(rep, key, checkMarathonUrl(m.urls[i])));
      continue;
    }
    if (m.urls.size() > 1) {
      return rep.error(key, nullptr, "a \"file:\" source must be the only URL");
    }
    if (m.urls[i].size() == 5) return rep.error(key, nullptr, "\"file:\" needs a path");
  }
  if (m.groups.empty()) {
    return rep.error("marathon.groups", nullptr,
                     "at least one group required (\"*\" selects every app)");
  }
  for (size_t i = 0; i < m.groups.size(); ++i) {
    CONF_TRY(checkValue(rep, indexed("marathon.groups", i), checkMarathonGroup(m.groups[i])));
  }
  return {};
}

Result<void> checkMarathonStrings(const Reporter& rep, MarathonSpec& m) {
  if (!m.domain.empty()) {
    auto domain = normaliseDnsName(m.domain);
    if (!domain) return rep.error("marathon.domain", nullptr, domain.error().detail);
    m.domain = std::move(*domain);
  }
  CONF_TRY(checkValue(rep, "marathon.username", checkHeaderSafe(m.username)));
  CONF_TRY(checkValue(rep, "marathon.password", checkHeaderSafe(m.password)));
  CONF_TRY(checkValue(rep, "marathon.auth_token", checkHeaderSafe(m.auth_token)));
  if (m.username.find(':') != std::string::npos) {
    return rep.error("marathon.username", nullptr, "must not contain ':'");
  }
  if (!m.password.empty() && m.username.empty()) {
    return rep.error("marathon.password", nullptr, "requires marathon.username");
  }
  if (!m.bind_address.empty()) {
    CONF_TRY(checkValue(rep, "marathon.bind_address", checkNumericIp(m.bind_address)));
  }
  const std::pair<const char*, Duration> positive[] = {
      {"resync_interval", m.resync_interval},
      {"stream_idle_timeout", m.stream_idle_timeout},
      {"request_timeout", m.request_timeout},
      {"max_backoff", m.max_backoff}};
  for (const auto& [name, value] : positive) {
    if (value.count() <= 0) {
      return rep.error("marathon." + std::string(name), nullptr, "must be greater than 0");
    }
  }
  if (m.event_debounce.count() < 0) {
    return rep.error("marathon.event_debounce", nullptr, "must not be negative");
  }
  return {};
}

// "ip:port" / "[v6]:port" / ":port" -> host ("" for all addresses) and port; the address was
// syntax-checked by the loader (or is garbage, in which case nothing is found to clash).
std::pair<std::string_view, uint32_t> splitListenAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return {address, 0};
  std::string_view host = address.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  uint32_t port = 0;
  const std::string_view digits = address.substr(colon + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return {host, port};
}

bool isAnyAddress(std::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

// marathon-lb's own listeners (http_port, app_id_port on bind_address) must not land on a
// configured listener's or the admin's socket: with SO_REUSEPORT both binds would succeed and
// split the connections between two unrelated routers.
Result<void> checkMarathonPorts(const Reporter& rep, const ConfigSpec& spec) {
  const MarathonSpec& m = spec.marathon;
  if (m.http_port != 0 && m.http_port == m.app_id_port) {
    return rep.error("marathon.app_id_port", nullptr,
                     "port " + std::to_string(m.app_id_port) + " is also marathon.http_port");
  }
  std::vector<std::pair<std::string, std::string_view>> taken;  // who, address
  for (const auto& l : spec.listeners) {
    // Discovered listeners (in a merged spec) are the Marathon listeners themselves.
    if (l.origin == "config") taken.emplace_back("listener " + inQuotes(l.name), l.address);
  }
  if (!spec.admin.http_address.empty()) taken.emplace_back("admin.http", spec.admin.http_address);
  if (m.https_port != 0 && (m.https_port == m.http_port || m.https_port == m.app_id_port)) {
    return rep.error("marathon.https_port", nullptr,
                     "port " + std::to_string(m.https_port) + " is also another marathon port");
  }
  for (const auto& [key, port] : {std::pair{"marathon.http_port", m.http_port},
                                  std::pair{"marathon.app_id_port", m.app_id_port},
                                  std::pair{"marathon.https_port", m.https_port}}) {
    if (port == 0) continue;
    for (const auto& [who, address] : taken) {
      const auto [host, taken_port] = splitListenAddress(address);
      if (taken_port != port) continue;
      if (!isAnyAddress(host) && !isAnyAddress(m.bind_address) && host != m.bind_address) continue;
      return rep.error(key, nullptr,
                       "port " + std::to_string(port) + " clashes with " + who + " (" +
                           inQuotes(address) + "); set " + key + " = 0 to not open it");
    }
  }
  return {};
}

Result<void> checkMarathon(const Reporter& rep, ConfigSpec& spec) {
  if (spec.marathon.urls.empty()) return {};  // discovery off: nothing else is used
  CONF_TRY(checkMarathonUrls(rep, spec.marathon));
  CONF_TRY(checkMarathonStrings(rep, spec.marathon));
  return checkMarathonPorts(rep, spec);
}

Result<void> checkAdmin(const Reporter& rep, const AdminSpec& admin) {
  if (admin.http_address.empty()) return {};
  return checkValue(rep, "admin.http", checkListenerAddress(admin.http_address));
}

Result<void> validateWith(const Reporter& rep, ConfigSpec& spec) {
  if (spec.listeners.empty() && spec.marathon.urls.empty()) {
    return rep.error("listener", nullptr, "at least one [[listener]] required");
  }
  CONF_TRY(checkUniqueNames(rep, "listener", spec.listeners));
  CONF_TRY(checkAdmin(rep, spec.admin));
  CONF_TRY(checkListenerAddresses(rep, spec));
  CONF_TRY(checkUniqueNames(rep, "cluster", spec.clusters));
  CONF_TRY(checkUniqueNames(rep, "vhost", spec.vhosts));
  CONF_TRY(checkVhostDomains(rep, spec.vhosts));
  CONF_TRY(checkRouteClusters(rep, spec));
  CONF_TRY(checkListenerRules(rep, spec));
  return checkMarathon(rep, spec);
}

// The loader's reporter: our key paths ("vhost[0].route[1].cluster") are toml++ paths naming
// nodes we just read, so errors point at the key's own line; a key left at its default points at
// the nearest enclosing table or array element that is written.
Reporter fileReporter(const Ctx& ctx, const toml::table& root) {
  return Reporter(
      ctx.file,
      [&root](const std::string& key) -> uint32_t {
        std::string_view path = key;
        while (!path.empty()) {
          if (const toml::node* node = root.at_path(path).node()) return lineOf(*node);
          const size_t cut = path.find_last_of(".[");
          path = path.substr(0, cut == std::string_view::npos ? 0 : cut);
        }
        return 0;
      },
      1);
}

// ---- Top level ----

Result<ConfigSpec> buildSpec(const Ctx& ctx, const toml::table& root_table) {
  const TableView root(ctx, root_table, "");
  ConfigSpec spec;
  spec.file = ctx.file;
  CONF_TRY(root.allowOnly({"server", "timeouts", "limits", "tls", "http2", "pinning", "listener",
                           "cluster", "vhost", "marathon", "admin", "upstream"}));
  CONF_TRY(readSection(root, "server", spec.server, readServer));
  CONF_TRY(readSection(root, "timeouts", spec.timeouts, readTimeouts));
  CONF_TRY(readSection(root, "limits", spec.limits, readLimits));
  CONF_TRY(readSection(root, "tls", spec.tls, readTls));
  CONF_TRY(readSection(root, "http2", spec.http2, readHttp2));
  CONF_TRY(readSection(root, "pinning", spec.pinning, readPinning));
  CONF_TRY(readAll(root, "listener", spec.listeners, readListener));
  CONF_TRY(readAll(root, "cluster", spec.clusters, readCluster));
  CONF_TRY(readAll(root, "vhost", spec.vhosts, readVhost));
  CONF_TRY(readSection(root, "marathon", spec.marathon, readMarathon));
  CONF_TRY(readSection(root, "admin", spec.admin, readAdmin));
  CONF_TRY(readSection(root, "upstream", spec.upstream, readUpstream));
  CONF_TRY(validateWith(fileReporter(ctx, root_table), spec));
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

Result<void> validateConfig(ConfigSpec& spec) {
  return validateWith(Reporter(spec.file, nullptr, 0), spec);
}

Result<ConfigSpec> loadConfigFile(const std::string& path) {
  errno = 0;
  auto text = readFile(path);
  if (!text) return core::fail(std::move(text.error()));
  return loadConfigString(*text, path);
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return core::fail(Error::config("cannot read " + inQuotes(path)));
  }
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) return core::fail(Error::config(inQuotes(path) + " holds no token"));
  return line;
}

}  // namespace baton::conf
