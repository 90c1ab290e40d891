#include "proxy/admin/commands.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace baton::proxy::admin {
namespace {

using upstream::AdminState;
using namespace std::chrono_literals;

// Records every call; answers with what the test set. status() answers at once unless
// `defer_status` is set, then the test fires the stored callbacks itself (the real server
// answers after every worker reported back).
class FakeAdminService : public AdminService {
 public:
  struct Call {
    std::string what;
    std::string cluster;
    std::string host;
    std::optional<AdminState> state;
    uint32_t weight = 0;
    std::chrono::milliseconds timeout{0};
  };

  void status(std::function<void(EdgeStatus)> done) override {
    calls.push_back({"status"});
    if (defer_status) {
      pending_status.push_back(std::move(done));
    } else {
      done(model);
    }
  }
  CommandResult setHostState(std::string_view cluster, std::string_view host,
                             AdminState state) override {
    calls.push_back({"setHostState", std::string(cluster), std::string(host), state});
    return next;
  }
  CommandResult setClusterState(std::string_view cluster, AdminState state) override {
    calls.push_back({"setClusterState", std::string(cluster), "", state});
    return next;
  }
  CommandResult setHostWeight(std::string_view cluster, std::string_view host,
                              uint32_t weight) override {
    calls.push_back({"setHostWeight", std::string(cluster), std::string(host), {}, weight});
    return next;
  }
  void waitHostIdle(std::string_view cluster, std::string_view host,
                    std::chrono::milliseconds timeout,
                    std::function<void(CommandResult)> done) override {
    calls.push_back({"waitHostIdle", std::string(cluster), std::string(host), {}, 0, timeout});
    pending_wait.push_back(std::move(done));
  }
  CommandResult reload() override {
    calls.push_back({"reload"});
    return next;
  }
  void resync() override { calls.push_back({"resync"}); }
  CommandResult reloadCertificates() override {
    calls.push_back({"reloadCertificates"});
    return next;
  }
  std::string configText() override {
    calls.push_back({"configText"});
    return config;
  }
  CommandResult setLogLevel(std::string_view level) override {
    calls.push_back({"setLogLevel", std::string(level)});
    return next;
  }
  CommandResult setGroupCdnVersion(std::string_view group, std::string_view id) override {
    calls.push_back({"setGroupCdnVersion", std::string(group), std::string(id)});  // host = id
    return next;
  }

