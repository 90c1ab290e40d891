// Loader: [marathon] and [admin], and validateConfig on specs built in code (marathon-lb mode,
// where main.cc starts from an empty config and fills it from the command line).
#include <gtest/gtest.h>

#include "conf/loader.h"
#include "tests/unit/conf/loader_test_util.h"

namespace baton::conf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::base;
using test::errorOf;
using test::load;

// A file with only [marathon] (line 1) and its URL (line 2).
constexpr std::string_view kMarathonOnly = R"([marathon]
urls = ["http://marathon.mesos:8080"]
)";

std::string marathonWith(std::string_view lines) {
  return std::string(kMarathonOnly) + std::string(lines) + "\n";
}

// ---- Accepted values ----

TEST(MarathonKeys, DefaultsWhenAbsent) {
  const ConfigSpec spec = load(base());
  EXPECT_EQ(spec.marathon, MarathonSpec{});
  EXPECT_TRUE(spec.marathon.urls.empty());
  EXPECT_EQ(spec.admin.http_address, "");
}

TEST(MarathonKeys, ListenersOptionalWithUrls) {
  const ConfigSpec spec = load(kMarathonOnly);
  EXPECT_TRUE(spec.listeners.empty());
  EXPECT_EQ(spec.marathon.urls, std::vector<std::string>{"http://marathon.mesos:8080"});
  EXPECT_EQ(spec.marathon.groups, std::vector<std::string>{"external"});
  EXPECT_EQ(spec.marathon.http_port, 80);
  EXPECT_EQ(spec.marathon.app_id_port, 9091);
  EXPECT_TRUE(spec.marathon.bind_service_ports);
}

TEST(MarathonKeys, EveryKey) {
  const ConfigSpec spec = load(R"([marathon]
urls = ["http://10.0.0.1:8080", "https://m2.example:8443/marathon/"]
groups = ["external", "internal"]
strict_mode = true
health_check = true
domain = "Apps.Example.COM"
username = "lb"
password = "s3cret:!"
auth_token = "eyJhbGciOi"
ca_file = "/etc/ssl/marathon.pem"
resync_interval = "1m"
event_debounce = "0ms"
stream_idle_timeout = "45s"
request_timeout = "5s"
max_backoff = "2m"
state_file = "/var/lib/baton/apps.json"
bind_address = "10.0.0.5"
http_port = 8080
app_id_port = 0
bind_service_ports = false

[admin]
http = "127.0.0.1:9090"
)");
  const MarathonSpec& m = spec.marathon;
  EXPECT_EQ(m.urls, (std::vector<std::string>{"http://10.0.0.1:8080",
                                              "https://m2.example:8443/marathon/"}));
  EXPECT_EQ(m.groups, (std::vector<std::string>{"external", "internal"}));
  EXPECT_TRUE(m.strict_mode);
  EXPECT_TRUE(m.health_check);
  EXPECT_EQ(m.domain, "apps.example.com");
  EXPECT_EQ(m.username, "lb");
  EXPECT_EQ(m.password, "s3cret:!");
  EXPECT_EQ(m.auth_token, "eyJhbGciOi");
  EXPECT_EQ(m.auth_scheme, MarathonAuthScheme::Token);
  EXPECT_EQ(m.ca_file, "/etc/ssl/marathon.pem");
  EXPECT_EQ(m.resync_interval, std::chrono::minutes(1));
  EXPECT_EQ(m.event_debounce, milliseconds(0));
  EXPECT_EQ(m.stream_idle_timeout, seconds(45));
  EXPECT_EQ(m.request_timeout, seconds(5));
  EXPECT_EQ(m.max_backoff, std::chrono::minutes(2));
  EXPECT_EQ(m.state_file, "/var/lib/baton/apps.json");
  EXPECT_EQ(m.bind_address, "10.0.0.5");
  EXPECT_EQ(m.http_port, 8080);
  EXPECT_EQ(m.app_id_port, 0);
  EXPECT_FALSE(m.bind_service_ports);
  EXPECT_EQ(spec.admin.http_address, "127.0.0.1:9090");
}

