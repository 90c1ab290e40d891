#include "proxy/admin/render.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "proxy/admin/render_parts.h"

namespace baton::proxy::admin {
namespace {

using upstream::AdminState;
using namespace std::chrono_literals;

// ---- a tiny strict JSON checker (RFC 8259 grammar; strings must be valid UTF-8 w/o controls) ---

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool valid() {
    ws();
    if (!value()) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  bool value() {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return container('}', true);
      case '[':
        return container(']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return numberValue();
    }
  }
  bool container(char close, bool object) {
    ++i_;
    ws();
    if (peek(close)) return ++i_, true;
    for (;;) {
      ws();
      if (object) {
        if (!string()) return false;
        ws();
        if (!peek(':')) return false;
        ++i_;
        ws();
      }
      if (!value()) return false;
      ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek(close)) return ++i_, true;
      return false;
    }
  }
  bool string() {
    if (!peek('"')) return false;
    ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size()) return false;
        if (s_[i_] == 'u') {
          for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || !isxdigit(static_cast<unsigned char>(s_[i_ + k]))) {
              return false;
            }
          }
          i_ += 5;
        } else if (std::string_view("\"\\/bfnrt").find(s_[i_]) != std::string_view::npos) {
          ++i_;
        } else {
          return false;
        }
        continue;
      }
      ++i_;  // UTF-8 validity is checked separately by the escaping tests
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool numberValue() {
    static const std::regex kNumber(R"(^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(s_.begin() + static_cast<long>(i_), s_.end(), m, kNumber)) {
      return false;
    }
    i_ += static_cast<size_t>(m.length(0));
    return m.length(0) > 0;
  }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void ws() {
    while (i_ < s_.size() && std::string_view(" \t\r\n").find(s_[i_]) != std::string_view::npos) {
      ++i_;
    }
  }
  std::string_view s_;
  size_t i_ = 0;
};

// ---- a hand-built model ---------------------------------------------------------------------

TrafficCounters traffic(
    std::initializer_list<std::pair<uint16_t, std::chrono::microseconds>> reqs) {
  TrafficCounters t;
  for (auto [status, elapsed] : reqs) t.record(status, 10, 100, elapsed);
  return t;
}

HostStatus host(std::string name, AdminState state) {
  HostStatus h;
  h.name = name;
  h.address = "10.0.0.1:" + std::to_string(31000 + name.size());
  h.state = state;
  h.admin_state = state;
  return h;
}

