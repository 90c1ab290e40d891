// Loader: the keys added for Marathon-driven configs — listener kinds and scopes, vhost scopes,
// route actions, cluster stickiness / timeouts / source_hash, host names. Every refusal is
// checked as the exact "FILE:LINE: KEY: message".
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

// ---- [[listener]] kind, cluster, route_by, scope ----

// Lines 14..: a tcp listener on the base's cluster.
constexpr std::string_view kTcpListener = R"([[listener]]
name = "db"
address = "127.0.0.1:5432"
kind = "tcp"
cluster = "web"
)";

TEST(ListenerKeys, DefaultsAreHttpByHostUnscoped) {
  const ConfigSpec spec = load(base());
  const ListenerSpec& l = spec.listeners.at(0);
  EXPECT_EQ(l.kind, ListenerKind::Http);
  EXPECT_EQ(l.route_by, RouteBy::Host);
  EXPECT_EQ(l.route_scope, "");
  EXPECT_EQ(l.tcp_cluster, "");
  EXPECT_EQ(spec.vhosts.at(0).scope, "");
}

TEST(ListenerKeys, TcpHttpAppIdAndScope) {
  const ConfigSpec spec = load(base() + std::string(kTcpListener) + R"([[listener]]
name = "appid"
address = "127.0.0.1:9091"
kind = "http"
route_by = "app_id"
[[listener]]
name = "svc"
address = ":10001"
route_by = "host"
scope = "port-10001"
[[vhost]]
name = "scoped"
domains = ["*"]
scope = "port-10001"
[[vhost.route]]
cluster = "web"
)");
  ASSERT_EQ(spec.listeners.size(), 4u);
  EXPECT_EQ(spec.listeners[1].kind, ListenerKind::Tcp);
  EXPECT_EQ(spec.listeners[1].tcp_cluster, "web");
  EXPECT_EQ(spec.listeners[2].kind, ListenerKind::Http);
  EXPECT_EQ(spec.listeners[2].route_by, RouteBy::AppIdHeader);
  EXPECT_EQ(spec.listeners[3].route_by, RouteBy::Host);
  EXPECT_EQ(spec.listeners[3].route_scope, "port-10001");
  EXPECT_EQ(spec.vhosts.at(1).scope, "port-10001");
}

TEST(ListenerKeys, ExplicitEmptyScopeIsTheSharedOne) {
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nscope = \"\"");
  EXPECT_EQ(load(text).listeners.at(0).route_scope, "");
}

TEST(ListenerKeysErrors, KindValues) {
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nkind = \"udp\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].kind: unknown value \"udp\" (expected one of \"http\", "
            "\"tcp\")");
  text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nroute_by = \"header\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].route_by: unknown value \"header\" (expected one of "
            "\"host\", \"app_id\")");
}

TEST(ListenerKeysErrors, TcpNeedsAKnownCluster) {
  std::string tcp(kTcpListener);
  tcp.erase(tcp.find("cluster = \"web\"\n"));
  EXPECT_EQ(errorOf(base() + tcp), "t.toml:14: listener[1].cluster: required for kind = \"tcp\"");
  tcp = std::string(kTcpListener);
  tcp.replace(tcp.find("\"web\""), 5, "\"nope\"");
  EXPECT_EQ(errorOf(base() + tcp), "t.toml:18: listener[1].cluster: unknown cluster \"nope\"");
  tcp = std::string(kTcpListener);
  tcp.replace(tcp.find("\"web\""), 5, "\"no pe\"");
  EXPECT_EQ(errorOf(base() + tcp),
            "t.toml:18: listener[1].cluster: name must be 1..64 of [A-Za-z0-9_.-], got \"no pe\"");
}

TEST(ListenerKeysErrors, HttpOnlyKeysOnTcpAndClusterOnHttp) {
  for (const char* key : {"route_by = \"host\"", "scope = \"x\"", "raw_bytes = \"reject\""}) {
    const std::string name = std::string(key).substr(0, std::string(key).find(' '));
    EXPECT_EQ(errorOf(base() + std::string(kTcpListener) + key + "\n"),
              "t.toml:19: listener[1]." + name + ": only for kind = \"http\"")
        << key;
  }
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\ncluster = \"web\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].cluster: only for kind = \"tcp\" (an http listener routes "
            "through vhosts)");
}