TEST(MarathonKeys, BearerAuthScheme) {
  const ConfigSpec spec = load(marathonWith("auth_token = \"t\"\nauth_scheme = \"bearer\""));
  EXPECT_EQ(spec.marathon.auth_scheme, MarathonAuthScheme::Bearer);
}

TEST(MarathonKeys, GroupStarAndIpv6Bind) {
  const ConfigSpec spec = load(marathonWith("groups = [\"*\"]\nbind_address = \"::\""));
  EXPECT_EQ(spec.marathon.groups, std::vector<std::string>{"*"});
  EXPECT_EQ(spec.marathon.bind_address, "::");
}

TEST(MarathonKeys, FileUrlRelativeToTheConfigDirectory) {
  EXPECT_EQ(
      load("[marathon]\nurls = [\"file:apps.json\"]\n", "/etc/baton/baton.toml").marathon.urls,
      std::vector<std::string>{"file:/etc/baton/apps.json"});
  EXPECT_EQ(
      load("[marathon]\nurls = [\"file:../data/apps.json\"]\n", "conf/baton.toml").marathon.urls,
      std::vector<std::string>{"file:conf/../data/apps.json"});
  EXPECT_EQ(
      load("[marathon]\nurls = [\"file:/srv/apps.json\"]\n", "/etc/baton/baton.toml").marathon.urls,
      std::vector<std::string>{"file:/srv/apps.json"});
  // No directory in the name (text loaded from elsewhere): left relative to the working directory.
  EXPECT_EQ(load("[marathon]\nurls = [\"file:apps.json\"]\n", "t.toml").marathon.urls,
            std::vector<std::string>{"file:apps.json"});
}

TEST(AdminKeys, PortZeroAndOff) {
  EXPECT_EQ(load(base() + "[admin]\nhttp = \"127.0.0.1:0\"\n").admin.http_address, "127.0.0.1:0");
  EXPECT_EQ(load(base() + "[admin]\nhttp = \":9090\"\n").admin.http_address, ":9090");
  EXPECT_EQ(load(base() + "[admin]\nhttp = \"\"\n").admin.http_address, "");
  EXPECT_EQ(load(base() + "[admin]\n").admin.http_address, "");
}

// ---- Refusals ----

TEST(MarathonKeysErrors, NoListenerAndNoMarathon) {
  EXPECT_EQ(errorOf("[marathon]\ngroups = [\"*\"]\n"),
            "t.toml:1: listener: at least one [[listener]] required");
  EXPECT_EQ(errorOf("[admin]\nhttp = \":9090\"\n"),
            "t.toml:1: listener: at least one [[listener]] required");
}

TEST(MarathonKeysErrors, Urls) {
  EXPECT_EQ(errorOf("[marathon]\nurls = []\n"),
            "t.toml:2: marathon.urls: at least one URL required (omit the key to turn discovery "
            "off)");
  EXPECT_EQ(errorOf("[marathon]\nurls = \"http://m:8080\"\n"),
            "t.toml:2: marathon.urls: expected an array, got string");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"http://m:8080\", \"marathon:8080\"]\n"),
            "t.toml:2: marathon.urls[1]: invalid URL \"marathon:8080\": expected "
            "\"http://host:port[/path]\", \"https://...\" or \"file:PATH\"");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"http://m:0\"]\n"),
            "t.toml:2: marathon.urls[0]: invalid port in \"m:0\": must be 1..65535");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"http://u:p@m:8080\"]\n"),
            "t.toml:2: marathon.urls[0]: invalid URL \"http://u:p@m:8080\": no user info in the "
            "URL (use marathon.username / marathon.password)");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"file:\"]\n"),
            "t.toml:2: marathon.urls[0]: \"file:\" needs a path");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"http://m:8080\",\n  \"file:/x.json\"]\n"),
            "t.toml:3: marathon.urls[1]: a \"file:\" source must be the only URL");
  EXPECT_EQ(errorOf("[marathon]\nurls = [\"file:/x.json\", \"file:/y.json\"]\n"),
            "t.toml:2: marathon.urls[0]: a \"file:\" source must be the only URL");
}

