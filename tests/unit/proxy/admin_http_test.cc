#include "proxy/admin_http.h"
#include "proxy/admin_status_builder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proxy/core/event_loop.h"
#include "proxy/worker.h"

namespace baton::proxy {
namespace {

// zdd.py's parser: header after "# " without its trailing comma; rows keep row[0:-1].
std::vector<std::vector<std::string>> parseLikeZdd(const std::string& csv,
                                                   std::vector<std::string>* header) {
  std::istringstream in(csv);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  auto split = [](const std::string& text) {
    std::vector<std::string> out;
    std::string field;
    for (char c : text) {
      if (c == ',') {
        out.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    out.push_back(field);
    return out;
  };
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with("# "));
  EXPECT_TRUE(line.ends_with(","));
  *header = split(line.substr(2, line.size() - 3));
  while (std::getline(in, line)) {
    auto fields = split(line);
    EXPECT_EQ(fields.back(), "") << line;  // trailing comma, dropped by zdd
    fields.pop_back();
    EXPECT_EQ(fields.size(), header->size()) << line;
    rows.push_back(fields);
  }
  return rows;
}

std::string column(const std::vector<std::string>& header, const std::vector<std::string>& row,
                   const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return row.at(i);
  }
  ADD_FAILURE() << "no column " << name;
  return {};
}

struct HttpReply {
  int status = 0;
  std::string head;
  std::string body;
};

// Sends `request` on a fresh loopback connection and reads the reply until the server closes.
HttpReply roundTrip(uint16_t port, const std::string& request) {
  HttpReply out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return out;
  }
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string all;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos || all.size() < 12) return out;
  out.status = std::stoi(all.substr(9, 3));
  out.head = all.substr(0, end);
  out.body = all.substr(end + 4);
  return out;
}

HttpReply fetch(uint16_t port, const std::string& method, const std::string& target,
                const std::string& extra_headers = "") {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n" + extra_headers;
  if (method == "POST") req += "Content-Length: 0\r\n";
  req += "\r\n";
  return roundTrip(port, req);
}

std::string headerValue(const std::string& head, const std::string& name) {
  size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  at += name.size() + 4;
  return head.substr(at, head.find("\r\n", at) - at);
}

// ---- pure helpers -----------------------------------------------------------------------------

TEST(AdminHttpAuth, EmptyTokenAcceptsAnything) {
  EXPECT_TRUE(admin_http::authorized("", ""));
  EXPECT_TRUE(admin_http::authorized("", "Bearer whatever"));
}

TEST(AdminHttpAuth, BearerMustMatchExactly) {
  EXPECT_TRUE(admin_http::authorized("s3cret", "Bearer s3cret"));
  EXPECT_TRUE(admin_http::authorized("s3cret", "bearer s3cret"));  // scheme is case-insensitive
  EXPECT_TRUE(admin_http::authorized("s3cret", "Bearer  s3cret "));
  EXPECT_FALSE(admin_http::authorized("s3cret", ""));
  EXPECT_FALSE(admin_http::authorized("s3cret", "s3cret"));
  EXPECT_FALSE(admin_http::authorized("s3cret", "Basic s3cret"));
  EXPECT_FALSE(admin_http::authorized("s3cret", "Bearer S3cret"));  // the token is not
  EXPECT_FALSE(admin_http::authorized("s3cret", "Bearer s3cre"));
  EXPECT_FALSE(admin_http::authorized("s3cret", "Bearer s3cretx"));
  EXPECT_FALSE(admin_http::authorized("s3cret", "Bearer "));
  EXPECT_FALSE(admin_http::authorized("s3cret", std::string("Bearer s3cret\0", 14)));
}

TEST(AdminHttpOrigin, AbsentOrSameOriginPasses) {
  EXPECT_TRUE(admin_http::sameOrigin("", "127.0.0.1:9090"));
  EXPECT_TRUE(admin_http::sameOrigin("http://127.0.0.1:9090", "127.0.0.1:9090"));
  EXPECT_TRUE(admin_http::sameOrigin("http://Edge.Example:9090", "edge.example:9090"));
}

