#include "proxy/admin_http.h"

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

TEST(StatsCsv, HeaderFollowsHaproxyOrderAndRowsParseLikeZdd) {
  std::vector<HostLoadRow> rows = {
      {"shop_10000", "10_0_0_1_31000", 2, false, 3, 1},
      {"shop_10000", "10_0_0_2_31001", 1, true, 0, 0},
      {"api", "127.0.0.1:9000", 1, false, 0, 0},
  };
  std::vector<std::string> header;
  auto parsed = parseLikeZdd(renderStatsCsv(rows), &header);
  ASSERT_GE(header.size(), 18u);
  const std::vector<std::string> first18 = {
      "pxname", "svname", "qcur",  "qmax", "scur", "smax",  "slim",  "stot",   "bin",
      "bout",   "dreq",   "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status"};
  EXPECT_EQ(std::vector<std::string>(header.begin(), header.begin() + 18), first18);
  EXPECT_EQ(header[18], "weight");

  ASSERT_EQ(parsed.size(), 5u);  // 2 servers + BACKEND, 1 server + BACKEND
  EXPECT_EQ(column(header, parsed[0], "pxname"), "shop_10000");
  EXPECT_EQ(column(header, parsed[0], "svname"), "10_0_0_1_31000");
  EXPECT_EQ(column(header, parsed[0], "status"), "UP");
  EXPECT_EQ(column(header, parsed[0], "scur"), "3");
  EXPECT_EQ(column(header, parsed[0], "qcur"), "0");
  EXPECT_EQ(column(header, parsed[0], "weight"), "2");
  EXPECT_EQ(column(header, parsed[0], "type"), "2");
  EXPECT_EQ(column(header, parsed[1], "status"), "MAINT");
  EXPECT_EQ(column(header, parsed[1], "scur"), "0");
  EXPECT_EQ(column(header, parsed[2], "svname"), "BACKEND");
  EXPECT_EQ(column(header, parsed[2], "scur"), "3");
  EXPECT_EQ(column(header, parsed[2], "act"), "1");
  EXPECT_EQ(column(header, parsed[2], "type"), "1");
  EXPECT_EQ(column(header, parsed[3], "pxname"), "api");
  EXPECT_EQ(column(header, parsed[4], "svname"), "BACKEND");
  EXPECT_EQ(column(header, parsed[4], "iid"), "2");
}

TEST(StatsCsv, AllHostsDrainingMakesTheBackendDown) {
  std::vector<std::string> header;
  auto parsed = parseLikeZdd(renderStatsCsv({{"c", "h", 1, true, 0, 0}}), &header);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(column(header, parsed[1], "status"), "DOWN");
  EXPECT_EQ(column(header, parsed[1], "weight"), "0");
}

TEST(StatsCsv, NoClustersIsJustTheHeader) {
  std::string csv = renderStatsCsv({});
  EXPECT_TRUE(csv.starts_with("# pxname,svname,"));
  EXPECT_EQ(csv.find('\n'), csv.size() - 1);
}

TEST(HostLoads, MergeSumsSameHostAndKeepsOrder) {
  std::vector<HostLoadRow> into = {{"a", "h1", 1, false, 1, 0}, {"a", "h2", 1, false, 0, 0}};
  mergeHostLoads(into, {{"a", "h2", 1, true, 2, 1}, {"b", "x", 1, false, 5, 5}});
  ASSERT_EQ(into.size(), 3u);
  EXPECT_EQ(into[1].outstanding, 2u);
  EXPECT_TRUE(into[1].draining);
  EXPECT_EQ(into[1].tcp_connections, 1u);
  EXPECT_EQ(into[2].cluster, "b");
}

// A provider answering hostLoads later (as the real one does, after the workers reply).
struct FakeProvider : AdminProvider {
  explicit FakeProvider(core::EventLoop& loop) : loop(loop) {}
  void hostLoads(std::function<void(std::vector<HostLoadRow>)> done) override {
    loop.post([this, done = std::move(done)] { done(rows); });
  }
  std::string effectiveConfigText() override { return "listener x\n"; }
  void requestResync() override { ++resyncs; }
  void requestReload() override { ++reloads; }
  core::EventLoop& loop;
  std::vector<HostLoadRow> rows = {{"web", "h1", 1, false, 4, 0}};
  int resyncs = 0;
  int reloads = 0;
};