  EdgeStatus model;
  bool defer_status = false;
  std::vector<std::function<void(EdgeStatus)>> pending_status;
  std::vector<std::function<void(CommandResult)>> pending_wait;
  CommandResult next = std::string("ok");
  std::string config = "[server]\nworkers = 2\n\n[admin]\nsocket = \"/run/baton.sock\"\n";
  std::vector<Call> calls;
};

EdgeStatus sampleModel() {
  EdgeStatus s;
  s.version = "0.4.0";
  s.pid = 77;
  s.started_unix_ms = 1'000'000;
  s.now_unix_ms = 1'090'000;
  s.workers = 2;
  s.generation = 5;
  s.log_level = "info";
  ClusterStatus c;
  c.name = "shop_web";
  c.origin = "marathon:/shop/web";
  c.policy = "round_robin";
  HostStatus a;
  a.name = "10_0_6_25_31704";
  a.address = "10.0.6.25:31704";
  a.in_flight = 3;
  a.traffic.record(200, 1, 2, 2ms);
  HostStatus b;
  b.name = "10_0_6_26_31705";
  b.address = "10.0.6.26:31705";
  b.state = b.admin_state = AdminState::Draining;
  b.weight = 7;
  b.weight_overridden = true;
  c.hosts = {a, b};
  s.clusters.push_back(c);
  ClusterStatus api;
  api.name = "api";
  api.origin = "config";
  api.policy = "least_request";
  s.clusters.push_back(api);
  ListenerStatus l;
  l.name = "http";
  l.address = "127.0.0.1:8080";
  l.kind = "http";
  l.origin = "config";
  l.accepted = 12;
  l.active_connections = 2;
  s.listeners.push_back(l);
  RouteStatus r;
  r.id = "|shop.example|/";
  r.vhost = "shop.example";
  r.prefix = "/";
  r.cluster = "shop_web";
  s.routes.push_back(r);
  DeploymentGroupStatus g;
  g.group = "shop";
  g.old_app = "/shop-blue";
  g.new_app = "/shop-green";
  g.in_cutover = true;
  s.groups.push_back(g);
  RejectedRequest e;
  e.unix_ms = 1'764'113'140'123;
  e.listener = "http";
  e.client_ip = "192.0.2.7";
  e.status = 400;
  e.reason = "BadRequestTarget";
  e.excerpt = "GET /\\x00 HTTP/1.1";
  s.errors.push_back(e);
  return s;
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { service.model = sampleModel(); }

  // Runs one line; the answer must have come back exactly once (synchronously, or through the
  // fake's deferred callbacks by the time the test fires them).
  std::string run(std::string_view line) {
    int calls = 0;
    std::string answer;
    executeCommand(service, line, [&](std::string a) {
      ++calls;
      answer = std::move(a);
    });
    EXPECT_EQ(calls, 1) << line;
    checkFramed(answer);
    if (std::getenv("BATON_PRINT_ANSWERS") != nullptr) std::cout << "> " << line << "\n" << answer;
    return answer;
  }

  static void checkFramed(const std::string& answer) {
    ASSERT_GE(answer.size(), 2u);
    EXPECT_TRUE(answer.ends_with("\n\n")) << answer;
    EXPECT_EQ(answer.find("\n\n"), answer.size() - 2) << "empty line inside: " << answer;
    EXPECT_NE(answer[0], '\n') << answer;
  }

  static std::vector<std::string> lines(const std::string& answer) {
    std::vector<std::string> out;
    std::istringstream in(answer);
    std::string line;
    while (std::getline(in, line) && !line.empty()) out.push_back(line);
    return out;
  }

  FakeAdminService service;
};

// ---- help and unknown -----------------------------------------------------------------------

TEST_F(CommandsTest, HelpListsEveryCommand) {
  const std::string answer = run("help");
  EXPECT_EQ(answer, helpText() + "\n");
  for (const char* synopsis :
       {"show info [json]", "show stat [json]", "show clusters [json]",
        "show hosts <cluster> [json]", "show routes [json]", "show groups [json]", "show config",
        "show errors [json]", "set host <cluster>/<host> state ready|drain|maint",
        "set host <cluster>/<host> weight <1..256>",
        "set cluster <cluster> state ready|drain|maint", "drain host <cluster>/<host>",
        "drain cluster <cluster>", "wait host <cluster>/<host> [<seconds>]", "reload",
        "reload certs", "resync", "set log-level error|warn|info|debug"}) {
    EXPECT_NE(answer.find(std::string(synopsis) + "  "), std::string::npos) << synopsis;
  }
  EXPECT_EQ(run("help me"), "usage: help\n\n");
}

TEST_F(CommandsTest, UnknownCommands) {
  EXPECT_EQ(run("frobnicate"), "unknown: no command frobnicate (try help)\n\n");
  EXPECT_EQ(run("show nothing"), "unknown: no command show nothing (try help)\n\n");
  EXPECT_EQ(run("show"), "unknown: no command show (try help)\n\n");
  EXPECT_EQ(run("SHOW info"), "unknown: no command SHOW info (try help)\n\n");  // case matters
  EXPECT_EQ(run(""), "unknown: empty command (try help)\n\n");
  EXPECT_EQ(run(" \t "), "unknown: empty command (try help)\n\n");
  EXPECT_EQ(run("bad\x01word"), "unknown: no command bad\\x01word (try help)\n\n");
  EXPECT_TRUE(service.calls.empty());
}

TEST_F(CommandsTest, SpacesAndTabsSeparateWords) {
  EXPECT_TRUE(run("  show\t\tinfo  ").starts_with("version: 0.4.0\n"));
}

// ---- show -----------------------------------------------------------------------------------

TEST_F(CommandsTest, ShowInfo) {
  const auto out = lines(run("show info"));
  EXPECT_EQ(out.at(0), "version: 0.4.0");
  EXPECT_NE(std::find(out.begin(), out.end(), "pid: 77"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), "uptime_s: 90"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), "generation: 5"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), "hosts: 2"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), "marathon: disabled"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(),
                      "listener http: 127.0.0.1:8080 http config accepted=12 active=2"),
            out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), "connections: 0"), out.end());
  EXPECT_NE(std::find(out.begin(), out.end(),
                      "shed: connections worker_limit=0 process_limit=0 fd_reserve=0 overload=0 "
                      "draining=0 out_of_fds=0 requests=0 idle_closed=0 accept_pauses=0"),
            out.end());
  const std::string json = run("show info json");
  EXPECT_TRUE(json.starts_with(R"({"version":"0.4.0","pid":77,)")) << json;
  EXPECT_EQ(lines(json).size(), 1u);
  EXPECT_EQ(run("show info xml"), "usage: show info [json]\n\n");
}