TEST(AdminHttpOrigin, OtherOriginsAreRefused) {
  EXPECT_FALSE(admin_http::sameOrigin("http://evil.example", "127.0.0.1:9090"));
  EXPECT_FALSE(admin_http::sameOrigin("http://127.0.0.1:9091", "127.0.0.1:9090"));
  EXPECT_FALSE(admin_http::sameOrigin("http://127.0.0.1", "127.0.0.1:9090"));
  EXPECT_FALSE(admin_http::sameOrigin("null", "127.0.0.1:9090"));
  EXPECT_FALSE(admin_http::sameOrigin("http://127.0.0.1:9090", ""));
  EXPECT_FALSE(admin_http::sameOrigin("http://127.0.0.1:9090/x", "127.0.0.1:9090"));
}

TEST(AdminHttpQuery, FindsAndDecodesValues) {
  const std::string_view q = "cluster=shop_web&host=10.0.6.25%3A31704&note=a+b&empty=&flag";
  EXPECT_EQ(admin_http::queryParam(q, "cluster"), "shop_web");
  EXPECT_EQ(admin_http::queryParam(q, "host"), "10.0.6.25:31704");
  EXPECT_EQ(admin_http::queryParam(q, "note"), "a b");
  EXPECT_EQ(admin_http::queryParam(q, "empty"), "");
  EXPECT_EQ(admin_http::queryParam(q, "flag"), "");
  EXPECT_EQ(admin_http::queryParam(q, "missing"), std::nullopt);
  EXPECT_EQ(admin_http::queryParam("", "x"), std::nullopt);
  EXPECT_EQ(admin_http::queryParam("a=1&a=2", "a"), "1");  // the first wins
  EXPECT_EQ(admin_http::queryParam("h%6Fst=x", "host"), "x");
}

TEST(AdminHttpQuery, BadEscapesAreRefused) {
  EXPECT_EQ(admin_http::queryParam("a=%zz", "a"), std::nullopt);
  EXPECT_EQ(admin_http::queryParam("a=%4", "a"), std::nullopt);
  EXPECT_EQ(admin_http::queryParam("a=%", "a"), std::nullopt);
  EXPECT_EQ(admin_http::queryParam("a=%00", "a"), std::string(1, '\0'));
}

TEST(AdminHttpErrors, WordsMapToStatuses) {
  EXPECT_EQ(admin_http::httpStatusForError("usage"), 400);
  EXPECT_EQ(admin_http::httpStatusForError("invalid"), 400);
  EXPECT_EQ(admin_http::httpStatusForError("unknown"), 400);
  EXPECT_EQ(admin_http::httpStatusForError("notfound"), 404);
  EXPECT_EQ(admin_http::httpStatusForError("denied"), 401);
  EXPECT_EQ(admin_http::httpStatusForError("timeout"), 504);
  EXPECT_EQ(admin_http::httpStatusForError("failed"), 500);
  EXPECT_EQ(admin_http::httpStatusForError("something new"), 500);
}

TEST(AdminHttpErrors, ResultJsonEscapes) {
  EXPECT_EQ(admin_http::resultJson(std::string("host a/\"b\" set to drain")),
            R"({"ok":true,"message":"host a/\"b\" set to drain"})");
  EXPECT_EQ(admin_http::resultJson(admin::commandError("notfound", "no host x\\y\n")),
            R"({"ok":false,"error":"notfound","message":"no host x\\y\u000a"})");
}

// ---- the listener against a fake service -----------------------------------------------------

