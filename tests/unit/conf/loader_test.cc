#include "conf/loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using test::base;
using test::errorOf;
using test::load;

// ---- Defaults ----

TEST(Loader, DefaultsFromConfigSpec) {
  const ConfigSpec spec = load(base());
  const ConfigSpec defaults;
  EXPECT_EQ(spec.file, "t.toml");
  EXPECT_EQ(spec.server.workers, 0u);
  EXPECT_TRUE(spec.server.trusted_proxies.empty());
  EXPECT_EQ(spec.server.access_log.path, "off");
  EXPECT_EQ(spec.server.access_log.format, AccessLogFormat::Text);
  EXPECT_EQ(spec.timeouts.request_head, defaults.timeouts.request_head);
  EXPECT_EQ(spec.timeouts.keepalive_idle, defaults.timeouts.keepalive_idle);
  EXPECT_EQ(spec.timeouts.drain, defaults.timeouts.drain);
  EXPECT_EQ(spec.limits.request_line_bytes, defaults.limits.request_line_bytes);
  EXPECT_EQ(spec.limits.header_block_bytes, defaults.limits.header_block_bytes);
  EXPECT_EQ(spec.limits.body_bytes, 0u);
  EXPECT_EQ(spec.limits.max_connections, 10'000u);
  ASSERT_EQ(spec.listeners.size(), 1u);
  EXPECT_EQ(spec.listeners[0].raw_bytes, RawByteMode::Forward);
  ASSERT_EQ(spec.clusters.size(), 1u);
  EXPECT_EQ(spec.clusters[0].policy, LbPolicyKind::RoundRobin);
  EXPECT_EQ(spec.clusters[0].max_idle_connections, 1024u);
  EXPECT_EQ(spec.clusters[0].connect_attempts, 3u);
  EXPECT_EQ(spec.clusters[0].hosts[0].weight, 1u);
  const RouteSpec& route = spec.vhosts.at(0).routes.at(0);
  EXPECT_EQ(route.prefix, "/");
  EXPECT_FALSE(route.body_bytes.has_value());
  EXPECT_FALSE(route.raw_bytes.has_value());
  EXPECT_TRUE(route.merge_slashes);
}

TEST(Loader, SourceLocations) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.listeners[0].loc.file, "t.toml");
  EXPECT_EQ(spec.listeners[0].loc.line, 1u);
  EXPECT_EQ(spec.clusters[0].loc.line, 5u);
  EXPECT_EQ(spec.clusters[0].hosts[0].line, 7u);
  EXPECT_EQ(spec.vhosts[0].loc.line, 9u);
  EXPECT_EQ(spec.vhosts[0].routes[0].loc.line, 12u);
  EXPECT_EQ(spec.vhosts[0].routes[0].loc.file, "t.toml");
}

// ---- Every key ----

TEST(Loader, ServerKeys) {
  const ConfigSpec spec = load(R"([server]
workers = 4
trusted_proxies = ["10.0.0.0/8", "::1", "192.168.0.0/16"]
[server.access_log]
path = "stdout"
format = "json"
)" + base());
  EXPECT_EQ(spec.server.workers, 4u);
  EXPECT_EQ(spec.server.trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "::1/128", "192.168.0.0/16"}));
  EXPECT_EQ(spec.server.access_log.path, "stdout");
  EXPECT_EQ(spec.server.access_log.format, AccessLogFormat::Json);
}

TEST(Loader, TimeoutKeys) {
  const ConfigSpec spec = load(R"([timeouts]
request_head = "1s"
keepalive_idle = "2s"
upstream_connect = "300ms"
upstream_first_byte = "4m"
body_idle = "5s"
upstream_idle = "1h"
drain = "0s"
)" + base());
  EXPECT_EQ(spec.timeouts.request_head, seconds(1));
  EXPECT_EQ(spec.timeouts.keepalive_idle, seconds(2));
  EXPECT_EQ(spec.timeouts.upstream_connect, milliseconds(300));
  EXPECT_EQ(spec.timeouts.upstream_first_byte, std::chrono::minutes(4));
  EXPECT_EQ(spec.timeouts.body_idle, seconds(5));
  EXPECT_EQ(spec.timeouts.upstream_idle, std::chrono::hours(1));
  EXPECT_EQ(spec.timeouts.drain, milliseconds(0));
}