TEST(ListenerKeysErrors, ScopeMustBeSomeVhosts) {
  std::string text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nscope = \"port-80\"");
  EXPECT_EQ(errorOf(text), "t.toml:4: listener[0].scope: no vhost has scope \"port-80\"");
  text = base();
  text.insert(text.find("\n\n[[cluster]]"), "\nscope = \"a b\"");
  EXPECT_EQ(errorOf(text),
            "t.toml:4: listener[0].scope: name must be 1..64 of [A-Za-z0-9_.-], got \"a b\"");
}

// ---- [[vhost]] scope: domains unique within a scope ----

TEST(VhostScope, SameDomainInDifferentScopes) {
  const ConfigSpec spec = load(base() + R"([[vhost]]
name = "a"
domains = ["*", "x.example"]
scope = "s1"
[[vhost.route]]
cluster = "web"
[[vhost]]
name = "b"
domains = ["*", "x.example"]
scope = "s2"
[[vhost.route]]
cluster = "web"
)");
  EXPECT_EQ(spec.vhosts.size(), 3u);
}

TEST(VhostScopeErrors, DuplicateWithinAScope) {
  EXPECT_EQ(errorOf(base() + R"([[vhost]]
name = "a"
domains = ["x.example"]
scope = "s1"
[[vhost.route]]
cluster = "web"
[[vhost]]
name = "b"
domains = ["y.example", "X.example"]
scope = "s1"
[[vhost.route]]
cluster = "web"
)"),
            "t.toml:22: vhost[2].domains[1]: domain \"x.example\" already used by vhost \"a\" in "
            "scope \"s1\"");
  EXPECT_EQ(errorOf(base() + "[[vhost]]\nname = \"b\"\ndomains = [\"*\"]\nscope = \"\"\n"
                             "[[vhost.route]]\ncluster = \"web\"\n"),
            "t.toml:16: vhost[1].domains[0]: domain \"*\" already used by vhost \"site\"");
  EXPECT_EQ(errorOf(base() + "[[vhost]]\nname = \"b\"\ndomains = [\"*\"]\nscope = 1\n"
                             "[[vhost.route]]\ncluster = \"web\"\n"),
            "t.toml:17: vhost[1].scope: expected a string, got integer");
}

TEST(VhostScope, AppIdDomainsForAppIdListeners) {
  const ConfigSpec spec = load(base() + R"([[listener]]
name = "appid"
address = "127.0.0.1:9091"
route_by = "app_id"
scope = "ids"
[[vhost]]
name = "shop"
domains = ["/Shop/Web", "*"]
scope = "ids"
[[vhost.route]]
cluster = "web"
)");
  EXPECT_EQ(spec.vhosts.at(1).domains, (std::vector<std::string>{"/shop/web", "*"}));
  EXPECT_EQ(errorOf(base() + "[[vhost]]\nname = \"b\"\ndomains = [\"/shop/\"]\n"
                             "[[vhost.route]]\ncluster = \"web\"\n"),
            "t.toml:16: vhost[1].domains[0]: invalid app id \"/shop/\": expected \"/group/app\" "
            "(letters, digits, '-', '.', '_' between slashes)");
}

// ---- [[vhost.route]] actions ----

TEST(RouteActions, DefaultsAreOff) {
  const ConfigSpec spec = load(base());
  const RouteSpec& r = spec.vhosts.at(0).routes.at(0);
  EXPECT_TRUE(r.allowed_sources.empty());
  EXPECT_FALSE(r.basic_auth.has_value());
  EXPECT_FALSE(r.redirect_to_https);
  EXPECT_EQ(r.redirect_root_to, "");
  EXPECT_EQ(r.strip_prefix, "");
  EXPECT_EQ(r.upstream_host, "");
  EXPECT_EQ(r.location_rewrite, "");
  EXPECT_FALSE(r.hsts);
}

constexpr std::string_view kHash =
    "$6$rounds=5000$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc";