// Answers status() later (as the real server does, after the workers reply) and records writes.
struct FakeService : admin::AdminService {
  explicit FakeService(core::EventLoop& loop) : loop(loop) {
    admin::ClusterStatus web;
    web.name = "web";
    admin::HostStatus h1;
    h1.name = "h1";
    h1.address = "127.0.0.1:8001";
    h1.in_flight = 4;
    h1.traffic.record(200, 10, 20, std::chrono::microseconds(1500));
    web.hosts.push_back(h1);
    edge.clusters.push_back(web);
    edge.version = "test";
  }
  void status(std::function<void(admin::EdgeStatus)> done) override {
    loop.post([this, done = std::move(done)] { done(edge); });
  }
  admin::CommandResult setHostState(std::string_view cluster, std::string_view host,
                                    upstream::AdminState state) override {
    if (cluster != "web" || (host != "h1" && host != "127.0.0.1:8001")) {
      return admin::commandError("notfound", "no host " + std::string(host));
    }
    calls.push_back("state " + std::string(host) + " " + std::string(admin::adminStateName(state)));
    return "host web/h1 set to " + std::string(admin::adminStateName(state));
  }
  admin::CommandResult setClusterState(std::string_view cluster,
                                       upstream::AdminState state) override {
    calls.push_back("cluster " + std::string(cluster) + " " +
                    std::string(admin::adminStateName(state)));
    return std::string("ok");
  }
  admin::CommandResult setHostWeight(std::string_view, std::string_view host,
                                     uint32_t weight) override {
    if (weight == 0 || weight > 256) return admin::commandError("invalid", "weight 1..256");
    calls.push_back("weight " + std::string(host) + " " + std::to_string(weight));
    return std::string("ok");
  }
  void waitHostIdle(std::string_view, std::string_view, std::chrono::milliseconds,
                    std::function<void(admin::CommandResult)> done) override {
    done(std::string("idle"));
  }
  admin::CommandResult reload() override {
    ++reloads;
    if (fail_reload) return admin::commandError("failed", "baton.toml:3: listeners: bad");
    return std::string("reloaded");
  }
  void resync() override { ++resyncs; }
  std::string configText() override { return "listener x\n"; }
  admin::CommandResult setLogLevel(std::string_view level) override {
    if (level != "debug") return admin::commandError("invalid", "no level " + std::string(level));
    calls.push_back("log " + std::string(level));
    return std::string("log level debug");
  }

  core::EventLoop& loop;
  admin::EdgeStatus edge;
  std::vector<std::string> calls;
  int resyncs = 0;
  int reloads = 0;
  bool fail_reload = false;
};

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override { startWith(""); }
  void startWith(std::string token) {
    server_ = std::make_unique<AdminHttpServer>(loop_, service_, std::move(token));
    auto started = server_->start("127.0.0.1:0");
    ASSERT_TRUE(started.has_value()) << started.error().detail;
    const std::string& bound = server_->boundAddress();
    ASSERT_TRUE(bound.starts_with("127.0.0.1:")) << bound;
    port_ = static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    loop_.post([this] { loop_.stop(); });
    thread_.join();
    server_.reset();
  }
  // The fake's fields are written on the loop thread; read them there.
  template <typename F>
  auto onLoop(F f) {
    std::promise<decltype(f())> done;
    loop_.post([&] { done.set_value(f()); });
    return done.get_future().get();
  }
  core::EventLoop loop_;
  FakeService service_{loop_};
  std::unique_ptr<AdminHttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

class TokenServerTest : public AdminServerTest {
 protected:
  void SetUp() override { startWith("s3cret"); }
};

TEST_F(AdminServerTest, HealthCheck) {
  auto r = fetch(port_, "GET", "/_haproxy_health_check");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
}

TEST_F(AdminServerTest, StatsCsvBothSpellingsParseLikeZdd) {
  for (const char* target : {"/haproxy?stats;csv", "/haproxy?stats"}) {
    auto r = fetch(port_, "GET", target);
    EXPECT_EQ(r.status, 200) << target;
    std::vector<std::string> header;
    auto rows = parseLikeZdd(r.body, &header);
    ASSERT_EQ(rows.size(), 2u) << r.body;  // h1 + BACKEND
    EXPECT_EQ(column(header, rows[0], "pxname"), "web");
    EXPECT_EQ(column(header, rows[0], "svname"), "h1");
    EXPECT_EQ(column(header, rows[0], "scur"), "4");
    EXPECT_EQ(column(header, rows[0], "status"), "UP");
    EXPECT_EQ(column(header, rows[1], "svname"), "BACKEND");
  }
}