TEST(Loader, LimitKeys) {
  const ConfigSpec spec = load(R"([limits]
request_line = "4KiB"
header_field = 1000
header_block = "64KiB"
header_count = 50
body = "1GiB"
requests_per_connection = 1000
max_connections = 20
buffer_high_watermark = "1MiB"
)" + base());
  EXPECT_EQ(spec.limits.request_line_bytes, 4096u);
  EXPECT_EQ(spec.limits.header_field_bytes, 1000u);
  EXPECT_EQ(spec.limits.header_block_bytes, 65536u);
  EXPECT_EQ(spec.limits.header_count, 50u);
  EXPECT_EQ(spec.limits.body_bytes, 1ull << 30);
  EXPECT_EQ(spec.limits.requests_per_connection, 1000u);
  EXPECT_EQ(spec.limits.max_connections, 20u);
  EXPECT_EQ(spec.limits.buffer_high_watermark, 1u << 20);
}

TEST(Loader, ListenerClusterVhostKeys) {
  const ConfigSpec spec = load(R"([[listener]]
name = "a"
address = "[::1]:0"
raw_bytes = "reject"
[[listener]]
name = "b"
address = ":8081"
raw_bytes = "encode"

[[cluster]]
name = "c"
policy = "power_of_two"
max_idle_connections = 0
connect_attempts = 16
hosts = ["127.0.0.1:1", { address = "[::1]:2", weight = 256 }]

[[vhost]]
name = "v"
domains = ["Example.com", "*.example.com"]
[[vhost.route]]
prefix = "/api"
cluster = "c"
body_limit = "10MiB"
raw_bytes = "encode"
merge_slashes = false
[[vhost.route]]
cluster = "c"
body_limit = 0
)");
  ASSERT_EQ(spec.listeners.size(), 2u);
  EXPECT_EQ(spec.listeners[0].name, "a");
  EXPECT_EQ(spec.listeners[0].address, "[::1]:0");
  EXPECT_EQ(spec.listeners[0].raw_bytes, RawByteMode::Reject);
  EXPECT_EQ(spec.listeners[1].address, ":8081");
  EXPECT_EQ(spec.listeners[1].raw_bytes, RawByteMode::Encode);
  const ClusterSpec& c = spec.clusters.at(0);
  EXPECT_EQ(c.policy, LbPolicyKind::PowerOfTwo);
  EXPECT_EQ(c.max_idle_connections, 0u);
  EXPECT_EQ(c.connect_attempts, 16u);
  ASSERT_EQ(c.hosts.size(), 2u);
  EXPECT_EQ(c.hosts[0].address, "127.0.0.1:1");
  EXPECT_EQ(c.hosts[0].weight, 1u);
  EXPECT_EQ(c.hosts[1].address, "[::1]:2");
  EXPECT_EQ(c.hosts[1].weight, 256u);
  EXPECT_EQ(c.hosts[1].line, 15u);
  const VirtualHostSpec& v = spec.vhosts.at(0);
  EXPECT_EQ(v.domains, (std::vector<std::string>{"example.com", "*.example.com"}));
  ASSERT_EQ(v.routes.size(), 2u);
  EXPECT_EQ(v.routes[0].prefix, "/api");
  EXPECT_EQ(v.routes[0].body_bytes, 10u << 20);
  EXPECT_EQ(v.routes[0].raw_bytes, RawByteMode::Encode);
  EXPECT_FALSE(v.routes[0].merge_slashes);
  EXPECT_EQ(v.routes[1].body_bytes, 0u);
  EXPECT_EQ(v.routes[1].loc.line, 26u);
}

