#include "proxy/admin/render.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>
#include <tuple>

#include "proxy/admin/render_parts.h"

namespace baton::proxy::admin {

namespace {

// Length of the valid UTF-8 sequence starting at text[i], 0 when it is not one (bad lead byte,
// truncated, bad continuation, overlong, surrogate or beyond U+10FFFF).
size_t utf8SequenceLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code = 0;
  uint32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void appendEscapedByte(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (byte) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
  }
}

std::string formatDouble(double number) {
  if (!std::isfinite(number)) return "0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), number);
  if (ec != std::errc{}) return "0";
  return std::string(buf, end);
}

double secondsFromUs(uint64_t us) {
  return static_cast<double>(us) / 1e6;
}

// Mean latency in whole milliseconds (HAProxy's rtime/ttime unit); 0 with no request.
uint64_t meanMs(const LatencyHistogram& latency) {
  return latency.count == 0 ? 0 : latency.sum_us / latency.count / 1000;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// JSON

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
      ++i;
    } else if (byte < 0x20 || byte == 0x7f) {
      appendEscapedByte(out, byte);
      ++i;
    } else if (size_t length = utf8SequenceLength(text, i); length > 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      appendEscapedByte(out, byte);  // one invalid byte; resynchronise on the next
      ++i;
    }
  }
  out += '"';
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (!first_.back()) out_ += ',';
  first_.back() = false;
}