TEST(MarathonKeysErrors, Groups) {
  EXPECT_EQ(errorOf(marathonWith("groups = []")),
            "t.toml:3: marathon.groups: at least one group required (\"*\" selects every app)");
  EXPECT_EQ(errorOf(marathonWith("groups = [\"a,b\"]")),
            "t.toml:3: marathon.groups[0]: invalid group \"a,b\": expected \"*\" or 1..64 visible "
            "ASCII characters without ','");
  EXPECT_EQ(errorOf(marathonWith("groups = \"external\"")),
            "t.toml:3: marathon.groups: expected an array, got string");
}

TEST(MarathonKeysErrors, ScalarValues) {
  EXPECT_EQ(errorOf(marathonWith("strict_mode = \"true\"")),
            "t.toml:3: marathon.strict_mode: expected a boolean, got string");
  EXPECT_EQ(errorOf(marathonWith("health_check = 1")),
            "t.toml:3: marathon.health_check: expected a boolean, got integer");
  EXPECT_EQ(errorOf(marathonWith("bind_service_ports = 0")),
            "t.toml:3: marathon.bind_service_ports: expected a boolean, got integer");
  EXPECT_EQ(errorOf(marathonWith("domain = \"*.example.com\"")),
            "t.toml:3: marathon.domain: invalid DNS name \"*.example.com\": no wildcard");
  EXPECT_EQ(errorOf(marathonWith("domain = \"a..b\"")),
            "t.toml:3: marathon.domain: invalid DNS name \"a..b\": expected labels of letters, "
            "digits, '-' or '_' separated by dots");
  EXPECT_EQ(errorOf(marathonWith("auth_token = \"a\\r\\nX: y\"")),
            "t.toml:3: marathon.auth_token: must not contain control characters");
  EXPECT_EQ(errorOf(marathonWith("auth_scheme = \"jwt\"")),
            "t.toml:3: marathon.auth_scheme: unknown value \"jwt\" (expected one of \"token\", "
            "\"bearer\")");
  EXPECT_EQ(errorOf(marathonWith("password = \"pw\"")),
            "t.toml:3: marathon.password: requires marathon.username");
  EXPECT_EQ(errorOf(marathonWith("username = \"a:b\"")),
            "t.toml:3: marathon.username: must not contain ':'");
  EXPECT_EQ(errorOf(marathonWith("ca_file = 1")),
            "t.toml:3: marathon.ca_file: expected a string, got integer");
  EXPECT_EQ(errorOf(marathonWith("state_file = false")),
            "t.toml:3: marathon.state_file: expected a string, got boolean");
  EXPECT_EQ(errorOf(marathonWith("bind_address = \"localhost\"")),
            "t.toml:3: marathon.bind_address: invalid address \"localhost\": expected a numeric "
            "IPv4 or IPv6 address without port or brackets");
  EXPECT_EQ(errorOf(marathonWith("bind_address = \"0.0.0.0:80\"")).substr(0, 49),
            "t.toml:3: marathon.bind_address: invalid address ");
  EXPECT_EQ(errorOf(marathonWith("http_port = 65536")),
            "t.toml:3: marathon.http_port: must be 0..65535, got 65536");
  EXPECT_EQ(errorOf(marathonWith("app_id_port = -1")),
            "t.toml:3: marathon.app_id_port: must be 0..65535, got -1");
  EXPECT_EQ(errorOf(marathonWith("marathon_url = \"x\"")).substr(0, 61),
            "t.toml:3: marathon.marathon_url: unknown key (expected one of");
}

TEST(MarathonKeysErrors, Durations) {
  for (const char* key :
       {"resync_interval", "stream_idle_timeout", "request_timeout", "max_backoff"}) {
    EXPECT_EQ(errorOf(marathonWith(std::string(key) + " = \"0s\"")),
              "t.toml:3: marathon." + std::string(key) + ": must be greater than 0");
  }
  EXPECT_EQ(errorOf(marathonWith("event_debounce = \"20\"")),
            "t.toml:3: marathon.event_debounce: invalid duration \"20\": expected a non-negative "
            "integer followed by ms, s, m or h (e.g. \"250ms\", \"10s\")");
}