TEST(Loader, PoliciesAndOrderPreserved) {
  const ConfigSpec spec = load(base() + R"(
[[cluster]]
name = "lr"
policy = "least_request"
hosts = ["127.0.0.1:9002"]
[[vhost]]
name = "second"
domains = ["b.example"]
[[vhost.route]]
prefix = "/z"
cluster = "lr"
[[vhost.route]]
prefix = "/a"
cluster = "web"
)");
  EXPECT_EQ(spec.clusters.at(1).policy, LbPolicyKind::LeastRequest);
  EXPECT_EQ(spec.vhosts.at(1).routes.at(0).prefix, "/z");
  EXPECT_EQ(spec.vhosts.at(1).routes.at(1).prefix, "/a");
}

// ---- Unknown keys ----

TEST(LoaderErrors, UnknownTopLevelKey) {
  EXPECT_EQ(
      errorOf("listner = 1\n" + base()),
      "t.toml:1: listner: unknown key (expected one of: server, timeouts, limits, tls, http2, "
      "pinning, listener, cluster, vhost, marathon, admin, upstream)");
  EXPECT_EQ(errorOf("[servr]\nworkers = 1\n" + base()).substr(0, 31),
            "t.toml:1: servr: unknown key (e");
}

TEST(LoaderErrors, UnknownKeyInTable) {
  EXPECT_EQ(errorOf("[server]\nworkers = 1\nwrokers = 2\n" + base()),
            "t.toml:3: server.wrokers: unknown key (expected one of: workers, trusted_proxies, "
            "access_log)");
  EXPECT_EQ(errorOf("[server.access_log]\nformat = \"json\"\nfile = \"x\"\n" + base()),
            "t.toml:3: server.access_log.file: unknown key (expected one of: path, format)");
  EXPECT_EQ(errorOf("[timeouts]\nconnect = \"1s\"\n" + base()).substr(0, 38),
            "t.toml:2: timeouts.connect: unknown ke");
  EXPECT_EQ(errorOf("[limits]\nbody_limit = 1\n" + base()).substr(0, 39),
            "t.toml:2: limits.body_limit: unknown ke");
}

TEST(LoaderErrors, UnknownKeyInArrayOfTablesElement) {
  EXPECT_EQ(errorOf(base() + "[[vhost.route]]\ncluster = \"web\"\nprefx = \"/a\"\n"),
            "t.toml:16: vhost[0].route[1].prefx: unknown key (expected one of: prefix, cluster, "
            "body_limit, raw_bytes, merge_slashes, allowed_sources, basic_auth, redirect_to_https, "
            "redirect_root_to, strip_prefix, upstream_host, location_rewrite, hsts, websocket, "
            "tunnel_idle, timeouts, retry, access_log)");
  EXPECT_EQ(
      errorOf(base() + "[[cluster]]\nname = \"x\"\nhost = [\"127.0.0.1:1\"]\n"),
      "t.toml:16: cluster[1].host: unknown key (expected one of: name, policy, "
      "max_idle_connections, connect_attempts, sticky_cookie, timeouts, hosts, protocol, "
      "tls_verify, tls_ca_file, tls_server_name, pin_group, pin_mode, pin_versions, pin_cache_cap, "
      "health_check, panic, outlier, retry, retry_budget, max_connections, max_pending, "
      "max_requests)");
  EXPECT_EQ(errorOf(R"([[listener]]
name = "http"
address = "127.0.0.1:8080"
port = 80
)"),
            "t.toml:4: listener[0].port: unknown key (expected one of: name, address, kind, "
            "cluster, route_by, scope, raw_bytes, tls, alpn, h2c, cdn_origin)");
}

TEST(LoaderErrors, UnknownKeyInInlineHostTable) {
  std::string text = base();
  text.replace(text.find("[\"127.0.0.1:9001\"]"), 18,
               "[{ address = \"127.0.0.1:9001\", wieght = 2 }]");
  EXPECT_EQ(errorOf(text),
            "t.toml:7: cluster[0].hosts[0].wieght: unknown key (expected one of: address, weight, "
            "name, version)");
}

// ---- Types ----