JsonWriter& JsonWriter::beginObject() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_ += '}';
  if (!first_.empty()) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  out_ += ']';
  if (!first_.empty()) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  appendJsonString(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  appendJsonString(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  separate();
  out_ += formatDouble(number);
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}

void writeTraffic(JsonWriter& json, const TrafficCounters& traffic) {
  json.beginObject().key("requests").beginObject();
  for (size_t i = 0; i < kStatusClasses; ++i) json.field(statusClassLabel(i), traffic.requests[i]);
  json.endObject();
  json.field("total", traffic.total())
      .field("bytes_in", traffic.bytes_in)
      .field("bytes_out", traffic.bytes_out);
  const LatencyHistogram& latency = traffic.latency;
  json.key("latency")
      .beginObject()
      .field("count", latency.count)
      .field("sum_us", latency.sum_us)
      .field("p50_s", latency.quantileSeconds(0.5))
      .field("p90_s", latency.quantileSeconds(0.9))
      .field("p99_s", latency.quantileSeconds(0.99))
      .endObject();
  json.endObject();
}

void writeHost(JsonWriter& json, const HostStatus& host) {
  json.beginObject()
      .field("name", std::string_view(host.name))
      .field("address", std::string_view(host.address))
      .field("task_id", std::string_view(host.task_id))
      .field("weight", host.weight)
      .field("configured_weight", host.configured_weight)
      .field("weight_overridden", host.weight_overridden)
      .field("state", adminStateName(host.state))
      .field("admin_state", adminStateName(host.admin_state))
      .field("discovery_draining", host.discovery_draining)
      .field("health", std::string_view(host.health))
      .field("health_consecutive", host.health_consecutive)
      .field("health_detail", std::string_view(host.health_detail))
      .field("health_checked_unix_ms", host.health_checked_unix_ms)
      .field("ejected", host.ejected)
      .field("ejected_remaining_ms", host.ejected_remaining_ms)
      .field("ejections", host.ejections)
      .field("ejections_total", host.ejections_total)
      .field("present", host.present)
      .field("in_flight", host.in_flight)
      .field("tcp_active", host.tcp_active)
      .field("pooled_idle", host.pooled_idle)
      .field("connect_failures", host.connect_failures)
      .field("drain_cut", host.drain_cut);
  json.key("traffic");
  writeTraffic(json, host.traffic);
  json.endObject();
}

// "circuit": { "max_requests": { "limit": 100, "current": 3, "overflow": 0 }, ... }
void writeCircuitBreaking(JsonWriter& json, const ClusterStatus& cluster) {
  const uint32_t limits[] = {cluster.limits.max_connections, cluster.limits.max_pending,
                             cluster.limits.max_requests};
  json.key("circuit").beginObject();
  for (size_t k = 0; k < upstream::kLoadKinds; ++k) {
    json.key(upstream::loadLimitName(static_cast<upstream::LoadKind>(k)))
        .beginObject()
        .field("limit", uint64_t{limits[k]})
        .field("current", uint64_t{cluster.load[k]})
        .field("overflow", cluster.resilience.overflow[k])
        .endObject();
  }
  json.endObject();
}

void writeCluster(JsonWriter& json, const ClusterStatus& cluster) {
  json.beginObject()
      .field("name", std::string_view(cluster.name))
      .field("origin", std::string_view(cluster.origin))
      .field("policy", std::string_view(cluster.policy))
      .field("sticky_cookie", std::string_view(cluster.sticky_cookie))
      .field("admin_state", adminStateName(cluster.admin_state))
      .field("no_host", cluster.no_host)
      .field("retries", cluster.retries)
      .field("resent", cluster.resilience.resent)
      .field("retry_budget_exhausted", cluster.resilience.budget_exhausted)
      .field("health_checked", cluster.health_checked)
      .field("health_panic", cluster.health_panic);
  json.key("health_checks").beginObject();
  for (const auto& [result, count] : cluster.health_checks) json.field(result, count);
  json.endObject();
  json.field("outlier_enabled", cluster.outlier_enabled)
      .field("outlier_ejected", cluster.outlier_ejected)
      .field("outlier_capped", cluster.outlier_capped)
      .field("outlier_panic", cluster.outlier_panic);
  writeCircuitBreaking(json, cluster);
  json.key("traffic");
  writeTraffic(json, cluster.traffic);
  json.key("hosts").beginArray();
  for (const HostStatus& host : cluster.hosts) writeHost(json, host);
  json.endArray().endObject();
}

void writeRoute(JsonWriter& json, const RouteStatus& route) {
  json.beginObject()
      .field("id", std::string_view(route.id))
      .field("scope", std::string_view(route.scope))
      .field("vhost", std::string_view(route.vhost))
      .field("prefix", std::string_view(route.prefix))
      .field("cluster", std::string_view(route.cluster));
  json.key("traffic");
  writeTraffic(json, route.traffic);
  json.endObject();
}

void writeListener(JsonWriter& json, const ListenerStatus& listener) {
  json.beginObject()
      .field("name", std::string_view(listener.name))
      .field("address", std::string_view(listener.address))
      .field("kind", std::string_view(listener.kind))
      .field("origin", std::string_view(listener.origin))
      .field("accepted", listener.accepted)
      .field("active_connections", listener.active_connections)
      .field("tls", listener.tls)
      .field("tls_handshakes", listener.tls_counters.handshakes)
      .field("tls_failures", listener.tls_counters.failures)
      .field("h2_connections", listener.h2_connections)
      .field("h2_streams", listener.h2.streams)
      .field("h2_resets_received", listener.h2.resets_received)
      .field("h2_stream_errors_sent", listener.h2.stream_errors_sent)
      .field("h2_goaway_enhance_your_calm", listener.h2.goaway_enhance_your_calm);
  json.key("traffic");
  writeTraffic(json, listener.traffic);
  json.endObject();
}

void writeDiscovery(JsonWriter& json, const DiscoveryView& discovery) {
  json.beginObject()
      .field("enabled", discovery.enabled)
      .field("url", std::string_view(discovery.url))
      .field("apps", static_cast<uint64_t>(discovery.apps))
      .field("tasks", static_cast<uint64_t>(discovery.tasks))
      .field("sync_age_ms", discovery.sync_age_ms)
      .field("documents_applied", discovery.documents_applied)
      .field("documents_refused", discovery.documents_refused)
      .field("starved_resyncs", discovery.starved_resyncs)
      .field("last_refusal", std::string_view(discovery.last_refusal))
      .field("from_state_file", discovery.from_state_file)
      .field("holding", discovery.holding);
  json.key("issues").beginArray();
  for (const std::string& issue : discovery.issues) json.value(std::string_view(issue));
  json.endArray().endObject();
}

void writePinGroup(JsonWriter& json, const PinGroupStatus& pin) {
  json.beginObject()
      .field("cluster", std::string_view(pin.cluster))
      .field("mode", std::string_view(pin.mode))
      .field("in_cutover", pin.in_cutover)
      .field("active", pin.active)
      .field("cdn_version", std::string_view(pin.cdn_version))
      .field("flip_held", pin.flip_held)
      .field("flips", pin.flips)
      .field("last_flip_ms", pin.last_flip_ms)
      .field("cutover_started_ms", pin.cutover_started_ms)
      .field("grace_until_ms", pin.grace_until_ms)
      .field("cdn_fresh_until_ms", pin.cdn_fresh_until_ms)
      .field("pinned", pin.pinned)
      .field("retries", pin.retries)
      .field("retry_hits", pin.retry_hits)
      .field("all_miss", pin.all_miss)
      .field("fallbacks", pin.fallbacks)
      .field("cache_capped", pin.cache_capped)
      .field("cookies_set", pin.cookies_set);
  json.key("versions").beginArray();
  for (const PinVersionStatus& v : pin.versions) {
    json.beginObject()
        .field("id", std::string_view(v.id))
        .field("app_id", std::string_view(v.app_id))
        .field("colour", std::string_view(v.colour))
        .field("serving", v.serving)
        .field("hosts", v.hosts)
        .field("manifest_files", v.manifest_files)
        .endObject();
  }
  json.endArray().endObject();
}

void writeGroup(JsonWriter& json, const DeploymentGroupStatus& group) {
  json.beginObject()
      .field("group", std::string_view(group.group))
      .field("old_app", std::string_view(group.old_app))
      .field("new_app", std::string_view(group.new_app))
      .field("old_tasks", group.old_tasks)
      .field("new_tasks", group.new_tasks)
      .field("old_drained", group.old_drained)
      .field("new_healthy", group.new_healthy)
      .field("target", group.target)
      .field("in_cutover", group.in_cutover);
  json.key("pinning").beginArray();
  for (const PinGroupStatus& pin : group.pinning) writePinGroup(json, pin);
  json.endArray().endObject();
}

void writeRejected(JsonWriter& json, const RejectedRequest& rejected) {
  json.beginObject()
      .field("unix_ms", rejected.unix_ms)
      .field("listener", std::string_view(rejected.listener))
      .field("client_ip", std::string_view(rejected.client_ip))
      .field("status", static_cast<uint64_t>(rejected.status))
      .field("reason", std::string_view(rejected.reason))
      .field("excerpt", std::string_view(rejected.excerpt))
      .endObject();
}

void writeCertificate(JsonWriter& json, const CertificateView& cert) {
  json.beginObject()
      .field("origin", std::string_view(cert.origin))
      .field("where", std::string_view(cert.where))
      .field("cert_file", std::string_view(cert.cert_file))
      .field("not_after_unix", cert.not_after_unix)
      .field("serving", cert.serving)
      .field("default", cert.is_default)
      .field("expired", cert.expired)
      .field("last_error", std::string_view(cert.last_error))
      .field("ocsp", std::string_view(cert.ocsp));
  json.key("names").beginArray();
  for (const auto& name : cert.names) json.value(std::string_view(name));
  json.endArray().endObject();
}

void writeInstanceFacts(JsonWriter& json, const InstanceFacts& facts) {
  json.beginObject()
      .field("instance_id", std::string_view(facts.instance_id))
      .field("task_id", std::string_view(facts.task_id))
      .field("version", std::string_view(facts.version))
      .field("pid", facts.pid)
      .field("generation", facts.generation)
      .field("marathon_state", std::string_view(facts.marathon_state))
      .field("marathon_state_since_unix_ms", facts.marathon_state_since_unix_ms)
      .field("marathon_sync_age_ms", facts.marathon_sync_age_ms)
      .field("now_unix_ms", facts.now_unix_ms)
      .endObject();
}

void writeInstances(JsonWriter& json, const InstancesView& instances) {
  json.beginObject()
      .field("enabled", instances.enabled)
      .field("app_id", std::string_view(instances.app_id))
      .field("error", std::string_view(instances.error))
      .field("listed_unix_ms", instances.listed_unix_ms)
      .field("lag_threshold_ms", instances.lag_threshold_ms)
      .key("peers")
      .beginArray();
  for (const InstanceStatus& peer : instances.peers) {
    json.beginObject()
        .field("task_id", std::string_view(peer.task_id))
        .field("address", std::string_view(peer.address))
        .field("self", peer.self)
        .field("reachable", peer.reachable)
        .field("error", std::string_view(peer.error))
        .field("polled_unix_ms", peer.polled_unix_ms)
        .field("lagging", peer.lagging)
        .field("lag_ms", peer.lag_ms)
        .key("facts");
    writeInstanceFacts(json, peer.facts);
    json.endObject();
  }
  json.endArray().endObject();
}

std::string renderInstanceJson(const InstanceFacts& facts) {
  JsonWriter json;
  writeInstanceFacts(json, facts);
  return json.take();
}

void writeLimits(JsonWriter& json, const EdgeStatus& status) {
  const SheddingCounters& shed = status.shedding;
  json.key("limits")
      .beginObject()
      .field("open_connections", status.open_connections)
      .field("max_connections_total", status.max_connections_total)
      .field("buffered_bytes", status.buffered_bytes)
      .field("buffer_budget", status.buffer_budget)
      .field("overloaded_workers", shed.overloaded_workers)
      .field("overload_episodes", shed.overload_episodes)
      .field("requests_shed", shed.requests)
      .field("idle_closed", shed.idle_closed)
      .field("accept_pauses", shed.accept_pauses)
      .key("connections_shed")
      .beginObject();
  for (size_t i = 0; i < kShedReasons; ++i) {
    json.field(shedReasonName(static_cast<ShedReason>(i)), shed.connections[i]);
  }
  json.endObject().endObject();
}

void writeInfoFields(JsonWriter& json, const EdgeStatus& status) {
  json.field("version", std::string_view(status.version))
      .field("pid", status.pid)
      .field("started_unix_ms", status.started_unix_ms)
      .field("now_unix_ms", status.now_unix_ms)
      .field("workers", status.workers)
      .field("generation", status.generation)
      .field("reloads", status.reloads)
      .field("reload_failures", status.reload_failures)
      .field("last_reload_error", std::string_view(status.last_reload_error))
      .field("log_level", std::string_view(status.log_level))
      .field("instance_id", std::string_view(status.instance_id))
      .field("task_id", std::string_view(status.task_id))
      .field("marathon_state", std::string_view(status.marathon_state))
      .field("marathon_state_since_unix_ms", status.marathon_state_since_unix_ms);
  json.key("discovery");
  writeDiscovery(json, status.discovery);
  writeLimits(json, status);
}

std::string renderStatusJson(const EdgeStatus& status) {
  JsonWriter json;
  json.beginObject();
  writeInfoFields(json, status);
  json.key("listeners").beginArray();
  for (const auto& listener : status.listeners) writeListener(json, listener);
  json.endArray().key("routes").beginArray();
  for (const auto& route : status.routes) writeRoute(json, route);
  json.endArray().key("clusters").beginArray();
  for (const auto& cluster : status.clusters) writeCluster(json, cluster);
  json.endArray().key("groups").beginArray();
  for (const auto& group : status.groups) writeGroup(json, group);
  json.endArray().key("errors").beginArray();
  for (const auto& rejected : status.errors) writeRejected(json, rejected);
  json.endArray().key("certificates").beginArray();
  for (const auto& cert : status.certificates) writeCertificate(json, cert);
  json.endArray().key("instances");
  writeInstances(json, status.instances);
  json.endObject();
  return json.take();
}

// ---------------------------------------------------------------------------------------------
// Host status words (shared by the CSV, the text views and the metrics)

bool hostHealthy(const HostStatus& host) {
  return host.health != "down" && host.health != "unhealthy" && host.health != "failing";
}

std::string_view hostStatusWord(const HostStatus& host) {
  // Marathon's drains (old deployment colour, killed task) show as MAINT: marathon-lb's zdd
  // waits for MAINT with scur == 0 before it kills an old task.
  if (host.state == upstream::AdminState::Maintenance || host.discovery_draining || !host.present) {
    return "MAINT";
  }
  if (host.state == upstream::AdminState::Draining) return "DRAIN";
  if (!hostHealthy(host) || host.ejected) return "DOWN";  // ejected: HAProxy's observe layer4
  return "UP";
}

bool hostTakesRequests(const HostStatus& host) {
  return hostStatusWord(host) == "UP";
}

// ---------------------------------------------------------------------------------------------
// Prometheus text format 0.0.4

namespace {

struct Label {
  std::string_view name;
  std::string_view value;
};

// The format escapes only '\\', '"' and line feeds; label values must be UTF-8, so a byte that
// is not part of a valid sequence becomes U+FFFD rather than breaking the scrape.
void appendLabelValue(std::string& out, std::string_view value) {
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (size_t length = utf8SequenceLength(value, i); length > 0) {
      out.append(value.substr(i, length));
      i += length;
      continue;
    } else {
      out += "\xEF\xBF\xBD";
    }
    ++i;
  }
}

// Writes families one at a time: HELP and TYPE once, then every sample of the family, so each
// family's samples are contiguous as the format requires.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  void sample(std::string_view name, std::span<const Label> labels, std::string_view value) {
    out_.append(name);
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_.append(labels[i].name).append("=\"");
        appendLabelValue(out_, labels[i].value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_.append(" ").append(value).append("\n");
  }
  void sample(std::string_view name, std::span<const Label> labels, uint64_t value) {
    sample(name, labels, std::string_view(std::to_string(value)));
  }
  void sample(std::string_view name, std::span<const Label> labels, double value) {
    sample(name, labels, std::string_view(formatDouble(value)));
  }

  // One sample per status class, with `labels` + class="1xx".."other".
  void byClass(std::string_view name, std::vector<Label> labels, const TrafficCounters& traffic) {
    labels.push_back({"class", ""});
    for (size_t i = 0; i < kStatusClasses; ++i) {
      labels.back().value = statusClassLabel(i);
      sample(name, labels, traffic.requests[i]);
    }
  }

  // Cumulative buckets (the model keeps per-bucket counts), +Inf, _sum in seconds, _count.
  void histogram(std::string_view name, std::vector<Label> labels,
                 const LatencyHistogram& latency) {
    const std::string bucket = std::string(name) + "_bucket";
    labels.push_back({"le", ""});
    uint64_t cumulative = 0;
    for (size_t i = 0; i < latency.buckets.size(); ++i) {
      cumulative += latency.buckets[i];
      const std::string le = i < LatencyHistogram::kBounds
                                 ? formatDouble(LatencyHistogram::kBoundsSeconds[i])
                                 : std::string("+Inf");
      labels.back().value = le;
      sample(bucket, labels, cumulative);
    }
    labels.pop_back();
    sample(std::string(name) + "_sum", labels, secondsFromUs(latency.sum_us));
    sample(std::string(name) + "_count", labels, cumulative);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Calls `each(cluster, host)` for every host of every cluster.
template <typename Each>
void forEachHost(const EdgeStatus& status, Each each) {
  for (const ClusterStatus& cluster : status.clusters) {
    for (const HostStatus& host : cluster.hosts) each(cluster, host);
  }
}

void processMetrics(Exposition& m, const EdgeStatus& s) {
  const Label version[] = {{"version", s.version}};
  m.family("baton_info", "gauge", "Build information (always 1).");
  m.sample("baton_info", version, uint64_t{1});
  m.family("baton_config_generation", "gauge", "Generation of the published config snapshot.");
  m.sample("baton_config_generation", {}, s.generation);
  m.family("baton_reloads_total", "counter", "Config reloads applied.");
  m.sample("baton_reloads_total", {}, s.reloads);
  m.family("baton_reload_failures_total", "counter", "Config reloads refused (old config kept).");
  m.sample("baton_reload_failures_total", {}, s.reload_failures);
  m.family("baton_uptime_seconds", "gauge", "Seconds since the process started.");
  const int64_t uptime_ms = std::max<int64_t>(0, s.now_unix_ms - s.started_unix_ms);
  m.sample("baton_uptime_seconds", {}, static_cast<double>(uptime_ms) / 1000.0);
  m.family("baton_workers", "gauge", "Worker threads.");
  m.sample("baton_workers", {}, static_cast<uint64_t>(s.workers));
}

// [limits]: what the edge refused or shed, and how close it is to its limits (issue 5).
void sheddingMetrics(Exposition& m, const EdgeStatus& s) {
  const SheddingCounters& shed = s.shedding;
  m.family("baton_connections_shed_total", "counter",
           "Client connections closed at accept instead of served, by reason.");
  for (size_t i = 0; i < kShedReasons; ++i) {
    const Label reason[] = {{"reason", shedReasonName(static_cast<ShedReason>(i))}};
    m.sample("baton_connections_shed_total", reason, shed.connections[i]);
  }
  const std::tuple<std::string_view, std::string_view, std::string_view, uint64_t> plain[] = {
      {"baton_accept_pauses_total", "counter",
       "accept() failures (out of descriptors or memory): the listener paused 100 ms.",
       shed.accept_pauses},
      {"baton_requests_shed_total", "counter",
       "Requests answered 503 because the process was over its buffer budget.", shed.requests},
      {"baton_overload_idle_closed_total", "counter",
       "Idle client connections closed when the process went over its buffer budget.",
       shed.idle_closed},
      {"baton_overload_episodes_total", "counter",
       "Times a worker went over the buffer budget (summed over workers).", shed.overload_episodes},
      {"baton_overloaded_workers", "gauge", "Workers over the buffer budget now.",
       shed.overloaded_workers},
      {"baton_connections_open", "gauge", "Client connections open, every worker.",
       s.open_connections},
      {"baton_connections_limit", "gauge",
       "[limits] max_connections_total (0: no process-wide limit).", s.max_connections_total},
      {"baton_buffered_bytes", "gauge", "Bytes held in connection buffers, every worker.",
       static_cast<uint64_t>(std::max<int64_t>(0, s.buffered_bytes))},
      {"baton_buffer_budget_bytes", "gauge", "[limits] buffer_budget (0: no budget).",
       s.buffer_budget}};
  for (const auto& [name, type, help, value] : plain) {
    m.family(name, type, help);
    m.sample(name, {}, value);
  }
}

// Counted when each HTTP/2 connection ends (a flood ends its connection).
void http2Metrics(Exposition& m, const EdgeStatus& s) {
  const std::pair<std::string_view, uint64_t Http2Counters::*> counters[] = {
      {"baton_listener_http2_streams_total", &Http2Counters::streams},
      {"baton_listener_http2_resets_received_total", &Http2Counters::resets_received},
      {"baton_listener_http2_stream_errors_sent_total", &Http2Counters::stream_errors_sent},
      {"baton_listener_http2_refused_streams_total", &Http2Counters::refused_streams}};
  const std::string_view help[] = {"HTTP/2 streams the clients opened (closed connections).",
                                   "RST_STREAM frames received from clients.",
                                   "RST_STREAM frames baton sent with an error code.",
                                   "Streams refused (concurrency limit, overload)."};
  for (size_t i = 0; i < std::size(counters); ++i) {
    m.family(counters[i].first, "counter", help[i]);
    for (const auto& l : s.listeners) {
      const Label labels[] = {{"listener", l.name}};
      m.sample(counters[i].first, labels, l.h2.*counters[i].second);
    }
  }
  m.family("baton_listener_http2_goaways_total", "counter",
           "GOAWAY frames sent, by reason (enhance_your_calm = a flood limit was hit).");
  for (const auto& l : s.listeners) {
    for (const auto& [reason, value] :
         {std::pair{"no_error", l.h2.goaway_no_error},
          std::pair{"protocol_error", l.h2.goaway_protocol_error},
          std::pair{"enhance_your_calm", l.h2.goaway_enhance_your_calm},
          std::pair{"other", l.h2.goaway_other}}) {
      const Label labels[] = {{"listener", l.name}, {"reason", reason}};
      m.sample("baton_listener_http2_goaways_total", labels, value);
    }
  }
}

void listenerMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_listener_connections_accepted_total", "counter",
           "Downstream connections accepted.");
  for (const auto& l : s.listeners) {
    const Label labels[] = {{"listener", l.name}};
    m.sample("baton_listener_connections_accepted_total", labels, l.accepted);
  }
  m.family("baton_listener_active_connections", "gauge", "Open downstream connections.");
  for (const auto& l : s.listeners) {
    const Label labels[] = {{"listener", l.name}};
    m.sample("baton_listener_active_connections", labels, l.active_connections);
  }
  m.family("baton_listener_tls_handshakes_total", "counter", "TLS handshakes completed.");
  for (const auto& l : s.listeners) {
    if (!l.tls) continue;
    const Label labels[] = {{"listener", l.name}};
    m.sample("baton_listener_tls_handshakes_total", labels, l.tls_counters.handshakes);
  }
  m.family("baton_listener_tls_failures_total", "counter",
           "TLS handshakes that failed or passed [timeouts] tls_handshake.");
  for (const auto& l : s.listeners) {
    if (!l.tls) continue;
    const Label labels[] = {{"listener", l.name}};
    m.sample("baton_listener_tls_failures_total", labels, l.tls_counters.failures);
  }
  m.family("baton_listener_http2_connections_total", "counter",
           "Connections that spoke HTTP/2 (h2 by ALPN or h2c with prior knowledge).");
  for (const auto& l : s.listeners) {
    const Label labels[] = {{"listener", l.name}};
    m.sample("baton_listener_http2_connections_total", labels, l.h2_connections);
  }
  http2Metrics(m, s);
  m.family("baton_listener_requests_total", "counter",
           "HTTP requests answered, by status class (incl. local replies).");
  for (const auto& l : s.listeners) {
    m.byClass("baton_listener_requests_total", {{"listener", l.name}}, l.traffic);
  }
}

void routeMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_route_requests_total", "counter", "Requests routed, by status class.");
  for (const auto& r : s.routes) {
    m.byClass("baton_route_requests_total", {{"route", r.id}, {"cluster", r.cluster}}, r.traffic);
  }
  m.family("baton_route_request_duration_seconds", "histogram",
           "Request latency per route (request head to end of response).");
  for (const auto& r : s.routes) {
    m.histogram("baton_route_request_duration_seconds", {{"route", r.id}, {"cluster", r.cluster}},
                r.traffic.latency);
  }
}

// One sample per cluster of each plain counter.
void clusterCounters(Exposition& m, const EdgeStatus& s) {
  struct ClusterCounter {
    std::string_view name;
    std::string_view help;
    uint64_t (*get)(const ClusterStatus&);
  };
  static constexpr ClusterCounter kCounters[] = {
      {"baton_cluster_no_host_total", "Requests answered 503: no host to try.",
       [](const ClusterStatus& c) { return c.no_host; }},
      {"baton_cluster_retries_total", "Connect attempts on another host after a failure.",
       [](const ClusterStatus& c) { return c.retries; }},
      {"baton_cluster_resent_total",
       "Requests sent again to another host after a reset or a retried status.",
       [](const ClusterStatus& c) { return c.resilience.resent; }},
      {"baton_cluster_retry_budget_exhausted_total",
       "Re-sends refused by the cluster's retry budget.",
       [](const ClusterStatus& c) { return c.resilience.budget_exhausted; }},
  };
  for (const ClusterCounter& counter : kCounters) {
    m.family(counter.name, "counter", counter.help);
    for (const auto& c : s.clusters) {
      const Label labels[] = {{"cluster", c.name}};
      m.sample(counter.name, labels, counter.get(c));
    }
  }
}

void clusterMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_cluster_requests_total", "counter", "Requests to the cluster, by status class.");
  for (const auto& c : s.clusters) {
    m.byClass("baton_cluster_requests_total", {{"cluster", c.name}}, c.traffic);
  }
  m.family("baton_cluster_request_duration_seconds", "histogram", "Request latency per cluster.");
  for (const auto& c : s.clusters) {
    m.histogram("baton_cluster_request_duration_seconds", {{"cluster", c.name}}, c.traffic.latency);
  }
  clusterCounters(m, s);
  m.family("baton_cluster_overflow_total", "counter",
           "Requests answered 503 at once by circuit breaking, by limit.");
  for (const auto& c : s.clusters) {
    for (size_t k = 0; k < upstream::kLoadKinds; ++k) {
      const Label labels[] = {
          {"cluster", c.name},
          {"limit", upstream::loadLimitName(static_cast<upstream::LoadKind>(k))}};
      m.sample("baton_cluster_overflow_total", labels, c.resilience.overflow[k]);
    }
  }
  m.family("baton_cluster_admin_state", "gauge",
           "Cluster-wide operator state: 1 for the current state, 0 for the others.");
  for (const auto& c : s.clusters) {
    for (auto state : {upstream::AdminState::Active, upstream::AdminState::Draining,
                       upstream::AdminState::Maintenance}) {
      const Label labels[] = {{"cluster", c.name}, {"state", adminStateName(state)}};
      m.sample("baton_cluster_admin_state", labels, uint64_t{c.admin_state == state});
    }
  }
  m.family("baton_health_checks_total", "counter",
           "Active health check probes by result (clusters with a check).");
  for (const auto& c : s.clusters) {
    for (const auto& [result, count] : c.health_checks) {
      const Label labels[] = {{"cluster", c.name}, {"result", result}};
      m.sample("baton_health_checks_total", labels, count);
    }
  }
  m.family("baton_cluster_health_panic", "gauge",
           "1 while no Active host passes its health check and all of them serve (panic).");
  for (const auto& c : s.clusters) {
    if (!c.health_checked) continue;
    const Label labels[] = {{"cluster", c.name}};
    m.sample("baton_cluster_health_panic", labels, uint64_t{c.health_panic});
  }
  m.family("baton_cluster_outlier_panic", "gauge",
           "1 while every Active host is unhealthy or ejected and all of them serve (panic).");
  for (const auto& c : s.clusters) {
    if (!c.outlier_enabled) continue;
    const Label labels[] = {{"cluster", c.name}};
    m.sample("baton_cluster_outlier_panic", labels, uint64_t{c.outlier_panic});
  }
}