struct HttpReply {
  int status = 0;
  std::string head;
  std::string body;
};

HttpReply fetch(uint16_t port, const std::string& method, const std::string& target) {
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
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
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

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<AdminHttpServer>(loop_, provider_);
    auto started = server_->start("127.0.0.1:0");
    ASSERT_TRUE(started.has_value()) << started.error().detail;
    const std::string& bound = server_->boundAddress();
    ASSERT_TRUE(bound.starts_with("127.0.0.1:")) << bound;
    port_ = static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    loop_.post([this] { loop_.stop(); });
    thread_.join();
    server_.reset();
  }
  core::EventLoop loop_;
  FakeProvider provider_{loop_};
  std::unique_ptr<AdminHttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(AdminServerTest, HealthCheck) {
  auto r = fetch(port_, "GET", "/_haproxy_health_check");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
}

TEST_F(AdminServerTest, StatsCsvBothSpellings) {
  for (const char* target : {"/haproxy?stats;csv", "/haproxy?stats"}) {
    auto r = fetch(port_, "GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_TRUE(r.body.starts_with("# pxname,svname,")) << r.body;
    EXPECT_NE(r.body.find("\nweb,h1,0,0,4,"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\nweb,BACKEND,0,0,4,"), std::string::npos) << r.body;
  }
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
  // The counters are written on the loop thread; read them there.
  std::promise<std::pair<int, int>> seen;
  loop_.post([&] { seen.set_value({provider_.resyncs, provider_.reloads}); });
  EXPECT_EQ(seen.get_future().get(), std::make_pair(1, 2));
}

TEST_F(AdminServerTest, UnknownPathIs404AndOtherMethods405) {
  EXPECT_EQ(fetch(port_, "GET", "/nope").status, 404);
  EXPECT_EQ(fetch(port_, "GET", "/haproxy?other").status, 404);
  auto post = fetch(port_, "POST", "/_mlb_signal/hup");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos) << post.head;
  EXPECT_EQ(fetch(port_, "DELETE", "/_haproxy_health_check").status, 405);
}

TEST_F(AdminServerTest, HeadHasNoBody) {
  auto r = fetch(port_, "HEAD", "/_haproxy_health_check");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_NE(r.head.find("Content-Length: 3"), std::string::npos) << r.head;  // as GET's "OK\n"
}

TEST(AdminServer, RefusesABadAddress) {
  core::EventLoop loop;
  FakeProvider provider(loop);
  AdminHttpServer server(loop, provider);
  EXPECT_FALSE(server.start("127.0.0.1").has_value());
  EXPECT_FALSE(server.start("127.0.0.1:99999").has_value());
}

TEST(AdminServer, AllAddressesForABarePort) {
  core::EventLoop loop;
  FakeProvider provider(loop);
  AdminHttpServer server(loop, provider);
  ASSERT_TRUE(server.start(":0").has_value());
  EXPECT_TRUE(server.boundAddress().starts_with("0.0.0.0:")) << server.boundAddress();
}

}  // namespace
}  // namespace baton::proxy

namespace baton::proxy {
namespace {

// The real collection path: a running worker reads its snapshot and balancers on its own
// thread and posts the rows back to the control loop.
TEST(GatherHostLoads, RowsFromARunningWorkerWithNamesAndDrainFlags) {
  auto config = std::make_shared<conf::ConfigSpec>();
  conf::ClusterSpec cluster;
  cluster.name = "shop_10000";
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
  Worker worker(0, {}, *snapshot);
  worker.start();
  std::vector<HostLoadRow> got;
  gatherHostLoads(control, {&worker}, [&](std::vector<HostLoadRow> rows) {
    got = std::move(rows);
    control.stop();
  });
  control.run();
  worker.drain([] {});
  worker.join();

  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (HostLoadRow{"shop_10000", "127_0_0_1_31000", 1, false, 0, 0}));
  EXPECT_EQ(got[1], (HostLoadRow{"shop_10000", "127.0.0.1:31001", 3, true, 0, 0}));
}

TEST(GatherHostLoads, NoWorkersAnswersEmpty) {
  core::EventLoop control;
  bool called = false;
  gatherHostLoads(control, {}, [&](std::vector<HostLoadRow> rows) {
    called = rows.empty();
    control.stop();
  });
  control.run();
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace baton::proxy