TEST(LoaderErrors, WrongTypes) {
  EXPECT_EQ(errorOf("[server]\nworkers = \"2\"\n" + base()),
            "t.toml:2: server.workers: expected an integer, got string");
  EXPECT_EQ(errorOf("[server]\ntrusted_proxies = \"10.0.0.0/8\"\n" + base()),
            "t.toml:2: server.trusted_proxies: expected an array, got string");
  EXPECT_EQ(errorOf("[server]\ntrusted_proxies = [\"10.0.0.0/8\", 3]\n" + base()),
            "t.toml:2: server.trusted_proxies[1]: expected a string, got integer");
  EXPECT_EQ(errorOf("server = 1\n" + base()),
            "t.toml:1: server: expected a table ([server]), got integer");
  EXPECT_EQ(errorOf("[listener]\nname = \"x\"\n"),
            "t.toml:1: listener: expected an array of tables ([[listener]]), got table");
  std::string single_route = base();
  single_route.replace(single_route.find("[[vhost.route]]"), 15, "[vhost.route]");
  EXPECT_EQ(errorOf(single_route),
            "t.toml:12: vhost[0].route: expected an array of tables ([[vhost.route]]), got table");
  EXPECT_EQ(errorOf("listener = [1]\n"), "t.toml:1: listener[0]: expected a table, got integer");
  EXPECT_EQ(errorOf(base() + "[[vhost.route]]\ncluster = \"web\"\nmerge_slashes = \"yes\"\n"),
            "t.toml:16: vhost[0].route[1].merge_slashes: expected a boolean, got string");
  EXPECT_EQ(errorOf("[limits]\nbody = 1.5\n" + base()),
            "t.toml:2: limits.body: expected a size (integer bytes, or a string such as \"8KiB\"), "
            "got float");
  EXPECT_EQ(errorOf("[timeouts]\ndrain = 30\n" + base()),
            "t.toml:2: timeouts.drain: expected a duration string such as \"10s\" or \"250ms\", "
            "got integer");
  std::string text = base();
  text.replace(text.find("[\"127.0.0.1:9001\"]"), 18, "[9001]");
  EXPECT_EQ(errorOf(text),
            "t.toml:7: cluster[0].hosts[0]: expected a string \"ip:port\" or { address, weight }, "
            "got integer");
}

// ---- Enums and ranges ----

TEST(LoaderErrors, BadEnumValues) {
  EXPECT_EQ(errorOf("[server.access_log]\nformat = \"xml\"\n" + base()),
            "t.toml:2: server.access_log.format: unknown value \"xml\" (expected one of \"text\", "
            "\"json\")");
  std::string text = base();
  text.insert(text.find("hosts"), "policy = \"random\"\n");
  EXPECT_EQ(errorOf(text),
            "t.toml:7: cluster[0].policy: unknown value \"random\" (expected one of "
            "\"round_robin\", \"least_request\", \"power_of_two\", \"source_hash\")");
  text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nraw_bytes = \"Forward\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].raw_bytes: unknown value \"Forward\" (expected one of "
            "\"forward\", \"encode\", \"reject\")");
  EXPECT_EQ(errorOf(base() + "raw_bytes = \"drop\"\n").substr(0, 60),
            "t.toml:14: vhost[0].route[0].raw_bytes: unknown value \"drop\"");
}

TEST(Loader, ClusterProtocol) {
  const ConfigSpec defaults = load(base());
  EXPECT_EQ(defaults.clusters[0].protocol, UpstreamProtocol::Http1);
  EXPECT_TRUE(defaults.clusters[0].tls_verify);
  EXPECT_EQ(defaults.clusters[0].tls_ca_file, "");
  std::string text = base();
  text.insert(text.find("hosts"), "protocol = \"h2c\"\n");
  EXPECT_EQ(load(text).clusters[0].protocol, UpstreamProtocol::H2c);
  text = base();
  text.insert(text.find("hosts"),
              "protocol = \"h2\"\ntls_verify = false\ntls_ca_file = \"/etc/ca.pem\"\n");
  const ConfigSpec h2 = load(text);
  EXPECT_EQ(h2.clusters[0].protocol, UpstreamProtocol::H2);
  EXPECT_FALSE(h2.clusters[0].tls_verify);
  EXPECT_EQ(h2.clusters[0].tls_ca_file, "/etc/ca.pem");
}