// One family of a per-host number.
template <typename Get>
void hostGauge(Exposition& m, const EdgeStatus& s, std::string_view name, std::string_view type,
               std::string_view help, Get get) {
  m.family(name, type, help);
  forEachHost(s, [&](const ClusterStatus& c, const HostStatus& h) {
    const Label labels[] = {{"cluster", c.name}, {"host", h.name}};
    m.sample(name, labels, static_cast<uint64_t>(get(h)));
  });
}

void hostTrafficMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_host_requests_total", "counter", "Requests to the host, by status class.");
  forEachHost(s, [&](const ClusterStatus& c, const HostStatus& h) {
    m.byClass("baton_host_requests_total", {{"cluster", c.name}, {"host", h.name}}, h.traffic);
  });
  hostGauge(m, s, "baton_host_bytes_in_total", "counter", "Request body bytes from clients.",
            [](const HostStatus& h) { return h.traffic.bytes_in; });
  hostGauge(m, s, "baton_host_bytes_out_total", "counter", "Response body bytes to clients.",
            [](const HostStatus& h) { return h.traffic.bytes_out; });
  m.family("baton_host_request_duration_seconds", "histogram", "Request latency per host.");
  forEachHost(s, [&](const ClusterStatus& c, const HostStatus& h) {
    m.histogram("baton_host_request_duration_seconds", {{"cluster", c.name}, {"host", h.name}},
                h.traffic.latency);
  });
}

void hostLoadMetrics(Exposition& m, const EdgeStatus& s) {
  hostGauge(m, s, "baton_host_in_flight", "gauge",
            "HTTP requests in flight plus open TCP-mode connections.",
            [](const HostStatus& h) { return h.in_flight; });
  hostGauge(m, s, "baton_host_tcp_connections", "gauge", "Open TCP-mode connections.",
            [](const HostStatus& h) { return h.tcp_active; });
  hostGauge(m, s, "baton_host_pooled_connections", "gauge",
            "Idle keep-alive connections in the workers' pools.",
            [](const HostStatus& h) { return h.pooled_idle; });
  hostGauge(m, s, "baton_host_connect_failures_total", "counter", "Failed upstream connects.",
            [](const HostStatus& h) { return h.connect_failures; });
  hostGauge(m, s, "baton_host_drain_cut_total", "counter",
            "Requests cut at the host drain deadline.",
            [](const HostStatus& h) { return h.drain_cut; });
}

void hostStateMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_host_admin_state", "gauge",
           "State picks see (operator, cluster and Marathon combined): 1 for the current state.");
  forEachHost(s, [&](const ClusterStatus& c, const HostStatus& h) {
    for (auto state : {upstream::AdminState::Active, upstream::AdminState::Draining,
                       upstream::AdminState::Maintenance}) {
      const Label labels[] = {
          {"cluster", c.name}, {"host", h.name}, {"state", adminStateName(state)}};
      m.sample("baton_host_admin_state", labels, uint64_t{h.state == state});
    }
  });
  hostGauge(m, s, "baton_host_weight", "gauge", "Weight the balancer uses now.",
            [](const HostStatus& h) { return h.weight; });
  hostGauge(m, s, "baton_host_healthy", "gauge", "1 unless health checks fail (unchecked = 1).",
            [](const HostStatus& h) { return hostHealthy(h) ? 1 : 0; });
  hostGauge(m, s, "baton_host_ejected", "gauge",
            "1 while passive outlier detection keeps the host out of rotation.",
            [](const HostStatus& h) { return h.ejected ? 1 : 0; });
  hostGauge(m, s, "baton_outlier_ejections_total", "counter",
            "Times passive outlier detection ejected the host (since it was first ejected).",
            [](const HostStatus& h) { return h.ejections_total; });
  hostGauge(m, s, "baton_host_discovery_draining", "gauge",
            "1 while Marathon drains the host (killed task, old deployment colour).",
            [](const HostStatus& h) { return h.discovery_draining ? 1 : 0; });
}

void marathonMetrics(Exposition& m, const EdgeStatus& s) {
  const DiscoveryView& d = s.discovery;
  if (!d.enabled) return;
  m.family("baton_marathon_sync_age_seconds", "gauge",
           "Seconds since the last applied Marathon document (absent before the first).");
  if (d.sync_age_ms >= 0) {
    m.sample("baton_marathon_sync_age_seconds", {}, static_cast<double>(d.sync_age_ms) / 1000.0);
  }
  m.family("baton_marathon_documents_applied_total", "counter", "Marathon documents applied.");
  m.sample("baton_marathon_documents_applied_total", {}, d.documents_applied);
  m.family("baton_marathon_documents_refused_total", "counter",
           "Marathon documents refused (previous state kept).");
  m.sample("baton_marathon_documents_refused_total", {}, d.documents_refused);
  m.family("baton_marathon_starved_resyncs_total", "counter",
           "Resyncs that waited for a core so long that their threads were raised to nice 10.");
  m.sample("baton_marathon_starved_resyncs_total", {}, d.starved_resyncs);
  m.family("baton_marathon_apps", "gauge", "Marathon apps in the applied state.");
  m.sample("baton_marathon_apps", {}, static_cast<uint64_t>(d.apps));
  m.family("baton_marathon_tasks", "gauge", "Marathon tasks in the applied state.");
  m.sample("baton_marathon_tasks", {}, static_cast<uint64_t>(d.tasks));
  m.family("baton_marathon_issues", "gauge", "Problems found in the applied Marathon state.");
  m.sample("baton_marathon_issues", {}, static_cast<uint64_t>(d.issues.size()));
  m.family("baton_marathon_holding", "gauge", "1 while a suspicious change waits for a resync.");
  m.sample("baton_marathon_holding", {}, uint64_t{d.holding});
  m.family("baton_marathon_from_state_file", "gauge",
           "1 while serving the state persisted by a previous run.");
  m.sample("baton_marathon_from_state_file", {}, uint64_t{d.from_state_file});
}

// Expiry is what operators alert on; the file names the certificate (names can be many).
void certificateMetrics(Exposition& m, const EdgeStatus& s) {
  m.family("baton_tls_certificate_not_after_seconds", "gauge",
           "Expiry (Unix time) of each certificate being served.");
  for (const auto& c : s.certificates) {
    if (!c.serving) continue;
    const Label labels[] = {{"file", c.cert_file}, {"origin", c.origin}};
    m.sample("baton_tls_certificate_not_after_seconds", labels,
             static_cast<double>(c.not_after_unix));
  }
  m.family("baton_tls_certificate_load_errors", "gauge",
           "1 when the latest load of a certificate's files failed (the last good one is kept).");
  for (const auto& c : s.certificates) {
    const Label labels[] = {{"file", c.cert_file}, {"origin", c.origin}};
    m.sample("baton_tls_certificate_load_errors", labels,
             static_cast<uint64_t>(c.last_error.empty() ? 0 : 1));
  }
  // A staple that stopped (expired while served, or refused at load) is a quiet failure: no
  // log line at the moment it expires, hence a gauge to alert on.
  m.family("baton_tls_certificate_ocsp_stapled", "gauge",
           "1 when a served certificate with an OCSP response file staples it now.");
  for (const auto& c : s.certificates) {
    if (!c.serving || c.ocsp == "none") continue;
    const Label labels[] = {{"file", c.cert_file}, {"origin", c.origin}};
    m.sample("baton_tls_certificate_ocsp_stapled", labels,
             static_cast<uint64_t>(c.ocsp == "stapled" ? 1 : 0));
  }
}

template <typename Get>
void groupGauge(Exposition& m, const EdgeStatus& s, std::string_view name, std::string_view help,
                Get get) {
  m.family(name, "gauge", help);
  for (const auto& g : s.groups) {
    const Label labels[] = {{"group", g.group}};
    m.sample(name, labels, static_cast<uint64_t>(get(g)));
  }
}