TEST_F(AdminServerTest, StatusIsTheModelAsJson) {
  auto r = fetch(port_, "GET", "/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(headerValue(r.head, "Content-Type"), "application/json");
  EXPECT_NE(r.body.find("\"version\":\"test\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"name\":\"h1\""), std::string::npos) << r.body;
}

TEST_F(AdminServerTest, MetricsArePrometheusText) {
  auto r = fetch(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(headerValue(r.head, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE "), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("host=\"h1\""), std::string::npos) << r.body;
}

TEST_F(AdminServerTest, DashboardHasAStrictPolicyWithAFreshNonce) {
  for (const char* target : {"/", "/dashboard"}) {
    auto r = fetch(port_, "GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(headerValue(r.head, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(headerValue(r.head, "Cache-Control"), "no-store");
    const std::string csp = headerValue(r.head, "Content-Security-Policy");
    EXPECT_TRUE(csp.starts_with("default-src 'none'; script-src 'nonce-")) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("http"), std::string::npos) << csp;  // no other origin
    const size_t at = csp.find("'nonce-") + 7;
    const std::string nonce = csp.substr(at, csp.find('\'', at) - at);
    EXPECT_EQ(nonce.size(), 32u);
    EXPECT_NE(r.body.find("<script nonce=\"" + nonce + "\">"), std::string::npos);
    EXPECT_NE(r.body.find("<style nonce=\"" + nonce + "\">"), std::string::npos);
    EXPECT_EQ(r.body.find("__CSP_NONCE__"), std::string::npos);
  }
  const std::string a = headerValue(fetch(port_, "GET", "/").head, "Content-Security-Policy");
  const std::string b = headerValue(fetch(port_, "GET", "/").head, "Content-Security-Policy");
  EXPECT_NE(a, b);
}

TEST_F(AdminServerTest, DashboardPageIsSelfContained) {
  auto r = fetch(port_, "GET", "/dashboard");
  // No external asset: nothing is loaded from another origin (works offline).
  for (const char* needle :
       {"src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import", "url(http", "innerHTML"}) {
    EXPECT_EQ(r.body.find(needle), std::string::npos) << needle;
  }
  EXPECT_NE(r.body.find("fetch(\"/status\""), std::string::npos);
}

TEST_F(AdminServerTest, ConfigPidsAndSignals) {
  auto config = fetch(port_, "GET", "/_haproxy_getconfig");
  EXPECT_EQ(config.status, 200);
  EXPECT_EQ(config.body, "listener x\n");
  auto pids = fetch(port_, "GET", "/_haproxy_getpids");
  EXPECT_EQ(pids.status, 200);
  EXPECT_EQ(pids.body, std::to_string(getpid()) + "\n");
  EXPECT_EQ(fetch(port_, "GET", "/_mlb_signal/hup").status, 200);
  EXPECT_EQ(fetch(port_, "GET", "/_mlb_signal/usr1").status, 200);
  EXPECT_EQ(fetch(port_, "GET", "/_mlb_signal/usr1").status, 200);
  EXPECT_EQ(onLoop([&] { return std::make_pair(service_.resyncs, service_.reloads); }),
            std::make_pair(1, 2));
  onLoop([&] { return service_.fail_reload = true; });
  auto failed = fetch(port_, "GET", "/_mlb_signal/usr1");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "baton.toml:3: listeners: bad\n");
}

TEST_F(AdminServerTest, UnknownPathIs404AndOtherMethods405) {
  EXPECT_EQ(fetch(port_, "GET", "/nope").status, 404);
  EXPECT_EQ(fetch(port_, "GET", "/haproxy?other").status, 404);
  auto post = fetch(port_, "POST", "/_mlb_signal/hup");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(headerValue(post.head, "Allow"), "GET, HEAD");
  EXPECT_EQ(fetch(port_, "DELETE", "/_haproxy_health_check").status, 405);
  auto get = fetch(port_, "GET", "/api/host/state?cluster=web&host=h1&state=drain");
  EXPECT_EQ(get.status, 405);  // a GET (a link, an <img>) never writes
  EXPECT_EQ(headerValue(get.head, "Allow"), "POST");
  EXPECT_TRUE(onLoop([&] { return service_.calls.empty(); }));
}

TEST_F(AdminServerTest, HeadHasNoBody) {
  auto r = fetch(port_, "HEAD", "/_haproxy_health_check");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(headerValue(r.head, "Content-Length"), "3");  // as GET's "OK\n"
}

TEST_F(AdminServerTest, WritesCallTheServiceAndAnswerJson) {
  auto r = fetch(port_, "POST", "/api/host/state?cluster=web&host=127.0.0.1%3A8001&state=drain");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(headerValue(r.head, "Content-Type"), "application/json");
  EXPECT_EQ(r.body, "{\"ok\":true,\"message\":\"host web/h1 set to drain\"}\n");
  EXPECT_EQ(fetch(port_, "POST", "/api/host/weight?cluster=web&host=h1&weight=7").status, 200);
  EXPECT_EQ(fetch(port_, "POST", "/api/cluster/state?cluster=web&state=maint").status, 200);
  EXPECT_EQ(fetch(port_, "POST", "/api/log-level?level=debug").status, 200);
  EXPECT_EQ(fetch(port_, "POST", "/api/reload").status, 200);
  EXPECT_EQ(onLoop([&] { return service_.calls; }),
            (std::vector<std::string>{"state 127.0.0.1:8001 drain", "weight h1 7",
                                      "cluster web maint", "log debug"}));
  EXPECT_EQ(onLoop([&] { return service_.reloads; }), 1);
}

TEST_F(AdminServerTest, WriteErrorsCarryTheWordAndStatus) {
  auto missing = fetch(port_, "POST", "/api/host/state?cluster=web&host=nope&state=drain");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "{\"ok\":false,\"error\":\"notfound\",\"message\":\"no host nope\"}\n");
  auto bad_state = fetch(port_, "POST", "/api/host/state?cluster=web&host=h1&state=off");
  EXPECT_EQ(bad_state.status, 400);
  EXPECT_NE(bad_state.body.find("\"error\":\"usage\""), std::string::npos);
  EXPECT_EQ(fetch(port_, "POST", "/api/host/state?host=h1&state=drain").status, 400);
  auto bad_weight = fetch(port_, "POST", "/api/host/weight?cluster=web&host=h1&weight=x1");
  EXPECT_EQ(bad_weight.status, 400);
  EXPECT_NE(bad_weight.body.find("\"error\":\"invalid\""), std::string::npos);
  EXPECT_EQ(fetch(port_, "POST", "/api/host/weight?cluster=web&host=h1&weight=0").status, 400);
  EXPECT_EQ(fetch(port_, "POST", "/api/host/weight?cluster=web&host=h1&weight=9999999").status,
            400);
  EXPECT_EQ(fetch(port_, "POST", "/api/log-level?level=loud").status, 400);
  EXPECT_EQ(fetch(port_, "POST", "/api/nope").status, 400);
  onLoop([&] { return service_.fail_reload = true; });
  auto reload = fetch(port_, "POST", "/api/reload");
  EXPECT_EQ(reload.status, 500);
  EXPECT_NE(reload.body.find("baton.toml:3: listeners: bad"), std::string::npos);
  EXPECT_TRUE(onLoop([&] { return service_.calls.empty(); }));
}