EdgeStatus sampleStatus() {
  EdgeStatus s;
  s.version = "1.2.3";
  s.pid = 4242;
  s.started_unix_ms = 1'000'000;
  s.now_unix_ms = 1'061'500;
  s.workers = 2;
  s.generation = 7;
  s.reloads = 3;
  s.reload_failures = 1;
  s.last_reload_error = "baton.toml:3: cluster: \"bad\"\n";
  s.log_level = "info";
  ListenerStatus l;
  l.name = "http";
  l.address = "127.0.0.1:8080";
  l.kind = "http";
  l.origin = "config";
  l.accepted = 12;
  l.active_connections = 2;
  l.traffic = traffic({{200, 2ms}, {404, 3ms}, {0, 1ms}});
  s.listeners.push_back(l);
  RouteStatus r;
  r.id = "|shop.example|/";
  r.vhost = "shop.example";
  r.prefix = "/";
  r.cluster = "shop_web";
  r.traffic = traffic({{200, 2ms}, {503, 40ms}});
  s.routes.push_back(r);

  ClusterStatus c;
  c.name = "shop_web";
  c.origin = "marathon:/shop/web";
  c.policy = "round_robin";
  c.no_host = 1;
  c.retries = 2;
  c.traffic = traffic({{200, 2ms}, {200, 300ms}, {503, 20s}});
  HostStatus up = host("10_0_0_1_31000", AdminState::Active);
  up.weight = 3;
  up.in_flight = 4;
  up.pooled_idle = 2;
  up.connect_failures = 1;
  up.traffic = traffic({{200, 2ms}, {200, 300ms}, {503, 20s}});
  c.hosts.push_back(up);
  c.hosts.push_back(host("drained", AdminState::Draining));
  c.hosts.push_back(host("maint", AdminState::Maintenance));
  HostStatus old = host("old_colour", AdminState::Draining);
  old.admin_state = AdminState::Active;
  old.discovery_draining = true;
  c.hosts.push_back(old);
  HostStatus sick = host("sick", AdminState::Active);
  sick.health = "down";
  c.hosts.push_back(sick);
  s.clusters.push_back(c);

  ClusterStatus weird;
  weird.name = "we\"ird\\name\nx";  // never from a sane config: escaping must still hold
  weird.policy = "least_request";
  weird.hosts.push_back(host("only", AdminState::Draining));
  s.clusters.push_back(weird);

  s.discovery.enabled = true;
  s.discovery.url = "http://marathon:8080";
  s.discovery.apps = 3;
  s.discovery.tasks = 6;
  s.discovery.sync_age_ms = 1500;
  s.discovery.documents_applied = 9;
  s.discovery.starved_resyncs = 2;
  s.discovery.issues = {"app /x: bad label"};
  DeploymentGroupStatus g;
  g.group = "shop";
  g.old_app = "/shop-blue";
  g.new_app = "/shop-green";
  g.old_tasks = 2;
  g.new_tasks = 1;
  g.target = 2;
  g.in_cutover = true;
  s.groups.push_back(g);
  RejectedRequest e;
  e.unix_ms = 1'061'000;
  e.listener = "http";
  e.client_ip = "192.0.2.1";
  e.status = 400;
  e.reason = "BadRequestTarget";
  e.excerpt = "GET \\x00 HTTP/1.1";
  s.errors.push_back(e);
  return s;
}

// ---- JSON -----------------------------------------------------------------------------------