TEST(MarathonKeysErrors, PortClashes) {
  EXPECT_EQ(errorOf(marathonWith("http_port = 9091")),
            "t.toml:1: marathon.app_id_port: port 9091 is also marathon.http_port");
  // Default http_port 80 against a configured listener on all addresses.
  EXPECT_EQ(errorOf(std::string(kMarathonOnly) +
                    base().replace(base().find("127.0.0.1:8080"), 14, ":80")),
            "t.toml:1: marathon.http_port: port 80 clashes with listener \"http\" (\":80\"); set "
            "marathon.http_port = 0 to not open it");
  EXPECT_EQ(errorOf(marathonWith("bind_address = \"127.0.0.1\"\napp_id_port = 8080") + base()),
            "t.toml:4: marathon.app_id_port: port 8080 clashes with listener \"http\" "
            "(\"127.0.0.1:8080\"); set marathon.app_id_port = 0 to not open it");
  EXPECT_EQ(errorOf(marathonWith("[admin]\nhttp = \"[::]:9091\"")),
            "t.toml:1: marathon.app_id_port: port 9091 clashes with admin.http (\"[::]:9091\"); "
            "set marathon.app_id_port = 0 to not open it");
  // Different specific addresses, or the port turned off: no clash.
  EXPECT_EQ(errorOf(marathonWith("bind_address = \"10.0.0.5\"\napp_id_port = 8080") + base()),
            "OK");
  EXPECT_EQ(errorOf(marathonWith("app_id_port = 0\n[admin]\nhttp = \":9091\"")), "OK");
}

TEST(AdminKeysErrors, Values) {
  EXPECT_EQ(errorOf(base() + "[admin]\nhttp = \"localhost:9090\"\n"),
            "t.toml:15: admin.http: invalid address \"localhost:9090\": expected \"ip:port\", "
            "\"[ipv6]:port\" or \":port\" with a numeric IP (names are not resolved)");
  EXPECT_EQ(errorOf(base() + "[admin]\nhttp = 9090\n"),
            "t.toml:15: admin.http: expected a string, got integer");
  EXPECT_EQ(errorOf(base() + "[admin]\nsockets = \"/run/baton.sock\"\n"),
            "t.toml:15: admin.sockets: unknown key (expected one of: http, socket, socket_mode, "
            "socket_uids, socket_gids, token, token_file)");
  EXPECT_EQ(errorOf(base() + "[admin]\nhttp = \"127.0.0.1:8080\"\n"),
            "t.toml:15: admin.http: address \"127.0.0.1:8080\" already used by listener "
            "\"http\"");
  EXPECT_EQ(errorOf(base() + "admin = \":9090\"\n"),
            "t.toml:14: vhost[0].route[0].admin: unknown key (expected one of: prefix, cluster, "
            "body_limit, raw_bytes, merge_slashes, allowed_sources, basic_auth, "
            "redirect_to_https, redirect_root_to, strip_prefix, upstream_host, location_rewrite, "
            "hsts, websocket, tunnel_idle, timeouts, retry, access_log)");
}

// ---- validateConfig on specs built in code ----

ConfigSpec commandLineSpec() {
  auto spec = loadConfigString("", "<command line>");
  EXPECT_FALSE(spec.has_value());  // empty and no marathon: refused, as a file would be
  ConfigSpec out;
  out.file = "<command line>";
  return out;
}

TEST(ValidateConfig, EmptyTextIsRefusedUntilMarathonIsSet) {
  EXPECT_EQ(loadConfigString("", "<command line>").error().detail,
            "<command line>:1: listener: at least one [[listener]] required");
  ConfigSpec spec = commandLineSpec();
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: listener: at least one [[listener]] required");
  spec.marathon.urls = {"http://marathon.mesos:8080"};
  spec.marathon.domain = "Apps.Example";
  auto ok = validateConfig(spec);
  EXPECT_TRUE(ok.has_value()) << ok.error().detail;
  EXPECT_EQ(spec.marathon.domain, "apps.example");  // normalised in place
}