TEST_F(AdminServerTest, CrossOriginWritesAreRefused) {
  auto evil = fetch(port_, "POST", "/api/host/state?cluster=web&host=h1&state=drain",
                    "Origin: http://evil.example\r\n");
  EXPECT_EQ(evil.status, 403);
  EXPECT_NE(evil.body.find("\"error\":\"denied\""), std::string::npos);
  auto same = fetch(port_, "POST", "/api/host/state?cluster=web&host=h1&state=drain",
                    "Origin: http://127.0.0.1:" + std::to_string(port_) + "\r\n");
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(onLoop([&] { return service_.calls.size(); }), 1u);
}

TEST_F(TokenServerTest, WritesNeedTheBearerToken) {
  const std::string target = "/api/host/state?cluster=web&host=h1&state=maint";
  auto none = fetch(port_, "POST", target);
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(headerValue(none.head, "WWW-Authenticate").starts_with("Bearer")) << none.head;
  EXPECT_NE(none.body.find("\"error\":\"denied\""), std::string::npos);
  EXPECT_EQ(fetch(port_, "POST", target, "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(fetch(port_, "POST", "/api/reload", "Authorization: Basic czNjcmV0\r\n").status, 401);
  EXPECT_TRUE(onLoop([&] { return service_.calls.empty() && service_.reloads == 0; }));
  EXPECT_EQ(fetch(port_, "POST", target, "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(onLoop([&] { return service_.calls; }), (std::vector<std::string>{"state h1 maint"}));
  // Reads stay open (Prometheus, the page itself, zdd).
  EXPECT_EQ(fetch(port_, "GET", "/status").status, 200);
  EXPECT_EQ(fetch(port_, "GET", "/metrics").status, 200);
}

// ---- /api/command and /instance (several instances: batonctl --all) --------------------------

TEST(AdminHttpCommand, PostBodyIsOneLine) {
  EXPECT_EQ(admin_http::commandLine(true, "drain host web/h1\n", ""), "drain host web/h1");
  EXPECT_EQ(admin_http::commandLine(true, "drain host web/h1\r\n", ""), "drain host web/h1");
  EXPECT_EQ(admin_http::commandLine(true, "show info", ""), "show info");
  auto two = admin_http::commandLine(true, "drain host web/h1\nreload\n", "");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().word, "usage");
  EXPECT_EQ(admin_http::commandLine(true, "  \n", "").error().word, "usage");
}

TEST(AdminHttpCommand, GetRunsOnlyReadOnlyLines) {
  EXPECT_EQ(admin_http::commandLine(false, "", "line=show+hosts+web"), "show hosts web");
  EXPECT_EQ(admin_http::commandLine(false, "", "line=help"), "help");
  EXPECT_EQ(admin_http::commandLine(false, "", "line=drain+host+web%2Fh1").error().word, "usage");
  EXPECT_EQ(admin_http::commandLine(false, "", "line=showx").error().word, "usage");
  EXPECT_EQ(admin_http::commandLine(false, "", "other=1").error().word, "usage");
  EXPECT_EQ(admin_http::commandLine(false, "", "line=show%0Areload").error().word, "usage");
  EXPECT_TRUE(admin_http::readOnlyLine(" show info"));
  EXPECT_FALSE(admin_http::readOnlyLine("set host web/h1 state drain"));
}

HttpReply post(uint16_t port, const std::string& target, const std::string& body,
               const std::string& extra_headers = "") {
  const std::string req = "POST " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n" + extra_headers +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return roundTrip(port, req);
}

TEST_F(AdminServerTest, CommandRunsOneProtocolLine) {
  auto drained = post(port_, "/api/command", "drain host web/h1\n");
  EXPECT_EQ(drained.status, 200);
  EXPECT_EQ(headerValue(drained.head, "X-Baton-Result"), "ok");
  EXPECT_EQ(headerValue(drained.head, "X-Baton-Instance").size(), 8u);
  EXPECT_EQ(drained.body, "host web/h1 set to drain\n\n");
  auto missing = post(port_, "/api/command", "drain host web/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(headerValue(missing.head, "X-Baton-Result"), "notfound");
  EXPECT_EQ(missing.body, "notfound: no host nope\n\n");
  auto unknown = post(port_, "/api/command", "frobnicate");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(headerValue(unknown.head, "X-Baton-Result"), "unknown");
  EXPECT_EQ(post(port_, "/api/command", "reload\nreload\n").status, 400);
  EXPECT_EQ(onLoop([&] { return service_.calls; }), (std::vector<std::string>{"state h1 drain"}));
  EXPECT_EQ(onLoop([&] { return service_.reloads; }), 0);
  // show lines answer through the model, later (the status() round trip).
  auto shown = fetch(port_, "GET", "/api/command?line=show+clusters+json");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("\"name\":\"web\""), std::string::npos) << shown.body;
  EXPECT_EQ(fetch(port_, "GET", "/api/command?line=drain+host+web%2Fh1").status, 400);
  EXPECT_EQ(fetch(port_, "DELETE", "/api/command").status, 405);
}

TEST_F(AdminServerTest, InstanceIsSmallJson) {
  auto r = fetch(port_, "GET", "/instance");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(headerValue(r.head, "Content-Type"), "application/json");
  EXPECT_TRUE(r.body.starts_with("{\"instance_id\":")) << r.body;
  EXPECT_NE(r.body.find("\"marathon_state\":"), std::string::npos);
}

TEST_F(TokenServerTest, CommandPostsNeedTheTokenShowGetsDoNot) {
  auto none = post(port_, "/api/command", "drain host web/h1");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(post(port_, "/api/command", "drain host web/h1",
                 "Origin: http://evil.example\r\n"
                 "Authorization: Bearer s3cret\r\n")
                .status,
            403);
  EXPECT_TRUE(onLoop([&] { return service_.calls.empty(); }));
  auto ok = post(port_, "/api/command", "drain host web/h1", "Authorization: Bearer s3cret\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(fetch(port_, "GET", "/api/command?line=show+info").status, 200);
}

TEST(AdminServer, RefusesABadAddress) {
  core::EventLoop loop;
  FakeService service(loop);
  AdminHttpServer server(loop, service, "");
  EXPECT_FALSE(server.start("127.0.0.1").has_value());
  EXPECT_FALSE(server.start("127.0.0.1:99999").has_value());
}

TEST(AdminServer, AllAddressesForABarePort) {
  core::EventLoop loop;
  FakeService service(loop);
  AdminHttpServer server(loop, service, "");
  ASSERT_TRUE(server.start(":0").has_value());
  EXPECT_TRUE(server.boundAddress().starts_with("0.0.0.0:")) << server.boundAddress();
}

}  // namespace
}  // namespace baton::proxy

namespace baton::proxy {
namespace {

// The real collection path: a running worker copies its counters on its own thread and posts
// them back to the control loop; the builder turns them into the admin model with names,
// weights and discovery's drain flags.
TEST(CollectStats, FromARunningWorkerIntoTheModel) {
  auto config = std::make_shared<conf::ConfigSpec>();
  conf::ClusterSpec cluster;
  cluster.name = "shop_10000";
  cluster.origin = "marathon:/shop";
  conf::HostSpec a;
  a.address = "127.0.0.1:31000";
  a.name = "127_0_0_1_31000";
  conf::HostSpec b;
  b.address = "127.0.0.1:31001";
  b.weight = 3;
  b.draining = true;
  cluster.hosts = {a, b};
  config->clusters.push_back(cluster);
  auto snapshot = buildSnapshot(config, 1, nullptr, 1);
  ASSERT_TRUE(snapshot.has_value()) << snapshot.error().detail;

  core::EventLoop control;
  core::Reclaimer reclaimer;
  Worker worker(0, {}, *snapshot, reclaimer);
  worker.start();
  std::vector<WorkerReport> reports;
  worker.collectStats(control, [&](WorkerReport report) {
    reports.push_back(std::move(report));
    control.stop();
  });
  control.run();
  worker.drain([] {});
  worker.join();

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].generation, 1u);
  admin::EdgeStatus status;
  AdminOverrides overrides;
  overrides.setHostWeight("shop_10000", "127_0_0_1_31000", 5);
  fillEdgeStatus(**snapshot, overrides, {}, reports, status);
  ASSERT_EQ(status.clusters.size(), 1u);
  const admin::ClusterStatus& c = status.clusters[0];
  EXPECT_EQ(c.origin, "marathon:/shop");
  ASSERT_EQ(c.hosts.size(), 2u);
  EXPECT_EQ(c.hosts[0].name, "127_0_0_1_31000");
  EXPECT_EQ(c.hosts[0].configured_weight, 1u);
  EXPECT_TRUE(c.hosts[0].weight_overridden);
  EXPECT_EQ(c.hosts[1].name, "127.0.0.1:31001");
  EXPECT_EQ(c.hosts[1].weight, 3u);
  EXPECT_TRUE(c.hosts[1].discovery_draining);
  EXPECT_EQ(c.hosts[1].state, upstream::AdminState::Draining);
  EXPECT_EQ(c.hosts[1].admin_state, upstream::AdminState::Active);
  EXPECT_EQ(c.hosts[1].in_flight, 0u);
}

}  // namespace
}  // namespace baton::proxy