std::string jsonString(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(jsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(jsonString("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(jsonString(std::string_view("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
}

TEST(JsonString, PassesValidUtf8) {
  EXPECT_EQ(jsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonString, EscapesEachByteOfInvalidUtf8) {
  EXPECT_EQ(jsonString("\xff"), R"("\u00ff")");
  EXPECT_EQ(jsonString("a\xc3"), R"("a\u00c3")");                              // truncated
  EXPECT_EQ(jsonString("\xc3("), R"("\u00c3(")");                              // bad continuation
  EXPECT_EQ(jsonString("\xc0\xaf"), R"("\u00c0\u00af")");                      // overlong '/'
  EXPECT_EQ(jsonString("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");            // surrogate
  EXPECT_EQ(jsonString("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // > U+10FFFF
  EXPECT_EQ(jsonString("\x80\xc3\xa9"), "\"\\u0080\xc3\xa9\"");                // resynchronises
}

TEST(JsonWriter, CommasAndNesting) {
  JsonWriter json;
  json.beginObject().field("a", uint64_t{1}).key("b").beginArray();
  json.value(true).value(int64_t{-2}).beginObject().endObject().value(0.25);
  json.endArray().field("c", "x").endObject();
  EXPECT_EQ(json.take(), R"({"a":1,"b":[true,-2,{},0.25],"c":"x"})");
}

TEST(StatusJson, IsValidJsonWithTheModelsFieldNames) {
  const std::string text = renderStatusJson(sampleStatus());
  EXPECT_TRUE(JsonChecker(text).valid()) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_TRUE(text.starts_with(R"({"version":"1.2.3","pid":4242,)")) << text;
  for (const char* key :
       {"\"generation\":7", "\"log_level\":\"info\"", "\"listeners\":[", "\"routes\":[",
        "\"clusters\":[", "\"groups\":[", "\"errors\":[", "\"discovery\":{\"enabled\":true",
        "\"sync_age_ms\":1500", "\"issues\":[\"app /x: bad label\"]", "\"in_cutover\":true",
        "\"reason\":\"BadRequestTarget\"",
        "\"last_reload_error\":\"baton.toml:3: cluster: "
        "\\\"bad\\\"\\n\""}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
  // Admin states as words; the weird cluster name escaped.
  EXPECT_NE(text.find(R"("name":"drained",)"), std::string::npos);
  EXPECT_NE(text.find(R"("state":"drain","admin_state":"drain")"), std::string::npos);
  EXPECT_NE(text.find(R"("state":"maint")"), std::string::npos);
  EXPECT_NE(text.find(R"("state":"drain","admin_state":"ready","discovery_draining":true)"),
            std::string::npos);
  EXPECT_NE(text.find(R"("name":"we\"ird\\name\nx")"), std::string::npos);
}

TEST(StatusJson, TrafficCountersShape) {
  JsonWriter json;
  writeTraffic(json, traffic({{200, 2ms}, {201, 2ms}, {302, 2ms}, {0, 30ms}}));
  EXPECT_EQ(json.take(),
            R"({"requests":{"1xx":0,"2xx":2,"3xx":1,"4xx":0,"5xx":0,"other":1},"total":4,)"
            R"("bytes_in":40,"bytes_out":400,"latency":{"count":4,"sum_us":36000,)"
            R"("p50_s":0.0025,"p90_s":0.05,"p99_s":0.05}})");
}

TEST(StatusJson, EmptyModel) {
  const std::string text = renderStatusJson(EdgeStatus{});
  EXPECT_TRUE(JsonChecker(text).valid()) << text;
  EXPECT_NE(text.find(R"("clusters":[])"), std::string::npos);
}

// ---- Prometheus ------------------------------------------------------------------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

// Parses the exposition strictly enough to catch format slips: HELP/TYPE once per family and
// before its samples, families contiguous, label syntax and escapes.
struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> errors;
};

std::string familyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - std::string_view(suffix).size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

Exposition parseExposition(const std::string& text) {
  Exposition out;
  static const std::regex kName("^[a-zA-Z_:][a-zA-Z0-9_:]*");
  std::istringstream in(text);
  std::string line;
  std::string current_family;
  std::set<std::string> finished, helped;
  while (std::getline(in, line)) {
    if (line.empty()) {
      out.errors.push_back("empty line");
      continue;
    }
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, rest;
      words >> name >> rest;
      if (line[2] == 'H') {
        if (!helped.insert(name).second) out.errors.push_back("HELP twice: " + name);
      } else {
        if (out.types.contains(name)) out.errors.push_back("TYPE twice: " + name);
        out.types[name] = rest;
      }
      if (name != current_family) {
        if (!current_family.empty()) finished.insert(current_family);
        current_family = name;
      }
      continue;
    }
    Sample sample;
    std::smatch m;
    if (!std::regex_search(line, m, kName)) {
      out.errors.push_back("bad name: " + line);
      continue;
    }
    sample.name = m.str(0);
    size_t i = sample.name.size();
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find("=\"", i);
        if (eq == std::string::npos) break;
        std::string key = line.substr(i, eq - i);
        std::string value;
        i = eq + 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            char next = line[i + 1];
            if (next == 'n')
              value += '\n';
            else if (next == '\\' || next == '"')
              value += next;
            else
              out.errors.push_back("bad escape: " + line);
            i += 2;
          } else {
            value += line[i++];
          }
        }
        ++i;  // closing quote
        sample.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        out.errors.push_back("bad labels: " + line);
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      out.errors.push_back("no value: " + line);
      continue;
    }
    const std::string value = line.substr(i + 1);
    char* end = nullptr;
    sample.value = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') out.errors.push_back("bad value: " + line);
    const std::string family = familyOf(sample.name, out.types);
    if (family != current_family) out.errors.push_back("sample outside its family: " + line);
    if (finished.contains(family)) out.errors.push_back("family split: " + line);
    out.samples.push_back(std::move(sample));
  }
  return out;
}

std::vector<Sample> find(const Exposition& e, const std::string& name,
                         const std::map<std::string, std::string>& labels) {
  std::vector<Sample> out;
  for (const Sample& s : e.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) out.push_back(s);
  }
  return out;
}

double one(const Exposition& e, const std::string& name,
           const std::map<std::string, std::string>& labels) {
  auto found = find(e, name, labels);
  EXPECT_EQ(found.size(), 1u) << name;
  return found.empty() ? -1 : found[0].value;
}

TEST(Prometheus, WellFormedAndEveryRequiredFamilyPresent) {
  const std::string text = renderPrometheus(sampleStatus());
  if (const char* dump = std::getenv("BATON_DUMP_METRICS")) std::ofstream(dump) << text;
  Exposition e = parseExposition(text);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors) << "\n" << text;
  EXPECT_TRUE(text.ends_with("\n"));
  for (const char* family : {"baton_info",
                             "baton_config_generation",
                             "baton_reloads_total",
                             "baton_reload_failures_total",
                             "baton_uptime_seconds",
                             "baton_listener_connections_accepted_total",
                             "baton_listener_active_connections",
                             "baton_listener_requests_total",
                             "baton_route_requests_total",
                             "baton_route_request_duration_seconds",
                             "baton_cluster_requests_total",
                             "baton_cluster_request_duration_seconds",
                             "baton_cluster_no_host_total",
                             "baton_cluster_retries_total",
                             "baton_host_requests_total",
                             "baton_host_bytes_in_total",
                             "baton_host_bytes_out_total",
                             "baton_host_in_flight",
                             "baton_host_pooled_connections",
                             "baton_host_request_duration_seconds",
                             "baton_host_connect_failures_total",
                             "baton_host_admin_state",
                             "baton_host_weight",
                             "baton_host_healthy",
                             "baton_host_drain_cut_total",
                             "baton_marathon_sync_age_seconds",
                             "baton_marathon_documents_applied_total",
                             "baton_marathon_documents_refused_total",
                             "baton_marathon_starved_resyncs_total",
                             "baton_marathon_apps",
                             "baton_marathon_tasks",
                             "baton_marathon_issues",
                             "baton_deployment_group_tasks",
                             "baton_deployment_group_in_cutover"}) {
    EXPECT_TRUE(e.types.contains(family)) << family;
  }
  EXPECT_EQ(e.types["baton_reloads_total"], "counter");
  EXPECT_EQ(e.types["baton_host_in_flight"], "gauge");
  EXPECT_EQ(e.types["baton_host_request_duration_seconds"], "histogram");
}

TEST(Prometheus, Values) {
  Exposition e = parseExposition(renderPrometheus(sampleStatus()));
  EXPECT_EQ(one(e, "baton_info", {{"version", "1.2.3"}}), 1);
  EXPECT_EQ(one(e, "baton_config_generation", {}), 7);
  EXPECT_DOUBLE_EQ(one(e, "baton_uptime_seconds", {}), 61.5);
  EXPECT_EQ(one(e, "baton_marathon_starved_resyncs_total", {}), 2);
  EXPECT_EQ(one(e, "baton_listener_requests_total", {{"listener", "http"}, {"class", "other"}}), 1);
  EXPECT_EQ(one(e, "baton_route_requests_total",
                {{"route", "|shop.example|/"}, {"cluster", "shop_web"}, {"class", "5xx"}}),
            1);
  const std::map<std::string, std::string> up = {{"cluster", "shop_web"},
                                                 {"host", "10_0_0_1_31000"}};
  EXPECT_EQ(one(e, "baton_host_in_flight", up), 4);
  EXPECT_EQ(one(e, "baton_host_weight", up), 3);
  EXPECT_EQ(one(e, "baton_host_pooled_connections", up), 2);
  EXPECT_EQ(one(e, "baton_host_bytes_out_total", up), 300);
  EXPECT_EQ(find(e, "baton_host_requests_total", up).size(), kStatusClasses);
  EXPECT_EQ(one(e, "baton_host_healthy", {{"host", "sick"}}), 0);
  EXPECT_EQ(one(e, "baton_host_healthy", up), 1);  // unchecked counts as healthy
  EXPECT_DOUBLE_EQ(one(e, "baton_marathon_sync_age_seconds", {}), 1.5);
  EXPECT_EQ(one(e, "baton_deployment_group_tasks", {{"group", "shop"}, {"colour", "old"}}), 2);
}

TEST(Prometheus, SheddingFamilies) {
  EdgeStatus status = sampleStatus();
  status.shedding.count(ShedReason::ProcessLimit);
  status.shedding.count(ShedReason::ProcessLimit);
  status.shedding.count(ShedReason::OutOfFds);
  status.shedding.requests = 5;
  status.shedding.idle_closed = 3;
  status.shedding.overloaded_workers = 1;
  status.open_connections = 40;
  status.max_connections_total = 64;
  status.buffered_bytes = 70000;
  status.buffer_budget = 65536;
  const std::string text = renderPrometheus(status);
  Exposition e = parseExposition(text);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors) << "\n" << text;
  EXPECT_EQ(e.types["baton_connections_shed_total"], "counter");
  EXPECT_EQ(e.types["baton_overloaded_workers"], "gauge");
  // Every reason is present (zeros included), so a rate() never starts from a missing series.
  EXPECT_EQ(find(e, "baton_connections_shed_total", {}).size(), kShedReasons);
  EXPECT_EQ(one(e, "baton_connections_shed_total", {{"reason", "process_limit"}}), 2);
  EXPECT_EQ(one(e, "baton_connections_shed_total", {{"reason", "out_of_fds"}}), 1);
  EXPECT_EQ(one(e, "baton_connections_shed_total", {{"reason", "worker_limit"}}), 0);
  EXPECT_EQ(one(e, "baton_requests_shed_total", {}), 5);
  EXPECT_EQ(one(e, "baton_overload_idle_closed_total", {}), 3);
  EXPECT_EQ(one(e, "baton_connections_open", {}), 40);
  EXPECT_EQ(one(e, "baton_connections_limit", {}), 64);
  EXPECT_EQ(one(e, "baton_buffered_bytes", {}), 70000);
  EXPECT_EQ(one(e, "baton_buffer_budget_bytes", {}), 65536);
  const std::string json = renderStatusJson(status);
  EXPECT_NE(json.find(R"("limits":{"open_connections":40,"max_connections_total":64,)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("connections_shed":{"worker_limit":0,"process_limit":2,)"),
            std::string::npos)
      << json;
}

TEST(Prometheus, HealthCheckFamilies) {
  EdgeStatus status = sampleStatus();
  ClusterStatus& c = status.clusters[0];
  c.health_checked = true;
  c.health_panic = true;
  c.health_checks = {
      {"passed", 12}, {"bad_status", 3}, {"timeout", 0}, {"refused", 4}, {"error", 0}};
  c.hosts[0].health = "unhealthy";
  const std::string text = renderPrometheus(status);
  Exposition e = parseExposition(text);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors) << "\n" << text;
  EXPECT_EQ(e.types["baton_health_checks_total"], "counter");
  EXPECT_EQ(e.types["baton_cluster_health_panic"], "gauge");
  EXPECT_EQ(one(e, "baton_health_checks_total", {{"cluster", c.name}, {"result", "passed"}}), 12);
  EXPECT_EQ(one(e, "baton_health_checks_total", {{"cluster", c.name}, {"result", "refused"}}), 4);
  EXPECT_EQ(one(e, "baton_cluster_health_panic", {{"cluster", c.name}}), 1);
  EXPECT_EQ(one(e, "baton_host_healthy", {{"cluster", c.name}, {"host", c.hosts[0].name}}), 0);
  // A cluster without a check has no panic gauge and no probe counters.
  status.clusters[0].health_checked = false;
  status.clusters[0].health_checks.clear();
  Exposition none = parseExposition(renderPrometheus(status));
  EXPECT_TRUE(find(none, "baton_cluster_health_panic", {}).empty());
  EXPECT_TRUE(find(none, "baton_health_checks_total", {}).empty());
}

TEST(StatusJson, HealthFields) {
  EdgeStatus status = sampleStatus();
  status.clusters[0].health_checked = true;
  status.clusters[0].health_checks = {{"passed", 2}, {"timeout", 1}};
  status.clusters[0].hosts[0].health = "healthy";
  status.clusters[0].hosts[0].health_consecutive = 5;
  status.clusters[0].hosts[0].health_detail = "204";
  status.clusters[0].hosts[0].health_checked_unix_ms = 1700000000123;
  const std::string json = renderStatusJson(status);
  EXPECT_NE(json.find(R"("health_checked":true,"health_panic":false,)"
                      R"("health_checks":{"passed":2,"timeout":1})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("health":"healthy","health_consecutive":5,"health_detail":"204",)"
                      R"("health_checked_unix_ms":1700000000123)"),
            std::string::npos)
      << json;
}

TEST(Prometheus, AdminStateIsOneHot) {
  Exposition e = parseExposition(renderPrometheus(sampleStatus()));
  auto state = [&](const std::string& host, const std::string& word) {
    return one(e, "baton_host_admin_state", {{"host", host}, {"state", word}});
  };
  EXPECT_EQ(state("drained", "drain"), 1);
  EXPECT_EQ(state("drained", "ready"), 0);
  EXPECT_EQ(state("drained", "maint"), 0);
  EXPECT_EQ(state("maint", "maint"), 1);
  EXPECT_EQ(state("10_0_0_1_31000", "ready"), 1);
  EXPECT_EQ(state("old_colour", "drain"), 1);
}

TEST(Prometheus, LabelValuesEscaped) {
  const std::string text = renderPrometheus(sampleStatus());
  EXPECT_NE(text.find(R"(baton_host_weight{cluster="we\"ird\\name\nx",host="only"} 1)"),
            std::string::npos)
      << text;
  Exposition e = parseExposition(text);
  EXPECT_EQ(one(e, "baton_host_weight", {{"cluster", "we\"ird\\name\nx"}}), 1);
}