TEST_F(CommandsTest, ShowInstances) {
  EXPECT_EQ(run("show instances"),
            "instances: off (no Marathon, or baton's own app id unknown)\n\n");
  InstancesView& v = service.model.instances;
  v.enabled = true;
  v.app_id = "/baton";
  v.lag_threshold_ms = 5000;
  InstanceStatus a;
  a.task_id = "baton.a";
  a.address = "10.0.0.1:9090";
  a.self = true;
  a.reachable = true;
  a.facts.instance_id = "0badf00d";
  a.facts.generation = 12;
  a.facts.marathon_state = "00112233aabbccdd";
  a.facts.marathon_sync_age_ms = 40;
  InstanceStatus b = a;
  b.task_id = "baton.b";
  b.self = false;
  b.lagging = true;
  b.lag_ms = 7000;
  b.facts.generation = 9;
  InstanceStatus c;
  c.task_id = "baton.c";
  c.address = "10.0.0.3:9090";
  c.error = "connect refused";
  v.peers = {a, b, c};
  const auto out = lines(run("show instances"));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].starts_with("task ")) << out[0];
  EXPECT_NE(out[0].find("generation"), std::string::npos);
  EXPECT_NE(out[1].find(" yes "), std::string::npos) << out[1];
  EXPECT_NE(out[1].find(" ok "), std::string::npos) << out[1];
  EXPECT_NE(out[2].find(" lagging "), std::string::npos) << out[2];
  EXPECT_NE(out[2].find(" 7000 "), std::string::npos) << out[2];
  EXPECT_NE(out[3].find(" unreachable "), std::string::npos) << out[3];
  EXPECT_TRUE(out[3].ends_with("connect refused")) << out[3];
  const std::string json = run("show instances json");
  EXPECT_TRUE(json.starts_with(R"({"instances":{"enabled":true,"app_id":"/baton",)")) << json;
  EXPECT_NE(json.find(R"("task_id":"baton.b","address":"10.0.0.1:9090","self":false,)"
                      R"("reachable":true,"error":"","polled_unix_ms":0,"lagging":true,)"
                      R"("lag_ms":7000,"facts":{"instance_id":"0badf00d")"),
            std::string::npos)
      << json;
}

TEST_F(CommandsTest, RefusalWord) {
  EXPECT_EQ(refusalWord("notfound: no cluster x\n\n"), "notfound");
  EXPECT_EQ(refusalWord("host web/h1 set to drain\n\n"), "");
  EXPECT_EQ(refusalWord("version: 0.4.0\npid: 1\n\n"), "");  // a key, not a refusal
  EXPECT_EQ(refusalWord("usage: show info [json]\n\n"), "usage");
}