TEST(RouteActions, EveryKey) {
  const ConfigSpec spec = load(base() + R"(allowed_sources = ["10.0.0.0/8", "::1", "192.168.1.7"]
redirect_to_https = true
redirect_root_to = "/app/"
strip_prefix = "/api"
upstream_host = "internal.example:8080"
location_rewrite = "/api"
hsts = true
[vhost.route.basic_auth]
realm = "Staff only"
users = [{ user = "alice", password_hash = ")" +
                               std::string(kHash) + R"(" },
         { user = "bob", password_hash = "$1$abc$def" }]
)");
  const RouteSpec& r = spec.vhosts.at(0).routes.at(0);
  EXPECT_EQ(r.allowed_sources,
            (std::vector<std::string>{"10.0.0.0/8", "::1/128", "192.168.1.7/32"}));
  EXPECT_TRUE(r.redirect_to_https);
  EXPECT_EQ(r.redirect_root_to, "/app/");
  EXPECT_EQ(r.strip_prefix, "/api");
  EXPECT_EQ(r.upstream_host, "internal.example:8080");
  EXPECT_EQ(r.location_rewrite, "/api");
  EXPECT_TRUE(r.hsts);
  ASSERT_TRUE(r.basic_auth.has_value());
  EXPECT_EQ(r.basic_auth->realm, "Staff only");
  ASSERT_EQ(r.basic_auth->users.size(), 2u);
  EXPECT_EQ(r.basic_auth->users[0].user, "alice");
  EXPECT_EQ(r.basic_auth->users[0].password_hash, kHash);
  EXPECT_EQ(r.basic_auth->users[1].user, "bob");
}

TEST(RouteActions, UsersAsArrayOfTables) {
  const ConfigSpec spec = load(base() + R"([vhost.route.basic_auth]
realm = "r"
[[vhost.route.basic_auth.users]]
user = "alice"
password_hash = "$5$salt$hash"
)");
  EXPECT_EQ(spec.vhosts.at(0).routes.at(0).basic_auth->users.at(0).password_hash, "$5$salt$hash");
}

TEST(RouteActions, AccessLogMode) {
  EXPECT_EQ(load(base()).vhosts.at(0).routes.at(0).access_log, AccessLogMode::All);
  const ConfigSpec spec = load(base() + "access_log = \"errors\"\n");
  EXPECT_EQ(spec.vhosts.at(0).routes.at(0).access_log, AccessLogMode::Errors);
  EXPECT_EQ(errorOf(base() + "access_log = \"some\"\n"),
            "t.toml:14: vhost[0].route[0].access_log: unknown value \"some\" (expected one of "
            "\"all\", \"errors\", \"off\")");
}

TEST(RouteActionsErrors, ValueSyntax) {
  const auto err = [](std::string_view line) { return errorOf(base() + std::string(line) + "\n"); };
  EXPECT_EQ(err("allowed_sources = [\"10.0.0.0/8\", \"10.1.0.1/16\"]"),
            "t.toml:14: vhost[0].route[0].allowed_sources[1]: invalid CIDR \"10.1.0.1/16\": "
            "address has bits set beyond /16");
  EXPECT_EQ(err("allowed_sources = \"10.0.0.0/8\""),
            "t.toml:14: vhost[0].route[0].allowed_sources: expected an array, got string");
  EXPECT_EQ(err("redirect_to_https = \"yes\""),
            "t.toml:14: vhost[0].route[0].redirect_to_https: expected a boolean, got string");
  EXPECT_EQ(err("hsts = 1"), "t.toml:14: vhost[0].route[0].hsts: expected a boolean, got integer");
  EXPECT_EQ(err("redirect_root_to = \"app\""),
            "t.toml:14: vhost[0].route[0].redirect_root_to: path \"app\" must start with \"/\"");
  EXPECT_EQ(err("location_rewrite = \"/a b\""),
            "t.toml:14: vhost[0].route[0].location_rewrite: path \"/a b\" must be visible ASCII "
            "without space, '?' or '#' (percent-encode other bytes)");
  EXPECT_EQ(
      err("strip_prefix = \"api\""),
      "t.toml:14: vhost[0].route[0].strip_prefix: route prefix \"api\" must start with \"/\"");
  EXPECT_EQ(err("upstream_host = \"a b\""),
            "t.toml:14: vhost[0].route[0].upstream_host: invalid host \"a b\": expected \"name\", "
            "\"name:port\", \"ip:port\" or \"[ipv6]:port\"");
  EXPECT_EQ(err("upstream_host = \"x\\r\\nInjected: 1\"").substr(0, 59),
            "t.toml:14: vhost[0].route[0].upstream_host: invalid host \"x");
  EXPECT_EQ(
      err("upstream_host = \"x:0\""),
      "t.toml:14: vhost[0].route[0].upstream_host: invalid port in \"x:0\": must be 1..65535");
}

