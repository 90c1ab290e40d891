// Pieces of the admin renderers (proxy/admin/render.h) that the socket commands
// (proxy/admin/commands.cc) reuse for `show X json` and `show stat`: a small JSON writer, the
// JSON of each part of the model, the stats CSV rows and the host status words.
// Pure functions of the model: no I/O, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/admin/status.h"

namespace baton::proxy::admin {

// Appends `text` as a JSON string literal (with its quotes). Valid UTF-8 passes through as is;
// '"' and '\\' are escaped, control bytes (< 0x20 and 0x7f) become \n, \t, ... or \u00XX, and
// every byte of an invalid UTF-8 sequence b becomes \u00XX (U+00XX: lossy, but the document
// stays valid JSON whatever bytes a client or Marathon sent).
void appendJsonString(std::string& out, std::string_view text);

// Writes one JSON document into a string; commas and nesting are tracked, so callers just say
// what comes next. Misuse (a value where a key is expected) is not detected: callers are ours.
class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint32_t number) { return value(static_cast<uint64_t>(number)); }
  JsonWriter& value(double number);  // NaN / infinities become 0 (JSON has none)
  JsonWriter& value(bool flag);
  // key(name).value(v) in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, T v) {
    key(name);
    return value(v);
  }
  std::string take() { return std::move(out_); }

 private:
  void separate();

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Each part of the model as a JSON value, keys = the struct's field names (render.h).
void writeTraffic(JsonWriter& json, const TrafficCounters& traffic);
void writeHost(JsonWriter& json, const HostStatus& host);
void writeCluster(JsonWriter& json, const ClusterStatus& cluster);  // with its hosts
void writeRoute(JsonWriter& json, const RouteStatus& route);
void writeListener(JsonWriter& json, const ListenerStatus& listener);
void writeDiscovery(JsonWriter& json, const DiscoveryView& discovery);
void writeGroup(JsonWriter& json, const DeploymentGroupStatus& group);  // with its pinning
void writePinGroup(JsonWriter& json, const PinGroupStatus& pin);
void writeRejected(JsonWriter& json, const RejectedRequest& rejected);
void writeCertificate(JsonWriter& json, const CertificateView& cert);
// Several instances: what GET /instance answers, and the peer monitor's view ("instances").
void writeInstanceFacts(JsonWriter& json, const InstanceFacts& facts);
void writeInstances(JsonWriter& json, const InstancesView& instances);
// The scalar fields of EdgeStatus plus "uptime_s" and "discovery", into an object the caller
// opened (so /status and `show info json` share them).
void writeInfoFields(JsonWriter& json, const EdgeStatus& status);

// The stats CSV: HAProxy 2.x column names in HAProxy's order, and one row per host plus a
// BACKEND row after each cluster's hosts; every row has statCsvColumns().size() fields.
const std::vector<std::string_view>& statCsvColumns();
std::vector<std::vector<std::string>> statCsvRows(const EdgeStatus& status);

// HAProxy's status word for a host: "MAINT" (maintenance, or Marathon is draining it: old
// deployment colour, killed task, gone from the config), "DRAIN" (operator drain), "DOWN"
// (failing health checks), else "UP".
std::string_view hostStatusWord(const HostStatus& host);
// Does the host take new requests (UP)?
bool hostTakesRequests(const HostStatus& host);
// "unchecked" and passing health count as healthy; "down", "unhealthy", "failing" do not.
bool hostHealthy(const HostStatus& host);

}  // namespace baton::proxy::admin