TEST(LoaderErrors, ClusterProtocol) {
  std::string text = base();
  text.insert(text.find("hosts"), "protocol = \"grpc\"\n");
  EXPECT_EQ(errorOf(text).substr(0, 42), "t.toml:7: cluster[0].protocol: unknown val");
  text = base();
  text.insert(text.find("hosts"), "protocol = \"h2c\"\ntls_verify = false\n");
  EXPECT_EQ(errorOf(text), "t.toml:8: cluster[0].tls_verify: only with protocol = \"h2\"");
  text = base();
  text.insert(text.find("hosts"), "tls_ca_file = \"/x.pem\"\n");
  EXPECT_EQ(errorOf(text), "t.toml:7: cluster[0].tls_ca_file: only with protocol = \"h2\"");
}

TEST(LoaderErrors, OutOfRangeIntegers) {
  std::string text = base();
  text.replace(text.find("[\"127.0.0.1:9001\"]"), 18,
               "[\"127.0.0.1:9001\", { address = \"127.0.0.1:9002\", weight = 0 }]");
  EXPECT_EQ(errorOf(text), "t.toml:7: cluster[0].hosts[1].weight: must be 1..256, got 0");
  EXPECT_EQ(errorOf("[server]\nworkers = 257\n" + base()),
            "t.toml:2: server.workers: must be 0..256, got 257");
  EXPECT_EQ(errorOf("[server]\nworkers = -1\n" + base()),
            "t.toml:2: server.workers: must be 0..256, got -1");
  text = base();
  text.insert(text.find("hosts"), "connect_attempts = 17\n");
  EXPECT_EQ(errorOf(text), "t.toml:7: cluster[0].connect_attempts: must be 1..16, got 17");
  EXPECT_EQ(errorOf("[limits]\nheader_block = \"4GiB\"\n" + base()),
            "t.toml:2: limits.header_block: must be 1..4294967295 bytes, got 4294967296");
  EXPECT_EQ(errorOf("[limits]\nbody = -1\n" + base()),
            "t.toml:2: limits.body: must not be negative");
  EXPECT_EQ(errorOf("[timeouts]\nrequest_head = \"0ms\"\n" + base()),
            "t.toml:2: timeouts.request_head: must be greater than 0");
}

// ---- Units ----

TEST(LoaderErrors, BadDurations) {
  const auto err = [](std::string_view value) {
    return errorOf("[timeouts]\nbody_idle = \"" + std::string(value) + "\"\n" + base());
  };
  const std::string expected =
      ": expected a non-negative integer followed by ms, s, m or h (e.g. \"250ms\", \"10s\")";
  for (const char* bad : {"10", "10 s", "-1s", "1.5s", "10d"}) {
    EXPECT_EQ(err(bad), "t.toml:2: timeouts.body_idle: invalid duration \"" + std::string(bad) +
                            "\"" + expected);
  }
  EXPECT_EQ(err("99999999999999999999s"),
            "t.toml:2: timeouts.body_idle: duration \"99999999999999999999s\" is too large");
}

TEST(LoaderErrors, BadSizes) {
  const auto err = [](std::string_view value) {
    return errorOf("[limits]\nbody = \"" + std::string(value) + "\"\n" + base());
  };
  const std::string expected =
      ": expected a non-negative integer optionally followed by KiB, MiB, GiB or TiB (e.g. "
      "\"8KiB\")";
  for (const char* bad : {"1TB", "10 MiB", "-1", "1.5GiB", "1kb"}) {
    EXPECT_EQ(err(bad),
              "t.toml:2: limits.body: invalid size \"" + std::string(bad) + "\"" + expected);
  }
  EXPECT_EQ(err("99999999999TiB"), "t.toml:2: limits.body: size \"99999999999TiB\" is too large");
  std::string text = base();
  text.insert(text.size(), "body_limit = \"1TB\"\n");
  EXPECT_EQ(errorOf(text).substr(0, 56),
            "t.toml:14: vhost[0].route[0].body_limit: invalid size \"1");
}