TEST(RouteActionsErrors, BasicAuth) {
  const auto err = [](std::string_view body) {
    return errorOf(base() + "[vhost.route.basic_auth]\n" + std::string(body));
  };
  EXPECT_EQ(err("realm = \"r\"\n"),
            "t.toml:14: vhost[0].route[0].basic_auth.users: required key missing");
  EXPECT_EQ(err("users = [{ user = \"a\", password_hash = \"$1$a$b\" }]\n"),
            "t.toml:14: vhost[0].route[0].basic_auth.realm: required key missing");
  EXPECT_EQ(err("realm = \"r\"\nusers = []\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users: at least one user required");
  EXPECT_EQ(err("realm = \"r\"\nrelm = \"x\"\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.relm: unknown key (expected one of: realm, "
            "users)");
  EXPECT_EQ(
      err("realm = \"say \\\"hi\\\"\"\nusers = [{ user = \"a\", password_hash = \"$1$a$b\" }]\n"),
      "t.toml:15: vhost[0].route[0].basic_auth.realm: invalid realm \"say \"hi\"\": expected "
      "1..128 printable ASCII characters without '\"' or '\\'");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"a:b\", password_hash = \"$1$a$b\" }]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0].user: invalid user \"a:b\": "
            "expected 1..128 printable ASCII characters without ':'");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"\", password_hash = \"$1$a$b\" }]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0].user: invalid user \"\": "
            "expected 1..128 printable ASCII characters without ':'");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"a\", password_hash = \"hunter2\" }]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0].password_hash: not a crypt(3) hash "
            "(plain-text passwords are refused; make one with `mkpasswd -m sha-512` or "
            "`openssl passwd -6`)");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"a\", password_hash = \"$6$\" }]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0].password_hash: not a crypt(3) hash: "
            "expected \"$id$salt$hash\" (e.g. \"$6$...\") of [A-Za-z0-9./$=,-]");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"a\", password = \"$1$a$b\" }]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0].password: unknown key (expected "
            "one of: user, password_hash)");
  EXPECT_EQ(err("realm = \"r\"\nusers = [\"a:$1$a$b\"]\n"),
            "t.toml:16: vhost[0].route[0].basic_auth.users[0]: expected a table { user, "
            "password_hash }, got string");
  EXPECT_EQ(err("realm = \"r\"\nusers = [{ user = \"a\", password_hash = \"$1$a$b\" },\n"
                "  { user = \"a\", password_hash = \"$1$c$d\" }]\n"),
            "t.toml:17: vhost[0].route[0].basic_auth.users[1].user: duplicate user \"a\" "
            "(users[0])");
  EXPECT_EQ(errorOf(base() + "basic_auth = true\n"),
            "t.toml:14: vhost[0].route[0].basic_auth: expected a table "
            "([vhost.route.basic_auth]), got boolean");
}

// ---- [[cluster]] policy source_hash, sticky_cookie, timeouts; host names ----