TEST_F(CommandsTest, ShowStatIsTheCsv) {
  const auto out = lines(run("show stat"));
  ASSERT_EQ(out.size(), 1u + 2 + 1 + 1);  // header, 2 hosts + BACKEND, api's BACKEND
  EXPECT_TRUE(out[0].starts_with("# pxname,svname,qcur,qmax,scur,"));
  EXPECT_TRUE(out[2].starts_with("shop_web,10_0_6_26_31705,0,0,0,")) << out[2];
  EXPECT_NE(out[2].find(",DRAIN,7,"), std::string::npos) << out[2];
  EXPECT_TRUE(out[4].starts_with("api,BACKEND,")) << out[4];
  const std::string json = run("show stat json");
  EXPECT_TRUE(json.starts_with(R"({"stat":[{"pxname":"shop_web","svname":"10_0_6_25_31704",)"))
      << json;
  EXPECT_NE(json.find(R"("status":"DRAIN")"), std::string::npos);
}

TEST_F(CommandsTest, ShowClustersAlignedOneLinePerCluster) {
  const auto out = lines(run("show clusters"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].starts_with("cluster   origin"));
  // Columns line up: every row's second column starts where the header's does.
  const size_t column = out[0].find("origin");
  EXPECT_EQ(out[1].substr(0, column), "shop_web  ");
  EXPECT_EQ(out[1].substr(column, 18), "marathon:/shop/web");
  EXPECT_EQ(out[2].substr(0, column), "api       ");
  // shop_web: 2 hosts, 1 up (the other drains), 3 in flight.
  std::istringstream row(out[1]);
  std::vector<std::string> cells;
  for (std::string c; row >> c;) cells.push_back(c);
  ASSERT_GE(cells.size(), 7u);
  EXPECT_EQ(cells[3], "ready");
  EXPECT_EQ(cells[4], "2");
  EXPECT_EQ(cells[5], "1");
  EXPECT_EQ(cells[6], "3");
  const std::string json = run("show clusters json");
  EXPECT_TRUE(json.starts_with(R"({"clusters":[{"name":"shop_web",)")) << json;
  EXPECT_NE(json.find(R"("hosts":[{"name":"10_0_6_25_31704")"), std::string::npos);
}

TEST_F(CommandsTest, ShowHosts) {
  const auto out = lines(run("show hosts shop_web"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].starts_with("host "));
  EXPECT_TRUE(out[1].starts_with("10_0_6_25_31704  10.0.6.25:31704  UP ")) << out[1];
  EXPECT_NE(out[2].find(" DRAIN "), std::string::npos) << out[2];
  EXPECT_NE(out[2].find(" 7*(1) "), std::string::npos) << out[2];
  EXPECT_EQ(lines(run("show hosts api")).size(), 1u);  // just the header
  const std::string json = run("show hosts shop_web json");
  EXPECT_TRUE(json.starts_with(
      R"({"cluster":"shop_web","health_panic":false,"hosts":[{"name":"10_0_6_25_31704")"))
      << json;
  EXPECT_EQ(run("show hosts nosuch"), "notfound: no cluster nosuch\n\n");
  EXPECT_EQ(run("show hosts"), "usage: show hosts <cluster> [json]\n\n");
  EXPECT_EQ(run("show hosts shop_web yaml"), "usage: show hosts <cluster> [json]\n\n");
  EXPECT_EQ(run("show hosts a b c"), "usage: show hosts <cluster> [json]\n\n");
}

