// Typed configuration: what conf/loader.h produces from a TOML file and what every other
// module builds its runtime snapshots from. Plain values with units already parsed; nothing
// here is read at request time (the routing table, clusters and workers copy what they need).
//
// Format reference: conf/README.md. Produced on the control thread (load / reload), consumed
// there too; never shared mutable with workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace baton::conf {

using Duration = std::chrono::milliseconds;

// Where a spec came from, so later validation errors can still name file, line and key.
struct SourceLoc {
  std::string file;
  uint32_t line = 0;
};

// What to do with raw bytes >= 0x80 in a request target (url-policy.md).
enum class RawByteMode : uint8_t {
  Forward,  // default: forward byte-identical
  Encode,   // percent-encode to %HH when forwarding
  Reject,   // answer 400
};

enum class AccessLogFormat : uint8_t { Text, Json };

enum class LbPolicyKind : uint8_t { RoundRobin, LeastRequest, PowerOfTwo };

struct TimeoutsSpec {
  Duration request_head{10'000};         // whole request head must arrive within this -> 408
  Duration keepalive_idle{60'000};       // idle downstream connection between requests
  Duration upstream_connect{2'000};      // TCP connect to a backend
  Duration upstream_first_byte{30'000};  // request fully sent -> first response byte
  Duration body_idle{30'000};            // no body progress in either direction
  Duration upstream_idle{30'000};        // pooled idle upstream connection lifetime
  Duration drain{30'000};                // graceful shutdown / reload drain deadline
};

struct LimitsSpec {
  uint32_t request_line_bytes = 8 * 1024;       // -> 414
  uint32_t header_field_bytes = 8 * 1024;       // one field line -> 431
  uint32_t header_block_bytes = 32 * 1024;      // whole head -> 431
  uint32_t header_count = 100;                  // -> 431
  uint64_t body_bytes = 0;                      // default route body cap; 0 = unlimited
  uint32_t requests_per_connection = 0;         // 0 = unlimited
  uint32_t max_connections = 10'000;            // per worker
  uint32_t buffer_high_watermark = 256 * 1024;  // stop reading the other side above this
};

struct ListenerSpec {
  SourceLoc loc;
  std::string name;
  std::string address;  // "127.0.0.1:8080", "[::1]:8080", ":8080" (all addresses)
  RawByteMode raw_bytes = RawByteMode::Forward;
};

struct HostSpec {
  SourceLoc loc;
  std::string address;  // "ip:port"; resolved at load time (numeric only, no DNS on the loop)
  uint32_t weight = 1;  // 1..256
};

struct ClusterSpec {
  SourceLoc loc;
  std::string name;
  LbPolicyKind policy = LbPolicyKind::RoundRobin;
  std::vector<HostSpec> hosts;
  uint32_t max_idle_connections = 64;  // per worker, per host
  uint32_t connect_attempts = 3;       // distinct hosts tried on connect failure
};

struct RouteSpec {
  SourceLoc loc;
  std::string prefix = "/";  // normalised at load time with the request-target policy
  std::string cluster;
  std::optional<uint64_t> body_bytes;    // overrides limits.body_bytes
  std::optional<RawByteMode> raw_bytes;  // overrides the listener's
  bool merge_slashes = true;
};

struct VirtualHostSpec {
  SourceLoc loc;
  std::string name;
  // "example.com" exact, "*.example.com" wildcard (any non-empty label sequence), "*" default.
  std::vector<std::string> domains;
  std::vector<RouteSpec> routes;  // tried in order; first match wins
};

struct AccessLogSpec {
  std::string path = "off";  // "off", "stdout", or a file path
  AccessLogFormat format = AccessLogFormat::Text;
};

struct ServerSpec {
  uint32_t workers = 0;                      // 0 = number of cores
  std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-* we append to
  AccessLogSpec access_log;
};

struct ConfigSpec {
  std::string file;  // path it was loaded from
  ServerSpec server;
  TimeoutsSpec timeouts;
  LimitsSpec limits;
  std::vector<ListenerSpec> listeners;
  std::vector<ClusterSpec> clusters;
  std::vector<VirtualHostSpec> vhosts;
};

}  // namespace baton::conf