TEST(ClusterKeys, NewKeys) {
  std::string text = base();
  text.replace(text.find("hosts = [\"127.0.0.1:9001\"]"), 26,
               R"(policy = "source_hash"
sticky_cookie = "mesosphere_server_id"
hosts = ["127.0.0.1:9001", { address = "127.0.0.1:9002", name = "10_0_0_2_9002" }]
[cluster.timeouts]
upstream_connect = "500ms"
upstream_first_byte = "1m"
body_idle = "5s"
tunnel_idle = "1h")");
  const ConfigSpec spec = load(text);
  const ClusterSpec& c = spec.clusters.at(0);
  EXPECT_EQ(c.policy, LbPolicyKind::SourceHash);
  EXPECT_EQ(c.sticky_cookie, "mesosphere_server_id");
  EXPECT_EQ(c.hosts.at(0).name, "");
  EXPECT_EQ(c.hosts.at(1).name, "10_0_0_2_9002");
  EXPECT_EQ(c.hosts.at(1).task_id, "");
  EXPECT_FALSE(c.hosts.at(1).draining);
  EXPECT_EQ(c.timeouts.upstream_connect, milliseconds(500));
  EXPECT_EQ(c.timeouts.upstream_first_byte, std::chrono::minutes(1));
  EXPECT_EQ(c.timeouts.body_idle, seconds(5));
  EXPECT_EQ(c.timeouts.tunnel_idle, std::chrono::hours(1));
}

TEST(ClusterKeys, TimeoutsDefaultToUnset) {
  const ConfigSpec spec = load(base());
  const ClusterSpec& c = spec.clusters.at(0);
  EXPECT_EQ(c.timeouts, TimeoutOverrides{});
  EXPECT_EQ(c.sticky_cookie, "");
}

TEST(ClusterKeysErrors, Values) {
  const auto err = [](std::string_view replacement) {
    std::string text = base();
    text.replace(text.find("hosts = [\"127.0.0.1:9001\"]"), 26, replacement);
    return errorOf(text);
  };
  EXPECT_EQ(err("sticky_cookie = \"a b\"\nhosts = [\"127.0.0.1:1\"]"),
            "t.toml:7: cluster[0].sticky_cookie: invalid cookie name \"a b\": expected 1..64 of "
            "letters, digits and !#$%&'*+-.^_`|~");
  EXPECT_EQ(err("sticky_cookie = \"\"\nhosts = [\"127.0.0.1:1\"]").substr(0, 56),
            "t.toml:7: cluster[0].sticky_cookie: invalid cookie name ");
  EXPECT_EQ(err("hosts = [\"127.0.0.1:1\"]\n[cluster.timeouts]\ntunnel_idle = \"0s\""),
            "t.toml:9: cluster[0].timeouts.tunnel_idle: must be greater than 0");
  EXPECT_EQ(err("hosts = [\"127.0.0.1:1\"]\n[cluster.timeouts]\nrequest_head = \"1s\""),
            "t.toml:9: cluster[0].timeouts.request_head: unknown key (expected one of: "
            "upstream_connect, upstream_first_byte, body_idle, tunnel_idle)");
  EXPECT_EQ(err("hosts = [\"127.0.0.1:1\"]\n[cluster.timeouts]\nbody_idle = 5"),
            "t.toml:9: cluster[0].timeouts.body_idle: expected a duration string such as \"10s\" "
            "or \"250ms\", got integer");
  EXPECT_EQ(err("timeouts = \"1s\"\nhosts = [\"127.0.0.1:1\"]"),
            "t.toml:7: cluster[0].timeouts: expected a table ([cluster.timeouts]), got string");
  EXPECT_EQ(err("hosts = [{ address = \"127.0.0.1:1\", name = \"a/b\" }]"),
            "t.toml:7: cluster[0].hosts[0].name: name must be 1..64 of [A-Za-z0-9_.-], got "
            "\"a/b\"");
  EXPECT_EQ(err("hosts = [{ address = \"127.0.0.1:1\", name = \"h\" },\n"
                "  { address = \"127.0.0.1:2\", name = \"h\" }]"),
            "t.toml:8: cluster[0].hosts[1].name: duplicate host name \"h\" (hosts[0])");
  EXPECT_EQ(err("hosts = [{ address = \"127.0.0.1:1\", task_id = \"t\" }]"),
            "t.toml:7: cluster[0].hosts[0].task_id: unknown key (expected one of: address, "
            "weight, name, version)");
}

}  // namespace
}  // namespace baton::conf