TEST_F(CommandsTest, ShowHostsHealthColumns) {
  HostStatus& h = service.model.clusters[0].hosts[1];
  h.health = "unhealthy";
  h.health_consecutive = 3;
  h.health_detail = "connect refused";
  service.model.clusters[0].health_panic = true;
  const auto out = lines(run("show hosts shop_web"));
  ASSERT_EQ(out.size(), 3u);
  const auto words = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  const auto header = words(out[0]);
  ASSERT_GE(header.size(), 7u);
  EXPECT_EQ(header[5], "health");
  EXPECT_EQ(header[6], "last_check");
  EXPECT_EQ(words(out[1])[5], "unchecked");
  EXPECT_EQ(words(out[1])[6], "-");
  EXPECT_EQ(words(out[2])[5], "unhealthy");
  EXPECT_EQ(words(out[2])[6], "3x:connect_refused");
  EXPECT_EQ(words(out[2]).size(), header.size()) << out[2];
  const std::string json = run("show hosts shop_web json");
  EXPECT_NE(json.find(R"("health_panic":true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("health":"unhealthy","health_consecutive":3,)"
                      R"("health_detail":"connect refused")"),
            std::string::npos)
      << json;
}

TEST_F(CommandsTest, SetGroupCdnVersion) {
  EXPECT_EQ(run("set group shop cdn-version v2"), "ok\n\n");
  ASSERT_EQ(service.calls.size(), 1u);
  EXPECT_EQ(service.calls[0].what, "setGroupCdnVersion");
  EXPECT_EQ(service.calls[0].cluster, "shop");
  EXPECT_EQ(service.calls[0].host, "v2");
  EXPECT_EQ(run("set group shop cdn v2"), "usage: set group <group> cdn-version <id>\n\n");
  service.next = commandError("notfound", "no pinned group named x");
  EXPECT_EQ(run("set group x cdn-version v1"), "notfound: no pinned group named x\n\n");
}

TEST_F(CommandsTest, ShowGroupsListsPinning) {
  PinGroupStatus pin;
  pin.group = "shop";
  pin.cluster = "shop_10000";
  pin.mode = "assets";
  pin.in_cutover = true;
  pin.active = true;
  pin.cdn_version = "v1";
  pin.versions = {{"v1", "/shop-blue", "blue", 0, 2}, {"v2", "/shop-green", "green", 3, 3}};
  pin.retries = 4;
  service.model.groups[0].pinning.push_back(pin);
  const std::string text = run("show groups");
  EXPECT_NE(text.find("asset pinning"), std::string::npos) << text;
  EXPECT_NE(text.find("shop   shop_10000  assets  cutover  v1           v1(0/2),v2(3/3)"),
            std::string::npos)
      << text;
  const std::string json = run("show groups json");
  EXPECT_NE(json.find(R"("pinning":[{"cluster":"shop_10000","mode":"assets","in_cutover":true,)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"id":"v2","app_id":"/shop-green","colour":"green","serving":3,)"),
            std::string::npos);
}