TEST(Prometheus, HistogramBucketsCumulativeWithInfSumAndCount) {
  Exposition e = parseExposition(renderPrometheus(sampleStatus()));
  const std::map<std::string, std::string> labels = {{"cluster", "shop_web"}};
  auto buckets = find(e, "baton_cluster_request_duration_seconds_bucket", labels);
  ASSERT_EQ(buckets.size(), LatencyHistogram::kBounds + 1);
  double previous_le = -1, previous = 0;
  for (const Sample& b : buckets) {
    const std::string le = b.labels.at("le");
    const double bound = le == "+Inf" ? INFINITY : std::stod(le);
    EXPECT_GT(bound, previous_le) << le;
    EXPECT_GE(b.value, previous) << le;
    previous_le = bound;
    previous = b.value;
  }
  EXPECT_EQ(buckets.back().labels.at("le"), "+Inf");
  EXPECT_EQ(buckets.back().value, 3);  // 2 ms, 300 ms, 20 s (beyond the last bound)
  EXPECT_EQ(one(e, "baton_cluster_request_duration_seconds_bucket",
                {{"cluster", "shop_web"}, {"le", "0.0025"}}),
            1);
  EXPECT_EQ(one(e, "baton_cluster_request_duration_seconds_bucket",
                {{"cluster", "shop_web"}, {"le", "10"}}),
            2);
  EXPECT_EQ(one(e, "baton_cluster_request_duration_seconds_count", labels), 3);
  EXPECT_DOUBLE_EQ(one(e, "baton_cluster_request_duration_seconds_sum", labels), 20.302);
}