void groupMetrics(Exposition& m, const EdgeStatus& s) {
  if (s.groups.empty()) return;
  m.family("baton_deployment_group_tasks", "gauge", "Tasks of each colour of a deployment group.");
  for (const auto& g : s.groups) {
    const Label old_labels[] = {{"group", g.group}, {"colour", "old"}};
    m.sample("baton_deployment_group_tasks", old_labels, static_cast<uint64_t>(g.old_tasks));
    const Label new_labels[] = {{"group", g.group}, {"colour", "new"}};
    m.sample("baton_deployment_group_tasks", new_labels, static_cast<uint64_t>(g.new_tasks));
  }
  groupGauge(m, s, "baton_deployment_group_old_drained", "Old-colour tasks drained.",
             [](const DeploymentGroupStatus& g) { return g.old_drained; });
  groupGauge(m, s, "baton_deployment_group_new_healthy", "New-colour tasks healthy.",
             [](const DeploymentGroupStatus& g) { return g.new_healthy; });
  groupGauge(m, s, "baton_deployment_group_target_instances",
             "HAPROXY_DEPLOYMENT_TARGET_INSTANCES.",
             [](const DeploymentGroupStatus& g) { return g.target; });
  groupGauge(m, s, "baton_deployment_group_in_cutover", "1 while both colours have tasks.",
             [](const DeploymentGroupStatus& g) { return g.in_cutover ? 1 : 0; });
}

// One sample per pinned cluster of `get(pin)`.
template <typename Get>
void pinFamily(Exposition& m, const EdgeStatus& s, std::string_view name, std::string_view type,
               std::string_view help, Get get) {
  m.family(name, type, help);
  for (const auto& g : s.groups) {
    for (const PinGroupStatus& p : g.pinning) {
      const Label labels[] = {{"group", p.group}, {"cluster", p.cluster}};
      m.sample(name, labels, static_cast<uint64_t>(get(p)));
    }
  }
}

void pinMetrics(Exposition& m, const EdgeStatus& s) {
  const bool any = std::any_of(s.groups.begin(), s.groups.end(),
                               [](const auto& g) { return !g.pinning.empty(); });
  if (!any) return;
  pinFamily(m, s, "baton_pin_in_cutover", "gauge", "1 while two or more versions have hosts.",
            [](const PinGroupStatus& p) { return p.in_cutover ? 1 : 0; });
  pinFamily(m, s, "baton_pin_active", "gauge", "1 while pinning applies (cutover or its grace).",
            [](const PinGroupStatus& p) { return p.active ? 1 : 0; });
  pinFamily(m, s, "baton_pin_flip_held", "gauge",
            "1 while the CDN version flip waits for cached unhashed files to expire.",
            [](const PinGroupStatus& p) { return p.flip_held ? 1 : 0; });
  m.family("baton_pin_version_hosts", "gauge", "Hosts of each version (state: serving, all).");
  m.family("baton_pin_cdn_version", "gauge", "1 for the version the CDN gets.");
  for (const auto& g : s.groups) {
    for (const PinGroupStatus& p : g.pinning) {
      for (const PinVersionStatus& v : p.versions) {
        const Label serving[] = {
            {"group", p.group}, {"cluster", p.cluster}, {"version", v.id}, {"state", "serving"}};
        m.sample("baton_pin_version_hosts", serving, static_cast<uint64_t>(v.serving));
        const Label all[] = {
            {"group", p.group}, {"cluster", p.cluster}, {"version", v.id}, {"state", "all"}};
        m.sample("baton_pin_version_hosts", all, static_cast<uint64_t>(v.hosts));
        const Label cdn[] = {{"group", p.group}, {"cluster", p.cluster}, {"version", v.id}};
        m.sample("baton_pin_cdn_version", cdn, uint64_t{v.id == p.cdn_version ? 1u : 0u});
      }
    }
  }
  struct PinCounter {
    std::string_view name;
    std::string_view help;
    uint64_t PinGroupStatus::*field;
  };
  static constexpr PinCounter kCounters[] = {
      {"baton_pin_flips_total", "CDN version flips.", &PinGroupStatus::flips},
      {"baton_pin_requests_total", "Requests given a version.", &PinGroupStatus::pinned},
      {"baton_pin_retries_total", "Requests sent to another version after a 404/410 asset miss.",
       &PinGroupStatus::retries},
      {"baton_pin_retry_hits_total", "Missed requests another version answered.",
       &PinGroupStatus::retry_hits},
      {"baton_pin_all_miss_total", "Asset misses on every version (404 + Cache-Control: no-store).",
       &PinGroupStatus::all_miss},
      {"baton_pin_fallbacks_total", "Requests whose version had no serving host.",
       &PinGroupStatus::fallbacks},
      {"baton_pin_cache_capped_total",
       "CDN answers given Cache-Control: no-cache during a cutover.",
       &PinGroupStatus::cache_capped},
      {"baton_pin_cookies_total", "Pin cookies set (mode full).", &PinGroupStatus::cookies_set},
  };
  for (const PinCounter& c : kCounters) {
    pinFamily(m, s, c.name, "counter", c.help,
              [&c](const PinGroupStatus& p) { return p.*c.field; });
  }
}

}  // namespace

std::string renderPrometheus(const EdgeStatus& status) {
  Exposition m;
  processMetrics(m, status);
  sheddingMetrics(m, status);
  listenerMetrics(m, status);
  routeMetrics(m, status);
  clusterMetrics(m, status);
  hostTrafficMetrics(m, status);
  hostLoadMetrics(m, status);
  hostStateMetrics(m, status);
  marathonMetrics(m, status);
  groupMetrics(m, status);
  pinMetrics(m, status);
  certificateMetrics(m, status);
  return m.take();
}

// ---------------------------------------------------------------------------------------------
// HAProxy stats CSV