TEST_F(CommandsTest, ShowRoutesGroupsErrors) {
  auto routes = lines(run("show routes"));
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_TRUE(routes[1].starts_with("-      shop.example  /       shop_web")) << routes[1];
  EXPECT_TRUE(run("show routes json").starts_with(R"({"routes":[{"id":"|shop.example|/",)"));
  auto groups = lines(run("show groups"));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_TRUE(groups[1].starts_with("shop   /shop-blue  /shop-green")) << groups[1];
  EXPECT_TRUE(groups[1].ends_with("yes"));
  EXPECT_TRUE(run("show groups json").starts_with(R"({"groups":[{"group":"shop",)"));
  auto errors = lines(run("show errors"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(
      errors[1].starts_with("2025-11-25T23:25:40.123Z  http      192.0.2.7  400     "
                            "BadRequestTarget"))
      << errors[1];
  EXPECT_TRUE(errors[1].ends_with("BadRequestTarget  GET /\\x00 HTTP/1.1")) << errors[1];
  EXPECT_TRUE(run("show errors json").starts_with(R"({"errors":[{"unix_ms":1764113140123,)"));
}

TEST_F(CommandsTest, EmptyModelStillAnswersHeaders) {
  service.model = EdgeStatus{};
  EXPECT_EQ(lines(run("show clusters")).size(), 1u);
  EXPECT_EQ(lines(run("show stat")).size(), 1u);
  EXPECT_EQ(run("show errors json"), "{\"errors\":[]}\n\n");
}

TEST_F(CommandsTest, ShowConfigDropsEmptyLines) {
  EXPECT_EQ(run("show config"), "[server]\nworkers = 2\n[admin]\nsocket = \"/run/baton.sock\"\n\n");
  service.config = "\n\n";
  std::string answer;
  executeCommand(service, "show config", [&](std::string a) { answer = std::move(a); });
  EXPECT_EQ(answer, "\n");  // no content: the terminating empty line alone
  EXPECT_EQ(run("show config json"), "usage: show config\n\n");
}

TEST_F(CommandsTest, ShowAnswersWhenTheStatusArrives) {
  service.defer_status = true;
  int calls = 0;
  std::string answer;
  executeCommand(service, "show hosts shop_web", [&](std::string a) {
    ++calls;
    answer = std::move(a);
  });
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(service.pending_status.size(), 1u);
  service.pending_status[0](sampleModel());  // the line's storage is gone: nothing dangles
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(answer.starts_with("host "));
}

// ---- set / drain ----------------------------------------------------------------------------

TEST_F(CommandsTest, SetHostState) {
  service.next = std::string("host shop_web/10_0_6_25_31704 set to drain");
  EXPECT_EQ(run("set host shop_web/10_0_6_25_31704 state drain"),
            "host shop_web/10_0_6_25_31704 set to drain\n\n");
  ASSERT_EQ(service.calls.size(), 1u);
  EXPECT_EQ(service.calls[0].what, "setHostState");
  EXPECT_EQ(service.calls[0].cluster, "shop_web");
  EXPECT_EQ(service.calls[0].host, "10_0_6_25_31704");
  EXPECT_EQ(service.calls[0].state, AdminState::Draining);
  run("set host shop_web/10.0.6.25:31704 state maint");
  EXPECT_EQ(service.calls[1].host, "10.0.6.25:31704");
  EXPECT_EQ(service.calls[1].state, AdminState::Maintenance);
  run("set host a/b/c state ready");  // the cluster ends at the first '/'
  EXPECT_EQ(service.calls[2].cluster, "a");
  EXPECT_EQ(service.calls[2].host, "b/c");
  EXPECT_EQ(service.calls[2].state, AdminState::Active);
}

TEST_F(CommandsTest, SetHostRefusals) {
  const std::string usage =
      "usage: set host <cluster>/<host> state ready|drain|maint\n"
      "usage: set host <cluster>/<host> weight <1..256>\n\n";
  EXPECT_EQ(run("set host shop_web state drain"), usage);
  EXPECT_EQ(run("set host /h state drain"), usage);
  EXPECT_EQ(run("set host c/ state drain"), usage);
  EXPECT_EQ(run("set host c/h state"), usage);
  EXPECT_EQ(run("set host c/h colour red"), usage);
  EXPECT_EQ(run("set host c/h state drain now"), usage);
  EXPECT_EQ(run("set host c/h state off"),
            "invalid: state off: expected ready, drain or maint\n\n");
  EXPECT_EQ(run("set host c/h weight 0"), "invalid: weight 0: expected 1..256\n\n");
  EXPECT_EQ(run("set host c/h weight 257"), "invalid: weight 257: expected 1..256\n\n");
  EXPECT_EQ(run("set host c/h weight -1"), usage);
  EXPECT_EQ(run("set host c/h weight 1x"), usage);
  EXPECT_EQ(run("set host c/h weight 99999999999999999999"), usage);
  EXPECT_TRUE(service.calls.empty());
}

TEST_F(CommandsTest, SetHostWeight) {
  service.next = std::string("host c/h weight 256");
  EXPECT_EQ(run("set host c/h weight 256"), "host c/h weight 256\n\n");
  ASSERT_EQ(service.calls.size(), 1u);
  EXPECT_EQ(service.calls[0].what, "setHostWeight");
  EXPECT_EQ(service.calls[0].weight, 256u);
}

TEST_F(CommandsTest, ServiceErrorsKeepTheirWord) {
  for (const char* word : {"notfound", "invalid", "denied", "failed"}) {
    service.next = commandError(word, "because");
    EXPECT_EQ(run("set host c/h state ready"), std::string(word) + ": because\n\n");
  }
  service.next = commandError("notfound", "no host h in cluster c");
  EXPECT_EQ(run("drain host c/h"), "notfound: no host h in cluster c\n\n");
}

TEST_F(CommandsTest, ClusterStateAndDrains) {
  run("set cluster shop_web state maint");
  run("drain cluster shop_web");
  run("drain host shop_web/10_0_6_25_31704");
  ASSERT_EQ(service.calls.size(), 3u);
  EXPECT_EQ(service.calls[0].what, "setClusterState");
  EXPECT_EQ(service.calls[0].state, AdminState::Maintenance);
  EXPECT_EQ(service.calls[1].what, "setClusterState");
  EXPECT_EQ(service.calls[1].state, AdminState::Draining);
  EXPECT_EQ(service.calls[2].what, "setHostState");
  EXPECT_EQ(service.calls[2].state, AdminState::Draining);
  EXPECT_EQ(run("set cluster shop_web weight 3"),
            "usage: set cluster <cluster> state ready|drain|maint\n\n");
  EXPECT_EQ(run("set cluster shop_web state up"),
            "invalid: state up: expected ready, drain or maint\n\n");
  EXPECT_EQ(run("drain cluster"), "usage: drain cluster <cluster>\n\n");
  EXPECT_EQ(run("drain host shop_web"), "usage: drain host <cluster>/<host>\n\n");
  EXPECT_EQ(run("drain"), "unknown: no command drain (try help)\n\n");
  EXPECT_EQ(service.calls.size(), 3u);
}

// ---- wait -----------------------------------------------------------------------------------

TEST_F(CommandsTest, WaitHostAnswersWhenIdleOrTimesOut) {
  int calls = 0;
  std::string answer;
  auto done = [&](std::string a) {
    ++calls;
    answer = std::move(a);
  };
  executeCommand(service, "wait host shop_web/10_0_6_25_31704 5", done);
  executeCommand(service, "wait host shop_web/10_0_6_26_31705", done);
  ASSERT_EQ(service.pending_wait.size(), 2u);
  EXPECT_EQ(service.calls[0].timeout, 5s);
  EXPECT_EQ(service.calls[1].timeout, 60s);  // the default
  EXPECT_EQ(service.calls[1].host, "10_0_6_26_31705");
  EXPECT_EQ(calls, 0);
  service.pending_wait[0](std::string("host shop_web/10_0_6_25_31704 idle"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(answer, "host shop_web/10_0_6_25_31704 idle\n\n");
  service.pending_wait[1](commandError("timeout", "2 requests still in flight after 60 s"));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(answer, "timeout: 2 requests still in flight after 60 s\n\n");
}

TEST_F(CommandsTest, WaitHostRefusals) {
  const std::string usage = "usage: wait host <cluster>/<host> [<seconds>]\n\n";
  EXPECT_EQ(run("wait host c/h soon"), usage);
  EXPECT_EQ(run("wait host c/h 1.5"), usage);
  EXPECT_EQ(run("wait host c 5"), usage);
  EXPECT_EQ(run("wait host"), usage);
  EXPECT_EQ(run("wait host c/h 5 6"), usage);
  EXPECT_EQ(run("wait host c/h 86401"), "invalid: wait 86401 s: at most 86400\n\n");
  EXPECT_TRUE(service.calls.empty());
}

// ---- reload, resync, log level --------------------------------------------------------------

TEST_F(CommandsTest, ReloadPassesTheLoadersMessage) {
  service.next = std::string("reloaded: generation 6");
  EXPECT_EQ(run("reload"), "reloaded: generation 6\n\n");
  service.next = commandError("failed", "baton.toml:3: cluster.x.weight: out of range\n\n");
  EXPECT_EQ(run("reload"), "failed: baton.toml:3: cluster.x.weight: out of range\n\n");
  service.next = commandError("failed", "a.toml:1: x: bad\n\nb.toml:2: y: bad");
  EXPECT_EQ(run("reload"), "failed: a.toml:1: x: bad\nb.toml:2: y: bad\n\n");
  EXPECT_EQ(run("reload now"), "usage: reload\n\n");
}

TEST_F(CommandsTest, ReloadCertsIsItsOwnCommand) {
  service.next = std::string("certificates reloaded: 2 served");
  EXPECT_EQ(run("reload certs"), "certificates reloaded: 2 served\n\n");
  ASSERT_EQ(service.calls.size(), 1u);
  EXPECT_EQ(service.calls[0].what, "reloadCertificates");  // never the whole-config reload
  EXPECT_EQ(run("reload certs now"), "usage: reload certs\n\n");
}

TEST_F(CommandsTest, ResyncAndLogLevel) {
  EXPECT_EQ(run("resync"), "resync requested\n\n");
  EXPECT_EQ(service.calls.back().what, "resync");
  service.next = std::string("log level debug");
  EXPECT_EQ(run("set log-level debug"), "log level debug\n\n");
  EXPECT_EQ(service.calls.back().cluster, "debug");
  service.next = commandError("invalid", "log level loud: expected error, warn, info or debug");
  EXPECT_EQ(run("set log-level loud"),
            "invalid: log level loud: expected error, warn, info or debug\n\n");
  EXPECT_EQ(run("set log-level"), "usage: set log-level error|warn|info|debug\n\n");
}

// ---- bad input never crashes ------------------------------------------------------------------

TEST_F(CommandsTest, RandomLinesAlwaysGetOneFramedAnswer) {
  const std::vector<std::string> words = {
      "help",     "show",       "info",      "stat",    "clusters",
      "hosts",    "routes",     "groups",    "config",  "errors",
      "json",     "set",        "host",      "cluster", "state",
      "weight",   "drain",      "ready",     "maint",   "wait",
      "reload",   "resync",     "log-level", "debug",   "shop_web/10_0_6_25_31704",
      "shop_web", "c/h",        "/",         "0",       "1",
      "256",      "4294967296", "-",         ""};
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    const int n = static_cast<int>(rng() % 7);
    for (int k = 0; k < n; ++k) {
      if (rng() % 5 == 0) {
        const int bytes = static_cast<int>(rng() % 6);
        for (int b = 0; b < bytes; ++b) line += static_cast<char>(rng() % 256);
      } else {
        line += words[rng() % words.size()];
      }
      line += (rng() % 4 == 0) ? '\t' : ' ';
    }
    service.next = (rng() % 2) ? CommandResult(std::string("ok\n\nmore"))
                               : commandError("failed", std::string("x\n\n\r\ny"));
    service.pending_wait.clear();
    int calls = 0;
    std::string answer;
    executeCommand(service, line, [&](std::string a) {
      ++calls;
      answer = std::move(a);
    });
    for (auto& wait : service.pending_wait) wait(std::string("idle"));
    ASSERT_EQ(calls, 1) << ::testing::PrintToString(line);
    checkFramed(answer);
  }
}

TEST_F(CommandsTest, RandomBytesAlwaysGetOneFramedAnswer) {
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    std::string line(rng() % 64, '\0');
    for (char& c : line) c = static_cast<char>(rng() % 256);
    if (i % 3 == 0) line = "set host " + line;  // reach the argument parsers too
    if (i % 3 == 1) line = "show hosts " + line;
    int calls = 0;
    std::string answer;
    executeCommand(service, line, [&](std::string a) {
      ++calls;
      answer = std::move(a);
    });
    ASSERT_EQ(calls, 1) << ::testing::PrintToString(line);
    checkFramed(answer);
  }
}

}  // namespace
}  // namespace baton::proxy::admin
