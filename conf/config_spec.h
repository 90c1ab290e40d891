// Typed configuration: what conf/loader.h produces from a TOML file and what every other
// module builds its runtime snapshots from. Plain values with units already parsed; nothing
// here is read at request time (the routing table, clusters and workers copy what they need).
//
// Format reference: conf/README.md. Produced on the control thread (load / reload), consumed
// there too; never shared mutable with workers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace baton::conf {

using Duration = std::chrono::milliseconds;

// Where a spec came from, so later validation errors can still name file, line and key.
struct SourceLoc {
  std::string file;
  uint32_t line = 0;
  bool operator==(const SourceLoc&) const = default;
};

// What to do with raw bytes >= 0x80 in a request target (url-policy.md).
enum class RawByteMode : uint8_t {
  Forward,  // default: forward byte-identical
  Encode,   // percent-encode to %HH when forwarding
  Reject,   // answer 400
};

enum class AccessLogFormat : uint8_t { Text, Json };

// Which of a route's requests the access log gets ([server.access_log] says where it goes).
// Errors: those baton could not serve (a local reply for a proxy error) or that got a 5xx,
// HAProxy's `option dontlog-normal`; marathon-lb users set that, or turned logging off for a
// noisy app, through template overrides.
enum class AccessLogMode : uint8_t { All, Errors, Off };

// SourceHash: the client address picks the host (marathon-lb's `balance source`), so one client
// keeps landing on the same host while the host set is unchanged.
enum class LbPolicyKind : uint8_t { RoundRobin, LeastRequest, PowerOfTwo, SourceHash };

// How a cluster's hosts are spoken to: HTTP/1.1 (keep-alive pool), HTTP/2 with prior knowledge
// over plain TCP (h2c), or HTTP/2 over TLS with ALPN h2 (h2). gRPC backends need h2c or h2.
enum class UpstreamProtocol : uint8_t { Http1, H2c, H2 };

// Http: requests are decoded and routed through the vhosts of the listener's scope.
// Tcp: a plain L4 proxy to `ListenerSpec::tcp_cluster` (marathon-lb's `HAPROXY_{n}_MODE=tcp`).
enum class ListenerKind : uint8_t { Http, Tcp };

// What selects the virtual host on an Http listener: the Host header (default), or the
// X-Marathon-App-Id header (marathon-lb's :9091 listener; vhost domains are then app ids).
enum class RouteBy : uint8_t { Host, AppIdHeader };

// Asset pinning (asset-pinning.md, routing/README.md). Off: plain balancing; Assets (default):
// version choice, miss retries, cache rules; Full: Assets plus the browser pin cookie.
enum class PinMode : uint8_t { Off, Assets, Full };
// Is a request from a CDN fetching from us as its origin? Auto: look for a CDN's marks
// (CDN-Loop, a CDN's Via, X-Varnish, X-Amz-Cf-Id, CF-Ray, Fastly-FF, ...).
enum class CdnOrigin : uint8_t { Auto, Yes, No };