// ---- Value syntax ----

TEST(LoaderErrors, BadAddressesAndCidrs) {
  std::string text = base();
  text.replace(text.find("127.0.0.1:8080"), 14, "localhost:8080");
  EXPECT_EQ(errorOf(text),
            "t.toml:3: listener[0].address: invalid address \"localhost:8080\": expected "
            "\"ip:port\", \"[ipv6]:port\" or \":port\" with a numeric IP (names are not resolved)");
  text = base();
  text.replace(text.find("127.0.0.1:9001"), 14, "127.0.0.1:0");
  EXPECT_EQ(errorOf(text),
            "t.toml:7: cluster[0].hosts[0]: invalid port in \"127.0.0.1:0\": must be 1..65535");
  EXPECT_EQ(errorOf("[server]\ntrusted_proxies = [\"10.0.0.1/8\"]\n" + base()),
            "t.toml:2: server.trusted_proxies[0]: invalid CIDR \"10.0.0.1/8\": address has bits "
            "set beyond /8");
}

TEST(LoaderErrors, BadDomainPrefixAndName) {
  std::string text = base();
  text.replace(text.find("[\"*\"]"), 5, "[\"a.example\", \"b.example:80\"]");
  EXPECT_EQ(errorOf(text),
            "t.toml:11: vhost[0].domains[1]: invalid domain \"b.example:80\": expected "
            "\"name.example\", \"*.example\" or \"*\" (no port)");
  EXPECT_EQ(errorOf(base() + "prefix = \"api\"\n"),
            "t.toml:14: vhost[0].route[0].prefix: route prefix \"api\" must start with \"/\"");
  text = base();
  text.replace(text.find("\"http\""), 6, "\"my listener\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:2: listener[0].name: name must be 1..64 of [A-Za-z0-9_.-], got \"my "
            "listener\"");
}

// ---- Required keys and counts ----

TEST(LoaderErrors, MissingRequiredKeys) {
  std::string text = base();
  text.erase(text.find("name = \"web\"\n"), 13);
  EXPECT_EQ(errorOf(text), "t.toml:5: cluster[0].name: required key missing");
  text = base();
  text.erase(text.find("address = \"127.0.0.1:8080\"\n"), 27);
  EXPECT_EQ(errorOf(text), "t.toml:1: listener[0].address: required key missing");
  text = base();
  text.erase(text.find("cluster = \"web\"\n"), 16);
  EXPECT_EQ(errorOf(text), "t.toml:12: vhost[0].route[0].cluster: required key missing");
  text = base();
  text.erase(text.find("hosts = [\"127.0.0.1:9001\"]\n"), 27);
  EXPECT_EQ(errorOf(text), "t.toml:5: cluster[0].hosts: required key missing");
  text = base();
  text.erase(text.find("domains = [\"*\"]\n"), 16);
  EXPECT_EQ(errorOf(text), "t.toml:9: vhost[0].domains: required key missing");
  text = base();
  text.replace(text.find("[[vhost.route]]\ncluster = \"web\"\n"), 32, "");
  EXPECT_EQ(errorOf(text), "t.toml:9: vhost[0].route: required key missing");
  text = base();
  text.replace(text.find("[\"127.0.0.1:9001\"]"), 18, "[{ weight = 2 }]");
  EXPECT_EQ(errorOf(text), "t.toml:7: cluster[0].hosts[0].address: required key missing");
}

TEST(LoaderErrors, EmptyLists) {
  EXPECT_EQ(errorOf(""), "t.toml:1: listener: at least one [[listener]] required");
  EXPECT_EQ(errorOf("[server]\nworkers = 1\n"),
            "t.toml:1: listener: at least one [[listener]] required");
  EXPECT_EQ(errorOf("listener = []\n"), "t.toml:1: listener: at least one [[listener]] required");
  std::string text = base();
  text.replace(text.find("[\"127.0.0.1:9001\"]"), 18, "[]");
  EXPECT_EQ(errorOf(text), "t.toml:7: cluster[0].hosts: at least one host required");
  text = base();
  text.replace(text.find("[\"*\"]"), 5, "[]");
  EXPECT_EQ(errorOf(text), "t.toml:11: vhost[0].domains: at least one domain required");
}