TEST(Prometheus, NoRawPathsOrClientAddresses) {
  const std::string text = renderPrometheus(sampleStatus());
  EXPECT_EQ(text.find("192.0.2.1"), std::string::npos);  // the rejected request's client
  EXPECT_EQ(text.find("HTTP/1.1"), std::string::npos);   // its excerpt
}

TEST(Prometheus, NoDiscoveryNoMarathonFamilies) {
  EdgeStatus s;
  s.version = "x";
  const std::string text = renderPrometheus(s);
  Exposition e = parseExposition(text);
  EXPECT_TRUE(e.errors.empty()) << text;
  EXPECT_FALSE(e.types.contains("baton_marathon_apps"));
  EXPECT_TRUE(e.types.contains("baton_host_in_flight"));  // declared, no samples
}

// ---- stats CSV --------------------------------------------------------------------------------

// zdd.py's reading: header after "# " minus its trailing comma; data rows minus the last field.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string at(size_t row, const std::string& column) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == column) return rows.at(row).at(i);
    }
    ADD_FAILURE() << "no column " << column;
    return {};
  }
};

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

Csv parseCsv(const std::string& text) {
  Csv csv;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with("# ")) << line;
  EXPECT_TRUE(line.ends_with(",")) << line;
  csv.header = splitCommas(line.substr(2, line.size() - 3));
  while (std::getline(in, line)) {
    auto fields = splitCommas(line);
    EXPECT_EQ(fields.back(), "") << line;
    fields.pop_back();
    EXPECT_EQ(fields.size(), csv.header.size()) << line;
    csv.rows.push_back(fields);
  }
  return csv;
}