struct TimeoutsSpec {
  Duration request_head{10'000};         // whole request head must arrive within this -> 408
  Duration keepalive_idle{60'000};       // idle downstream connection between requests
  Duration upstream_connect{2'000};      // TCP connect to a backend
  Duration upstream_first_byte{30'000};  // request fully sent -> first response byte
  Duration body_idle{30'000};            // no body progress in either direction
  Duration upstream_idle{30'000};        // pooled idle upstream connection lifetime
  Duration drain{30'000};                // graceful shutdown / reload drain deadline
  // A host taken out of service (operator drain or maintenance, Marathon task killing or old
  // deployment colour): in-flight requests to it may run this long, then are cut (0 = never).
  Duration host_drain{60'000};
  Duration tls_handshake{10'000};  // accept -> TLS handshake done, else the connection closes
  // An upgraded (WebSocket) or TCP-mode tunnel with no byte either way for this long is closed.
  // marathon-lb's `timeout tunnel 3600s` cut every WebSocket after an hour of quiet: the default
  // is kept for compatibility, and routes and clusters override it (tunnel_idle).
  Duration tunnel_idle{3'600'000};
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
  // Slow and abusive clients (issue 5). A request body slower than body_min_rate bytes/s over a
  // body_rate_window (time paused by upstream backpressure excluded) -> 408; 0 = off.
  uint64_t body_min_rate = 0;
  Duration body_rate_window{10'000};
  uint32_t max_connections_total = 0;  // downstream connections, all workers; 0 = off
  // Bytes buffered in every worker's client and upstream connections; over it the process
  // sheds (503, idle keep-alives closed, no accepting) until it falls below 3/4. 0 = off.
  uint64_t buffer_budget = 0;
  // File descriptors kept free for the admin socket / admin HTTP and upstream connects: a client
  // connection accepted on a descriptor this close to RLIMIT_NOFILE is closed at once.
  uint32_t fd_reserve = 32;
};

// One certificate (chain) and its key for TLS listeners. The names it serves come from the
// certificate itself (subjectAltName DNS entries, else the subject CN), as HAProxy's `crt` does.
struct CertificateSpec {
  SourceLoc loc;
  std::string cert;  // PEM: the leaf first, then intermediates
  std::string key;   // PEM private key; "" = in the cert file (marathon-lb's combined PEM)
  std::string ocsp;  // DER OCSP response stapled to handshakes ("" = none); re-read on change
  bool is_default = false;        // served to clients without SNI or with an unknown name
  std::string origin = "config";  // "config", or "marathon:/app/id" (HAPROXY_{n}_SSL_CERT)
  bool operator==(const CertificateSpec&) const = default;
};

enum class TlsVersion : uint8_t { Tls12, Tls13 };

// [tls]: settings shared by every TLS listener, and the certificates they choose from by SNI.
struct TlsSpec {
  TlsVersion min_version = TlsVersion::Tls12;  // TLS 1.0/1.1 are never offered
  // TLS 1.2 ciphers (OpenSSL list syntax): forward-secret AEAD only, as Mozilla's "intermediate".
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::string ciphersuites =  // TLS 1.3
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  // Session-ticket keys rotate this often (the previous key still decrypts for one more period);
  // 0 = no session tickets.
  Duration ticket_key_rotation{3'600'000};
  // Session-ticket keys shared with other processes (HA peers, the next binary after an upgrade):
  // HAProxy's tls-ticket-keys format, base64 80-byte keys one per line; every key decrypts, the
  // next-to-last encrypts (append a key everywhere, then another: rotation without a failed
  // resumption). Set: tickets are on and ticket_key_rotation is not used. "" = own random keys.
  std::string ticket_key_file;
  // Certificate, key and OCSP files are checked for changes this often and reloaded without a
  // restart (0 = only on the admin command `reload certs`, or a reload).
  Duration watch_interval{5'000};
  std::vector<CertificateSpec> certificates;
  bool operator==(const TlsSpec&) const = default;
};

// [http2]: limits of baton's HTTP/2 server sessions (hostile-inputs.md, HTTP/2).
struct Http2Spec {
  uint32_t max_concurrent_streams = 100;       // more -> RST_STREAM REFUSED_STREAM
  uint32_t initial_window_bytes = 256 * 1024;  // per stream receive window (request bodies)
  uint32_t max_header_list_bytes = 64 * 1024;  // decoded name+value+32 per field -> 431 / reset
  // Flood guards, each per connection: past the budget the connection gets GOAWAY
  // ENHANCE_YOUR_CALM. Resets: streams the client cancelled (nghttp2's rate limit, CVE-2023-44487)
  // plus stream errors baton sent (MadeYouReset); control: SETTINGS and PING frames.
  uint32_t reset_burst = 1000;
  uint32_t reset_rate = 33;  // per second, refilling the burst
  uint32_t control_frame_burst = 1000;
  uint32_t control_frame_rate = 100;  // per second
  bool operator==(const Http2Spec&) const = default;
};

struct ListenerSpec {
  SourceLoc loc;
  std::string name;
  std::string address;  // "127.0.0.1:8080", "[::1]:8080", ":8080" (all addresses)
  RawByteMode raw_bytes = RawByteMode::Forward;
  ListenerKind kind = ListenerKind::Http;
  RouteBy route_by = RouteBy::Host;
  // Http: "" serves the shared vhosts (VirtualHostSpec::scope == ""); a name serves only the
  // vhosts of that scope (a marathon-lb per-service-port frontend never falls back to others).
  std::string route_scope;
  std::string tcp_cluster;        // kind == Tcp: every connection goes to this cluster
  std::string origin = "config";  // "config", or "marathon:/app/id" (status, errors)
  // Http: TLS with a certificate chosen by SNI from [tls] certificates, offering `alpn` (any of
  // "h2", "http/1.1", in preference order).
  bool tls = false;
  std::vector<std::string> alpn = {"h2", "http/1.1"};
  // Http, plain: a connection opening with the HTTP/2 preface speaks h2c (prior knowledge).
  bool h2c = true;
  std::optional<CdnOrigin> cdn_origin;  // asset pinning; unset: [pinning] cdn_origin
  bool operator==(const ListenerSpec&) const = default;
};

struct HostSpec {
  // Its line in its cluster's file (0 = none: a discovered host's errors name its cluster's
  // origin). Not a SourceLoc: a host is always in its cluster's file, and 100,000 discovered
  // hosts carried 32 bytes of empty file name each.
  uint32_t line = 0;
  std::string address;  // "ip:port"; resolved at load time (numeric only, no DNS on the loop)
  uint32_t weight = 1;  // 1..256
  // Stats / admin name (marathon-lb's svname, e.g. "10_0_6_25_31704"); "" = the address.
  std::string name;
  std::string task_id;    // Marathon task id, "" for configured hosts
  bool draining = false;  // discovery says: no new requests (task killing, old deployment colour)
  // Discovery: other routable tasks share this address (a LOST task whose port went to a new one),
  // merged into this entry, which drains only when all of them do. Set by translate; the
  // fast-path drain (discovery/model/fast_drain.h) leaves such a host to the next translate.
  bool shared_address = false;
  // Asset pinning: the id of the ClusterSpec::pin version this host runs ("" = none; a host of
  // a pinned cluster without one belongs to no version and gets only unpinned requests).
  std::string version;
  bool operator==(const HostSpec&) const = default;
};

// A list shared between copies of the spec holding it (copy on write): a ClusterSpec's hosts
// and a VirtualHostSpec's routes. Discovery produces 100,000 hosts and 10,000 vhosts per
// Marathon resync; the discovered spec, the merged config and the previous snapshot's config
// each used to hold and compare their own copy. Now a copy of the spec shares the list,
// equality is "same list" before it is element by element, and translate
// (discovery/model/translate.cc) hands an unchanged app's host list to the next spec as is.
// Reads behave like a const std::vector<T>; a write through a non-const accessor first
// takes a private copy when the list is shared, so no other holder ever sees it change.
// Not thread-safe for writes (like std::vector): specs are built on the control thread, and
// workers only read the copies a snapshot carries.
template <typename T>
class SharedList {
 public:
  using value_type = T;
  using Vector = std::vector<T>;
  using iterator = typename Vector::iterator;
  using const_iterator = typename Vector::const_iterator;
  using size_type = typename Vector::size_type;

  SharedList() = default;
  SharedList(Vector items)  // NOLINT: assigned from a vector like the std::vector it replaced
      : items_(std::make_shared<Vector>(std::move(items))), owned_(true) {}
  SharedList(std::initializer_list<T> items)
      : items_(std::make_shared<Vector>(items)), owned_(true) {}
  // Shares `items` (null = empty).
  explicit SharedList(std::shared_ptr<const Vector> items) : items_(std::move(items)) {}

  // The shared list (null when empty and never written): discovery keeps it to hand on.
  const std::shared_ptr<const Vector>& shared() const { return items_; }

  const Vector& get() const { return items_ ? *items_ : none(); }
  operator const Vector&() const { return get(); }  // NOLINT: reads as a vector
  size_type size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const T& operator[](size_type i) const { return get()[i]; }
  const T& at(size_type i) const { return get().at(i); }
  const T& front() const { return get().front(); }
  const T& back() const { return get().back(); }
  const_iterator begin() const { return get().begin(); }
  const_iterator end() const { return get().end(); }
  const_iterator cbegin() const { return get().begin(); }
  const_iterator cend() const { return get().end(); }

  // Writes: a private copy first when shared.
  Vector& mut() {
    if (!items_ || !owned_) {
      items_ = items_ ? std::make_shared<Vector>(*items_) : std::make_shared<Vector>();
      owned_ = true;
    } else if (items_.use_count() != 1) {
      items_ = std::make_shared<Vector>(*items_);
    } else {
      // The last other holder may have let go on another thread (a worker, the reclaimer) right
      // after reading the list: use_count() is a relaxed load, so order those reads first.
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    // Created non-const by this class (owned_) and held by this list alone: writable.
    return const_cast<Vector&>(*items_);
  }
  T& operator[](size_type i) { return mut()[i]; }
  T& at(size_type i) { return mut().at(i); }
  T& front() { return mut().front(); }
  T& back() { return mut().back(); }
  iterator begin() { return mut().begin(); }
  iterator end() { return mut().end(); }
  void push_back(const T& item) { mut().push_back(item); }
  void push_back(T&& item) { mut().push_back(std::move(item)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return mut().emplace_back(std::forward<Args>(args)...);
  }
  void reserve(size_type n) { mut().reserve(n); }
  void clear() {
    items_.reset();
    owned_ = false;
  }
  iterator erase(const_iterator pos) {
    const auto at = pos - get().begin();
    return mut().erase(mut().begin() + at);
  }
  iterator erase(const_iterator first, const_iterator last) {
    const auto from = first - get().begin();
    const auto to = last - get().begin();
    return mut().erase(mut().begin() + from, mut().begin() + to);
  }
  iterator insert(const_iterator pos, const T& item) {
    const auto at = pos - get().begin();
    return mut().insert(mut().begin() + at, item);
  }
  iterator insert(const_iterator pos, std::initializer_list<T> items) {
    const auto at = pos - get().begin();
    return mut().insert(mut().begin() + at, items);
  }

  // Same list first (no element compared), then element by element.
  bool operator==(const SharedList& other) const {
    return items_ == other.items_ || get() == other.get();
  }

 private:
  static const Vector& none() {
    static const Vector empty;
    return empty;
  }
  std::shared_ptr<const Vector> items_;
  bool owned_ = false;  // items_ was made by this class (a shared one may be a const object)
};

using HostList = SharedList<HostSpec>;

// Per-cluster overrides of [timeouts] (BATON_{n}_TIMEOUT_* labels, cluster keys).
struct TimeoutOverrides {
  std::optional<Duration> upstream_connect;
  std::optional<Duration> upstream_first_byte;
  std::optional<Duration> body_idle;
  std::optional<Duration> tunnel_idle;  // TCP mode and upgraded connections
  bool operator==(const TimeoutOverrides&) const = default;
};

// When a request that already went to a host is sent to another one (issue 8). Connect failures
// (nothing was sent) are always retried on another host, up to the cluster's connect_attempts;
// this policy covers requests that did reach a host. Only idempotent methods (GET, HEAD,
// OPTIONS, PUT, DELETE) whose body is replayable (none, or at most replay_buffer bytes, kept
// while it streams) are ever sent twice, never to the same host twice in a row.
struct RetryPolicySpec {
  bool on_reset = true;  // the connection closed or reset before any response byte
  // Response statuses that send the request to another host (its body is read and dropped).
  // Empty: none (the backend's answer is relayed).
  std::vector<uint16_t> statuses;
  uint32_t retries = 2;                // at most this many re-sends per request
  uint64_t replay_buffer = 64 * 1024;  // request body bytes kept for a re-send
  bool operator==(const RetryPolicySpec&) const = default;
};

// Retries that re-send a request are limited per cluster to a share of its requests, so a
// failing backend is not hit again by every request it already failed (an outage is never
// amplified). Counted per worker over a sliding window.
struct RetryBudgetSpec {
  uint32_t percent = 20;      // re-sends <= this share of the window's requests
  uint32_t min_retries = 10;  // always allowed per window (a quiet cluster can still retry)
  Duration window{10'000};
  bool operator==(const RetryBudgetSpec&) const = default;
};

// Circuit breaking (issue 8): per cluster, across all workers; 0 = no limit. A request over a
// limit is answered 503 at once (UpstreamOverflow) and counted.
struct CircuitLimitsSpec {
  uint32_t max_connections = 0;  // upstream connections open (HTTP/1, pooled idle ones too)
  uint32_t max_pending = 0;      // requests waiting for a connection to be set up
  uint32_t max_requests = 0;     // requests in flight to the cluster's hosts
  bool operator==(const CircuitLimitsSpec&) const = default;
};

// One version (build) of a pinned group: a Marathon app of a deployment group, or configured.
struct PinVersionSpec {
  // BATON_PIN_VERSION, else a short hash of the app id + versionInfo.lastConfigChangeAt.
  std::string id;
  std::string app_id;    // "/shop-blue"; "" for configured versions
  std::string colour;    // display only (HAPROXY_DEPLOYMENT_COLOUR), may be ""
  std::string manifest;  // BATON_PIN_MANIFEST: a path on the version's hosts listing its files
  // Marathon's start of the version's deployment, unix ms: HAPROXY_DEPLOYMENT_STARTED_AT, else
  // versionInfo.lastConfigChangeAt (0 = unknown, configured versions). The time base every
  // instance shares for pinning's deadlines (issue 10).
  int64_t started_ms = 0;
  bool operator==(const PinVersionSpec&) const = default;
};

// The versions a cluster's hosts belong to (HostSpec::version names one of them).
struct PinGroupSpec {
  std::string group;  // HAPROXY_DEPLOYMENT_GROUP, or the configured name
  PinMode mode = PinMode::Assets;
  std::optional<bool> cache_cap;         // unset: [pinning] cache_cap
  std::vector<PinVersionSpec> versions;  // oldest first (HAPROXY_DEPLOYMENT_STARTED_AT order)
  // BATON_PIN_CDN_VERSION of the newest app: the CDN version on every instance while that
  // version is live ("" = baton's rule).
  std::string cdn_version;
  // BATON_PIN_CDN_MAX_FRESH: the longest shared-cache lifetime of the group's documents and
  // unhashed files; the flip hold ends at the cutover's start + this (-1 = not given: the hold
  // uses what this instance handed the CDN).
  int64_t cdn_max_fresh_ms = -1;
  bool operator==(const PinGroupSpec&) const = default;
};

// [pinning]: how pinned groups classify and answer (every group; per-group: mode, cache_cap).
struct PinningSpec {
  std::string token_param = "dpl";         // URL token naming a version (?dpl=<id>)
  std::string header = "x-deployment-id";  // header naming a version (direct traffic)
  std::string cookie = "baton_pin";        // mode full: the browser's pinned version
  Duration cookie_ttl{3'600'000};          // Max-Age of that cookie
  Duration grace{15 * 60'000};             // pinning stays on this long after a cutover
  uint32_t max_retries = 2;                // extra versions tried on a 404/410 asset miss
  uint32_t map_entries = 10'000;           // learned paths kept per worker per group
  Duration negative_ttl{60'000};           // a learned "version V lacks path P" expires
  bool cache_cap = true;                   // rule 11: no-cache on unhashed CDN 2xx in cutover
  CdnOrigin cdn_origin = CdnOrigin::Auto;  // listeners and vhosts may override
  std::vector<std::string> asset_suffixes = {".js",   ".mjs", ".css",  ".map",  ".woff2", ".woff",
                                             ".ttf",  ".png", ".jpg",  ".jpeg", ".gif",   ".svg",
                                             ".webp", ".ico", ".wasm", ".json"};
  std::vector<std::string> asset_prefixes = {"/assets/", "/static/", "/_next/static/"};
  // Content-hashed paths: a run of at least hashed_min_hex hex digits in the last segment, or
  // one of hashed_prefixes (build-id directories).
  uint32_t hashed_min_hex = 8;
  std::vector<std::string> hashed_prefixes = {"/_next/static/"};
  bool operator==(const PinningSpec&) const = default;
};

// Active health checks of a cluster's hosts (issue 8), run by the control thread
// (proxy/health). From `[[cluster]] health_check = {...}` or a Marathon app's healthChecks.
enum class HealthCheckProtocol : uint8_t { Http, Https, Tcp };
struct HealthCheckSpec {
  HealthCheckProtocol protocol = HealthCheckProtocol::Http;
  std::string path = "/";            // http/https: the request target ("/health")
  std::optional<uint16_t> port;      // probe this port instead of the host's
  Duration interval{5'000};          // between probes of one host (jittered)
  Duration timeout{2'000};           // connect + answer
  uint32_t healthy_threshold = 2;    // consecutive passes to come back
  uint32_t unhealthy_threshold = 3;  // consecutive failures to leave rotation
  Duration grace{0};                 // failures of a new host are ignored this long
  uint16_t expect_min = 200;         // http/https: a status in [expect_min, expect_max] passes
  uint16_t expect_max = 399;
  std::string host_header;  // "" = the host's address
  bool operator==(const HealthCheckSpec&) const = default;
};

// Passive outlier ejection (issue 8): a host that fails this many requests in a row (per
// worker) is taken out of rotation for base_ejection x its number of ejections (at most
// max_ejection), never more than max_ejected_percent of the cluster's hosts at once.
// consecutive_failures counts connect failures and timeouts, resets before the response and
// 502/503/504 answers; consecutive_5xx (0 = off) counts every 5xx. Both 0: no detection.
struct OutlierSpec {
  uint32_t consecutive_failures = 5;
  uint32_t consecutive_5xx = 0;
  Duration base_ejection{10'000};
  Duration max_ejection{300'000};
  uint32_t max_ejected_percent = 50;
  bool enabled() const { return consecutive_failures > 0 || consecutive_5xx > 0; }
  bool operator==(const OutlierSpec&) const = default;
};

struct ClusterSpec {
  SourceLoc loc;
  std::string name;
  LbPolicyKind policy = LbPolicyKind::RoundRobin;
  HostList hosts;  // shared between copies of the spec (copy on write)
  // Per worker, per host. An HTTP/2 client multiplexing 100 streams needs 100 HTTP/1 upstream
  // connections: a small cap turns every extra one into a connect + close (TIME_WAIT pile-up).
  uint32_t max_idle_connections = 1024;
  uint32_t connect_attempts = 3;  // distinct hosts tried on connect failure
  // Cookie stickiness (marathon-lb's HAPROXY_{n}_STICKY): "" = off, else the cookie name
  // ("mesosphere_server_id" for marathon-lb apps). The cookie value names the host.
  std::string sticky_cookie;
  TimeoutOverrides timeouts;
  UpstreamProtocol protocol = UpstreamProtocol::Http1;
  // protocol = h2 only: verify the backend's certificate (chain against tls_ca_file, "" = the
  // system store, and the host's IP address against its SANs).
  bool tls_verify = true;
  std::string tls_ca_file;
  // protocol = h2 only: the name sent as SNI and verified in the certificate instead of the
  // host's IP address ("" = the address). Marathon tasks' certificates name the service, not the
  // agent's IP: one name for every task of the app.
  std::string tls_server_name;
  std::string origin = "config";  // "config", or "marathon:/app/id"
  // Asset pinning: set for a deployment group's cluster (or a configured pin_group).
  std::optional<PinGroupSpec> pin;
  // Active health checks (unset = none: only Marathon and admin states decide).
  std::optional<HealthCheckSpec> health_check;
  // When every Active host fails its check, route to all of them rather than to none.
  bool panic = true;
  OutlierSpec outlier;    // on by default (conf/README.md says why)
  RetryPolicySpec retry;  // routes may override it (RouteSpec::retry)
  RetryBudgetSpec retry_budget;
  CircuitLimitsSpec limits;  // max_connections, max_pending, max_requests
  bool operator==(const ClusterSpec&) const = default;
};

// HTTP Basic authentication for a route (HAPROXY_{n}_AUTH "realm:user:crypt-hash").
struct BasicAuthUser {
  std::string user;
  std::string password_hash;  // crypt(3) string ("$6$...", "$5$...", "$1$...", "$y$...")
  bool operator==(const BasicAuthUser&) const = default;
};
struct BasicAuthSpec {
  std::string realm;
  std::vector<BasicAuthUser> users;
  bool operator==(const BasicAuthSpec&) const = default;
};

struct RouteSpec {
  SourceLoc loc;
  std::string prefix = "/";  // normalised at load time with the request-target policy
  std::string cluster;
  std::optional<uint64_t> body_bytes;    // overrides limits.body_bytes
  std::optional<RawByteMode> raw_bytes;  // overrides the listener's
  bool merge_slashes = true;
  // Actions, applied in this order before the request is forwarded (marathon-lb labels):
  std::vector<std::string> allowed_sources;  // CIDRs; empty = everyone (else 403)
  std::optional<BasicAuthSpec> basic_auth;   // 401 with WWW-Authenticate unless it matches
  bool redirect_to_https = false;            // 301 to https://host/target for plain-text requests
  std::string redirect_root_to;              // "/" exactly -> 301 to this path (BACKEND_REDIR)
  std::string strip_prefix;      // removed from the forwarded path (PROXYPASS_PATH); "" = none
  std::string upstream_host;     // Host sent upstream instead of the client's; "" = unchanged
  std::string location_rewrite;  // REVPROXY_PATH: Location "http(s)://<host>/<p>" -> "<this><p>"
  bool hsts = false;             // adds Strict-Transport-Security: max-age=15768000 to responses
  // `Upgrade: websocket` is forwarded and, after the backend's 101, the connection becomes a
  // tunnel (HAProxy, so marathon-lb, allowed it on every HTTP backend: so does baton by default).
  bool websocket = true;
  std::optional<Duration> tunnel_idle;  // overrides the cluster's and [timeouts] tunnel_idle
  // Per-route overrides of the cluster's (then [timeouts]') connect, first byte and body idle.
  TimeoutOverrides timeouts;
  std::optional<RetryPolicySpec> retry;           // unset: the cluster's
  AccessLogMode access_log = AccessLogMode::All;  // BATON_{n}_ACCESS_LOG
  bool operator==(const RouteSpec&) const = default;
};

struct VirtualHostSpec {
  SourceLoc loc;
  std::string name;
  // "example.com" exact, "*.example.com" wildcard (any non-empty label sequence), "*" default.
  std::vector<std::string> domains;
  // Tried in order; first match wins. Shared between copies of the vhost (copy on write):
  // the merged config's 10,000 discovered vhosts no longer copy their routes.
  SharedList<RouteSpec> routes;
  std::string scope;  // "" = shared vhosts; else only listeners with this route_scope
  std::optional<CdnOrigin> cdn_origin;  // asset pinning; unset: the listener's
  // Asset pinning: this vhost's own asset patterns (unset: [pinning] asset_suffixes /
  // asset_prefixes), for a site whose files live elsewhere than the defaults say.
  std::optional<std::vector<std::string>> pin_asset_suffixes;
  std::optional<std::vector<std::string>> pin_asset_prefixes;
  bool operator==(const VirtualHostSpec&) const = default;
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

enum class MarathonAuthScheme : uint8_t { Token, Bearer };

// Discovery settings ([marathon] in the file; `--marathon`, `--group`... on the command line).
struct MarathonSpec {
  // "http(s)://host:port" Marathon endpoints (tried in order, failing over), or one
  // "file:PATH" (same JSON as GET /v2/apps?embed=apps.tasks, re-read on change). Empty = off.
  std::vector<std::string> urls;
  std::vector<std::string> groups = {"external"};  // HAPROXY_GROUP selection; "*" = every app
  bool strict_mode = false;   // a port is exposed only with HAPROXY_{n}_ENABLED=true
  bool health_check = false;  // only tasks Marathon reports alive (with the last-known cache)
  std::string domain;         // automatic domains: /team/app -> app.team.<domain>; "" = off
  std::string username;       // HTTP Basic to Marathon ("" = none)
  std::string password;
  std::string auth_token;  // sent per auth_scheme (marathon_auth.h); "" = none
  // How auth_token is sent: Token = "Authorization: token=<value>" (DC/OS, marathon-lb), Bearer
  // = "Authorization: Bearer <value>" (an OAuth gateway in front of Marathon).
  MarathonAuthScheme auth_scheme = MarathonAuthScheme::Token;
  std::string ca_file;  // TLS to Marathon: verify against this CA bundle ("" = system CAs)
  Duration resync_interval{300'000};     // full resync even when the stream is quiet
  Duration event_debounce{20};           // events within this window coalesce into one resync
  Duration stream_idle_timeout{60'000};  // no byte (heartbeats are every 10 s) -> reconnect
  Duration request_timeout{30'000};      // one REST call
  Duration max_backoff{300'000};
  std::string state_file;  // last good app document, written atomically; "" = not persisted
  // marathon-lb's listeners (bound on `bind_address`); 0 = not opened.
  std::string bind_address;  // "" = all addresses
  uint16_t http_port = 80;   // shared vhost listener
  uint16_t app_id_port = 9091;
  // marathon-lb's :443 frontend: the shared vhosts over TLS, opened when at least one certificate
  // is known ([tls] or HAPROXY_{n}_SSL_CERT); 0 = not opened.
  uint16_t https_port = 443;
  bool bind_service_ports = true;  // one listener per service port
  bool operator==(const MarathonSpec&) const = default;
};

// Every outgoing connection to a backend ([upstream]): requests, tunnels, health probes.
struct UpstreamSpec {
  // The local address connects bind to (HAProxy `source`, nginx `proxy_bind`): "" = the kernel's
  // choice. Canonical numeric IPv4/IPv6, no port (the port is still picked at connect time).
  // One address per instance: a backend (or a firewall) sees which instance is talking to it.
  std::string source_address;
  bool operator==(const UpstreamSpec&) const = default;
};

// The admin HTTP listener (control thread): marathon-lb's :9090 endpoints, later metrics.
struct AdminSpec {
  std::string http_address;  // "" = off; "127.0.0.1:9090", ":9090"
  // The admin socket (UNIX stream, line protocol): "" = off. Created with `socket_mode`; a peer
  // is accepted when its uid is 0, baton's own uid, in `socket_uids`, or its gid in
  // `socket_gids` (SO_PEERCRED).
  std::string socket_path;
  uint32_t socket_mode = 0600;
  std::vector<uint32_t> socket_uids;
  std::vector<uint32_t> socket_gids;
  // Bearer token the admin HTTP listener requires for write actions (and the dashboard's
  // buttons); "" = none (the listener is loopback by default). `token_file` is read at load.
  std::string token;
  bool operator==(const AdminSpec&) const = default;
};

struct ConfigSpec {
  std::string file;  // path it was loaded from
  ServerSpec server;
  TimeoutsSpec timeouts;
  LimitsSpec limits;
  TlsSpec tls;
  Http2Spec http2;
  PinningSpec pinning;
  std::vector<ListenerSpec> listeners;
  std::vector<ClusterSpec> clusters;
  std::vector<VirtualHostSpec> vhosts;
  MarathonSpec marathon;
  AdminSpec admin;
  UpstreamSpec upstream;
};

// What a discovery source (Marathon) contributes on top of the file: merged into a copy of
// the ConfigSpec by the server (names may not collide with configured ones), then built and
// published like a reload.
struct DiscoveryIssue {
  std::string app_id;   // "/shop/web"
  std::string subject;  // the label or field, e.g. "HAPROXY_0_SSL_CERT"
  std::string message;  // "TLS termination is not supported yet; label ignored"
  bool operator==(const DiscoveryIssue&) const = default;
  // "app: subject: message", as logged and listed in /_haproxy_getconfig.
  std::string text() const { return app_id + ": " + subject + ": " + message; }
};
// One marathon-lb deployment group as the last resync saw it (admin `show groups`, dashboard).
struct DeploymentGroupInfo {
  std::string group;    // HAPROXY_DEPLOYMENT_GROUP
  std::string old_app;  // "" when only one colour runs
  std::string new_app;
  uint32_t old_tasks = 0;
  uint32_t new_tasks = 0;
  uint32_t old_drained = 0;  // old tasks drained so far (sticky: they stay drained)
  uint32_t new_healthy = 0;
  uint32_t target = 0;  // HAPROXY_DEPLOYMENT_TARGET_INSTANCES (1 when absent)
  bool operator==(const DeploymentGroupInfo&) const = default;
};

struct DiscoveredSpec {
  // Listeners, vhosts and certificates follow from the apps' port plans alone: shared with the
  // translate cache, so a resync that changes only tasks hands them on without building them.
  SharedList<ListenerSpec> listeners;
  std::vector<ClusterSpec> clusters;
  SharedList<VirtualHostSpec> vhosts;
  std::vector<DiscoveryIssue> issues;
  std::vector<DeploymentGroupInfo> groups;   // sorted by group name
  SharedList<CertificateSpec> certificates;  // HAPROXY_{n}_SSL_CERT (combined PEM files)
  bool operator==(const DiscoveredSpec&) const = default;
};

}  // namespace baton::conf