// ---- Cross references ----

TEST(LoaderErrors, DuplicateNames) {
  EXPECT_EQ(errorOf(base() + "[[listener]]\nname = \"http\"\naddress = \"127.0.0.1:8081\"\n"),
            "t.toml:15: listener[1].name: duplicate name \"http\" (first defined at line 1)");
  EXPECT_EQ(errorOf(base() + "[[cluster]]\nname = \"web\"\nhosts = [\"127.0.0.1:1\"]\n"),
            "t.toml:15: cluster[1].name: duplicate name \"web\" (first defined at line 5)");
  EXPECT_EQ(errorOf(base() + "[[vhost]]\nname = \"site\"\ndomains = [\"a\"]\n[[vhost.route]]\n"
                             "cluster = \"web\"\n"),
            "t.toml:15: vhost[1].name: duplicate name \"site\" (first defined at line 9)");
}

TEST(LoaderErrors, DuplicateDomainsAndAddresses) {
  EXPECT_EQ(errorOf(base() + "[[vhost]]\nname = \"other\"\ndomains = [\"a.example\", \"*\"]\n"
                             "[[vhost.route]]\ncluster = \"web\"\n"),
            "t.toml:16: vhost[1].domains[1]: domain \"*\" already used by vhost \"site\"");
  EXPECT_EQ(errorOf(base() + "[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:8080\"\n"),
            "t.toml:16: listener[1].address: address \"127.0.0.1:8080\" already used by "
            "listener \"http\"");
}

TEST(LoaderErrors, UnknownClusterReference) {
  EXPECT_EQ(errorOf(base() + "[[vhost.route]]\nprefix = \"/x\"\ncluster = \"wbe\"\n"),
            "t.toml:16: vhost[0].route[1].cluster: unknown cluster \"wbe\"");
}

// ---- TOML syntax, files ----

TEST(LoaderErrors, InvalidTomlReportsParserLine) {
  const std::string err = errorOf(base() + "\n[server\nworkers = 1\n");
  EXPECT_EQ(err.substr(0, 25), "t.toml:15: invalid TOML: ") << err;
  const std::string dup = errorOf("[server]\nworkers = 1\nworkers = 2\n" + base());
  EXPECT_EQ(dup.substr(0, 24), "t.toml:3: invalid TOML: ") << dup;
  const std::string unterminated = errorOf("[server]\n\n\naccess_log = { path = \"x }\n");
  EXPECT_EQ(unterminated.substr(0, 24), "t.toml:4: invalid TOML: ") << unterminated;
}

TEST(LoaderFile, MissingFileIsConfigIo) {
  const std::string path = "/nonexistent-baton-dir/baton.toml";
  auto r = loadConfigFile(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::ConfigIo);
  EXPECT_EQ(r.error().detail, path + ": No such file or directory");
}

TEST(LoaderFile, DirectoryIsConfigIo) {
  auto r = loadConfigFile("/");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::ConfigIo);
  EXPECT_EQ(r.error().detail, "/: Is a directory");
}

TEST(LoaderFile, FileNameAppearsInMessagesAndLocations) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("baton_conf_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "baton.toml").string();
  {
    std::ofstream out(path);
    out << base();
  }
  auto ok = loadConfigFile(path);
  ASSERT_TRUE(ok.has_value()) << ok.error().detail;
  EXPECT_EQ(ok->file, path);
  EXPECT_EQ(ok->clusters[0].loc.file, path);
  {
    std::ofstream out(path);
    out << "[server]\nworkers = 0\nbogus = 1\n";
  }
  auto bad = loadConfigFile(path);
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().detail.substr(0, path.size() + 17), path + ":3: server.bogus:");
}

}  // namespace
}  // namespace baton::conf