TEST(StatCsv, HeaderHasHaproxysNamesAtHaproxysPositions) {
  const Csv csv = parseCsv(renderStatCsv(EdgeStatus{}));
  EXPECT_TRUE(csv.rows.empty());
  const std::map<size_t, std::string> expected = {
      {0, "pxname"},         {1, "svname"},    {2, "qcur"},        {3, "qmax"},
      {4, "scur"},           {7, "stot"},      {8, "bin"},         {9, "bout"},
      {13, "econ"},          {15, "wretr"},    {17, "status"},     {18, "weight"},
      {19, "act"},           {20, "bck"},      {26, "pid"},        {27, "iid"},
      {28, "sid"},           {30, "lbtot"},    {32, "type"},       {36, "check_status"},
      {39, "hrsp_1xx"},      {43, "hrsp_5xx"}, {44, "hrsp_other"}, {48, "req_tot"},
      {60, "rtime"},         {61, "ttime"},    {73, "addr"},       {76, "algo"},
      {95, "idle_conn_cur"}, {99, "uweight"}};
  ASSERT_EQ(csv.header.size(), 100u);
  for (const auto& [position, name] : expected) EXPECT_EQ(csv.header[position], name) << position;
}

TEST(StatCsv, RowsPerHostAndBackend) {
  const Csv csv = parseCsv(renderStatCsv(sampleStatus()));
  ASSERT_EQ(csv.rows.size(), 5u + 1 + 1 + 1);  // 5 hosts + BACKEND, 1 host + BACKEND
  EXPECT_EQ(csv.at(0, "pxname"), "shop_web");
  EXPECT_EQ(csv.at(0, "svname"), "10_0_0_1_31000");
  EXPECT_EQ(csv.at(0, "qcur"), "0");
  EXPECT_EQ(csv.at(0, "scur"), "4");
  EXPECT_EQ(csv.at(0, "stot"), "3");
  EXPECT_EQ(csv.at(0, "bin"), "30");
  EXPECT_EQ(csv.at(0, "bout"), "300");
  EXPECT_EQ(csv.at(0, "hrsp_2xx"), "2");
  EXPECT_EQ(csv.at(0, "hrsp_5xx"), "1");
  EXPECT_EQ(csv.at(0, "hrsp_other"), "0");
  EXPECT_EQ(csv.at(0, "weight"), "3");
  EXPECT_EQ(csv.at(0, "act"), "1");
  EXPECT_EQ(csv.at(0, "type"), "2");
  EXPECT_EQ(csv.at(0, "iid"), "1");
  EXPECT_EQ(csv.at(0, "sid"), "1");
  EXPECT_EQ(csv.at(0, "econ"), "1");
  EXPECT_EQ(csv.at(0, "idle_conn_cur"), "2");
  EXPECT_EQ(csv.at(0, "rtime"), "6767");  // (2 ms + 300 ms + 20 s) / 3
  EXPECT_EQ(csv.at(0, "check_status"), "");
  EXPECT_EQ(csv.at(0, "status"), "UP");
  EXPECT_EQ(csv.at(1, "status"), "DRAIN");
  EXPECT_EQ(csv.at(2, "status"), "MAINT");
  EXPECT_EQ(csv.at(3, "status"), "MAINT");  // Marathon's drain: what zdd waits for
  EXPECT_EQ(csv.at(4, "status"), "DOWN");
  EXPECT_EQ(csv.at(4, "check_status"), "L7STS");
  EXPECT_EQ(csv.at(5, "svname"), "BACKEND");
  EXPECT_EQ(csv.at(5, "status"), "UP");
  EXPECT_EQ(csv.at(5, "scur"), "4");
  EXPECT_EQ(csv.at(5, "act"), "1");
  EXPECT_EQ(csv.at(5, "weight"), "3");
  EXPECT_EQ(csv.at(5, "wretr"), "2");
  EXPECT_EQ(csv.at(5, "type"), "1");
  EXPECT_EQ(csv.at(5, "sid"), "0");
  EXPECT_EQ(csv.at(5, "algo"), "roundrobin");
  // The weird cluster: its name cannot break the columns; its only host drains: DOWN.
  EXPECT_EQ(csv.at(6, "pxname"), "we\"ird\\name_x");
  EXPECT_EQ(csv.at(7, "status"), "DOWN");
  EXPECT_EQ(csv.at(7, "iid"), "2");
  EXPECT_EQ(csv.at(7, "algo"), "leastconn");
}