namespace {

// Positions of the columns baton fills, in HAProxy's order (management guide, "CSV format").
// The unit test checks each against statCsvColumns().
enum Column : size_t {
  kPxname = 0,
  kSvname = 1,
  kQcur = 2,
  kQmax = 3,
  kScur = 4,
  kStot = 7,
  kBin = 8,
  kBout = 9,
  kEcon = 13,
  kWretr = 15,
  kStatus = 17,
  kWeight = 18,
  kAct = 19,
  kBck = 20,
  kPid = 26,
  kIid = 27,
  kSid = 28,
  kLbtot = 30,
  kType = 32,
  kCheckStatus = 36,
  kHrsp1xx = 39,  // .. kHrsp1xx + 5 = hrsp_other
  kReqTot = 48,
  kRtime = 60,
  kTtime = 61,
  kAddr = 73,
  kAlgo = 76,
  kIdleConnCur = 95,
  kUweight = 99,
};

// HAProxy's name for baton's balancing policy (the model may carry either spelling: the
// config's words or the effective config's, which already are HAProxy's where one exists).
std::string_view haproxyAlgo(std::string_view policy) {
  if (policy == "round_robin") return "roundrobin";
  if (policy == "least_request") return "leastconn";
  if (policy == "source_hash") return "source";
  if (policy == "p2c" || policy == "power_of_two") return "random";  // random(2): two draws
  return policy;
}

void fillTraffic(std::vector<std::string>& row, const TrafficCounters& traffic) {
  row[kStot] = std::to_string(traffic.total());
  row[kBin] = std::to_string(traffic.bytes_in);
  row[kBout] = std::to_string(traffic.bytes_out);
  row[kLbtot] = row[kStot];
  row[kReqTot] = row[kStot];
  for (size_t i = 0; i < kStatusClasses; ++i) {
    row[kHrsp1xx + i] = std::to_string(traffic.requests[i]);
  }
  // HAProxy averages the last 1024 requests; baton gives the mean since start.
  row[kRtime] = std::to_string(meanMs(traffic.latency));
  row[kTtime] = row[kRtime];
}

std::vector<std::string> hostRow(const ClusterStatus& cluster, const HostStatus& host, size_t iid,
                                 size_t sid) {
  std::vector<std::string> row(statCsvColumns().size());
  row[kPxname] = cluster.name;
  row[kSvname] = host.name;
  row[kQcur] = "0";
  row[kQmax] = "0";
  row[kScur] = std::to_string(host.in_flight);
  fillTraffic(row, host.traffic);
  row[kEcon] = std::to_string(host.connect_failures);
  row[kStatus] = hostStatusWord(host);
  row[kWeight] = std::to_string(host.weight);
  row[kUweight] = row[kWeight];
  row[kAct] = "1";
  row[kBck] = "0";
  row[kPid] = "1";
  row[kIid] = std::to_string(iid);
  row[kSid] = std::to_string(sid);
  row[kType] = "2";
  if (host.health != "unchecked") row[kCheckStatus] = hostHealthy(host) ? "L7OK" : "L7STS";
  row[kAddr] = host.address;
  row[kIdleConnCur] = std::to_string(host.pooled_idle);
  return row;
}

std::vector<std::string> backendRow(const ClusterStatus& cluster, size_t iid) {
  std::vector<std::string> row(statCsvColumns().size());
  uint64_t in_flight = 0, connect_failures = 0, idle = 0, weight = 0, active = 0;
  for (const HostStatus& host : cluster.hosts) {
    in_flight += host.in_flight;
    connect_failures += host.connect_failures;
    idle += host.pooled_idle;
    if (hostTakesRequests(host)) {
      weight += host.weight;
      ++active;
    }
  }
  row[kPxname] = cluster.name;
  row[kSvname] = "BACKEND";
  row[kQcur] = "0";
  row[kQmax] = "0";
  row[kScur] = std::to_string(in_flight);
  fillTraffic(row, cluster.traffic);
  row[kEcon] = std::to_string(connect_failures);
  row[kWretr] = std::to_string(cluster.retries);
  row[kStatus] = active > 0 ? "UP" : "DOWN";
  row[kWeight] = std::to_string(weight);
  row[kUweight] = row[kWeight];
  row[kAct] = std::to_string(active);
  row[kBck] = "0";
  row[kPid] = "1";
  row[kIid] = std::to_string(iid);
  row[kSid] = "0";
  row[kType] = "1";
  row[kAlgo] = haproxyAlgo(cluster.policy);
  row[kIdleConnCur] = std::to_string(idle);
  return row;
}

// CSV has no escaping in HAProxy's dialect: names are config words, but a stray ',' or line
// break would shift columns for every parser, so they become '_'.
void appendCsvField(std::string& out, std::string_view field) {
  for (char c : field) out += (c == ',' || c == '\n' || c == '\r') ? '_' : c;
}

}  // namespace

const std::vector<std::string_view>& statCsvColumns() {
  static const std::vector<std::string_view> kColumns = {
      "pxname",
      "svname",
      "qcur",
      "qmax",
      "scur",
      "smax",
      "slim",
      "stot",
      "bin",
      "bout",
      "dreq",
      "dresp",
      "ereq",
      "econ",
      "eresp",
      "wretr",
      "wredis",
      "status",
      "weight",
      "act",
      "bck",
      "chkfail",
      "chkdown",
      "lastchg",
      "downtime",
      "qlimit",
      "pid",
      "iid",
      "sid",
      "throttle",
      "lbtot",
      "tracked",
      "type",
      "rate",
      "rate_lim",
      "rate_max",
      "check_status",
      "check_code",
      "check_duration",
      "hrsp_1xx",
      "hrsp_2xx",
      "hrsp_3xx",
      "hrsp_4xx",
      "hrsp_5xx",
      "hrsp_other",
      "hanafail",
      "req_rate",
      "req_rate_max",
      "req_tot",
      "cli_abrt",
      "srv_abrt",
      "comp_in",
      "comp_out",
      "comp_byp",
      "comp_rsp",
      "lastsess",
      "last_chk",
      "last_agt",
      "qtime",
      "ctime",
      "rtime",
      "ttime",
      "agent_status",
      "agent_code",
      "agent_duration",
      "check_desc",
      "agent_desc",
      "check_rise",
      "check_fall",
      "check_health",
      "agent_rise",
      "agent_fall",
      "agent_health",
      "addr",
      "cookie",
      "mode",
      "algo",
      "conn_rate",
      "conn_rate_max",
      "conn_tot",
      "intercepted",
      "dcon",
      "dses",
      "wrew",
      "connect",
      "reuse",
      "cache_lookups",
      "cache_hits",
      "srv_icur",
      "src_ilim",
      "qtime_max",
      "ctime_max",
      "rtime_max",
      "ttime_max",
      "eint",
      "idle_conn_cur",
      "safe_conn_cur",
      "used_conn_cur",
      "need_conn_est",
      "uweight",
  };
  return kColumns;
}

std::vector<std::vector<std::string>> statCsvRows(const EdgeStatus& status) {
  std::vector<std::vector<std::string>> rows;
  size_t iid = 0;
  for (const ClusterStatus& cluster : status.clusters) {
    ++iid;
    size_t sid = 0;
    for (const HostStatus& host : cluster.hosts) rows.push_back(hostRow(cluster, host, iid, ++sid));
    rows.push_back(backendRow(cluster, iid));
  }
  return rows;
}

// Every line, header included, ends with a comma like HAProxy's: zdd.py drops the last field.
std::string renderStatCsv(const EdgeStatus& status) {
  std::string out = "# ";
  for (std::string_view column : statCsvColumns()) out.append(column).append(",");
  out += '\n';
  for (const auto& row : statCsvRows(status)) {
    for (const std::string& field : row) {
      appendCsvField(out, field);
      out += ',';
    }
    out += '\n';
  }
  return out;
}

}  // namespace baton::proxy::admin