TEST(ValidateConfig, MarathonValuesFromTheCommandLine) {
  ConfigSpec spec = commandLineSpec();
  spec.marathon.urls = {"marathon.mesos:8080"};
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.urls[0]: invalid URL \"marathon.mesos:8080\": expected "
            "\"http://host:port[/path]\", \"https://...\" or \"file:PATH\"");
  spec.marathon.urls = {"http://m:8080", "file:/x"};
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.urls[1]: a \"file:\" source must be the only URL");
  spec.marathon.urls = {"file:apps.json"};
  spec.marathon.groups = {};
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.groups: at least one group required (\"*\" selects every "
            "app)");
  spec.marathon.groups = {"*"};
  spec.marathon.password = "pw";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.password: requires marathon.username");
  spec.marathon.username = "u";
  spec.marathon.request_timeout = milliseconds(0);
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.request_timeout: must be greater than 0");
  spec.marathon.request_timeout = seconds(1);
  spec.marathon.bind_address = "any";
  EXPECT_EQ(validateConfig(spec).error().detail.substr(0, 54),
            "<command line>: marathon.bind_address: invalid address");
  spec.marathon.bind_address = "";
  spec.admin.http_address = "127.0.0.1:80";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "<command line>: marathon.http_port: port 80 clashes with admin.http "
            "(\"127.0.0.1:80\"); set marathon.http_port = 0 to not open it");
  spec.admin.http_address = "127.0.0.1:9090";
  EXPECT_TRUE(validateConfig(spec).has_value());
}

TEST(ValidateConfig, CrossChecksNameSpecLocations) {
  ConfigSpec spec = load(base());
  spec.file = "t.toml";
  ListenerSpec tcp;
  tcp.loc = {"", 0};
  tcp.name = "db";
  tcp.address = "127.0.0.1:5432";
  tcp.kind = ListenerKind::Tcp;
  spec.listeners.push_back(tcp);
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml: listener[1].cluster: required for kind = \"tcp\"");
  spec.listeners[1].tcp_cluster = "nope";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml: listener[1].cluster: unknown cluster \"nope\"");
  spec.listeners[1].tcp_cluster = "web";
  spec.listeners[1].route_by = RouteBy::AppIdHeader;
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml: listener[1].route_by: only for kind = \"http\"");
  spec.listeners[1].route_by = RouteBy::Host;
  EXPECT_TRUE(validateConfig(spec).has_value());
  spec.listeners[0].tcp_cluster = "web";  // on the http listener, loaded from line 1
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml:1: listener[0].cluster: only for kind = \"tcp\" (an http listener routes "
            "through vhosts)");
  spec.listeners[0].tcp_cluster = "";
  spec.listeners[0].route_scope = "svc";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml:1: listener[0].scope: no vhost has scope \"svc\"");
  spec.listeners[0].route_scope = "";
  spec.clusters.push_back(spec.clusters[0]);
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml:5: cluster[1].name: duplicate name \"web\" (first defined at line 5)");
  spec.clusters[1].name = "web2";
  spec.vhosts[0].routes[0].cluster = "gone";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml:12: vhost[0].route[0].cluster: unknown cluster \"gone\"");
}

TEST(ValidateConfig, DiscoveredListenersDoNotClashWithTheirOwnPorts) {
  ConfigSpec spec = load(std::string(kMarathonOnly));
  ListenerSpec l;
  l.name = "marathon_http";
  l.address = ":80";
  l.origin = "marathon";
  spec.listeners.push_back(l);
  EXPECT_TRUE(validateConfig(spec).has_value());
  spec.listeners[0].origin = "config";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "t.toml: marathon.http_port: port 80 clashes with listener \"marathon_http\" "
            "(\":80\"); set marathon.http_port = 0 to not open it");
}

TEST(ValidateConfig, DuplicateNameWithoutLocationsNamesTheFirstByIndex) {
  ConfigSpec spec;
  ListenerSpec l;
  l.name = "a";
  l.address = ":1";
  spec.listeners = {l, l};
  spec.listeners[1].address = ":2";
  EXPECT_EQ(validateConfig(spec).error().detail,
            "listener[1].name: duplicate name \"a\" (first is listener[0])");
}

}  // namespace
}  // namespace baton::conf