TEST(StatCsv, RowsHelperMatchesColumns) {
  for (const auto& row : statCsvRows(sampleStatus())) {
    EXPECT_EQ(row.size(), statCsvColumns().size());
  }
}

// ---- hostile names never break a format -----------------------------------------------------

bool validUtf8(std::string_view text) {
  // Re-encode through the JSON escaper: valid UTF-8 without controls, quotes or backslashes
  // comes back unchanged.
  std::string cleaned;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f && c != '"' && c != '\\') cleaned += c;
  }
  return jsonString(cleaned) == "\"" + cleaned + "\"";
}

TEST(Renderers, RandomBytesInNamesKeepEveryFormatValid) {
  std::mt19937 rng(4242);
  auto random_text = [&rng] {
    std::string text(rng() % 12, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    return text;
  };
  for (int round = 0; round < 200; ++round) {
    EdgeStatus s = sampleStatus();
    s.version = random_text();
    s.listeners[0].name = random_text();
    s.routes[0].id = random_text();
    s.routes[0].cluster = random_text();
    s.clusters[0].name = random_text();
    s.clusters[0].hosts[0].name = random_text();
    s.clusters[0].hosts[1].health = random_text();
    s.groups[0].group = random_text();
    s.errors[0].excerpt = random_text();
    s.discovery.issues.push_back(random_text());

    const std::string json = renderStatusJson(s);
    ASSERT_TRUE(JsonChecker(json).valid()) << json;
    ASSERT_TRUE(validUtf8(json)) << json;

    const std::string metrics = renderPrometheus(s);
    Exposition e = parseExposition(metrics);
    ASSERT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors);
    ASSERT_TRUE(validUtf8(metrics));

    const Csv csv = parseCsv(renderStatCsv(s));
    ASSERT_EQ(csv.rows.size(), 8u);
  }
}

TEST(Prometheus, InvalidUtf8InLabelsBecomesReplacementCharacter) {
  EdgeStatus s;
  ClusterStatus c;
  c.name = "a\xff\xc3\xa9";
  s.clusters.push_back(c);
  const std::string text = renderPrometheus(s);
  EXPECT_NE(text.find("baton_cluster_no_host_total{cluster=\"a\xef\xbf\xbd\xc3\xa9\"} 0"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace baton::proxy::admin
