// AppsParser::parseShared + translate with a TranslateCache (the discovery manager's resync
// path): over a sequence of documents, the output is exactly a translation from scratch, an
// unchanged app is the same App object, and its cluster keeps the very same host list.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "discovery/model/parse_apps.h"
#include "discovery/model/task_filter.h"
#include "discovery/model/translate.h"

namespace baton::discovery {
namespace {

// One app of a test document; the fields the sequence below changes.
struct AppDoc {
  int n = 0;
  int generation = 0;  // part of every task id: a new generation replaces every task
  int tasks = 3;
  std::string results = R"([{"alive":true,"lastSuccess":"t0"}])";  // "" = no results
  std::string vhost;                                               // "" = appN.example.com
  bool container = false;  // IP-per-task without service ports: the port assigner's ports
  int port_shift = 0;      // added to both service ports (10000 + n, 20000 + n)
  int check_index = 0;     // the port index of the HTTP health check (1: port 1 is http too)
};

std::string appJson(const AppDoc& a) {
  const std::string n = std::to_string(a.n);
  const std::string id = "/team/app" + n;
  std::string out = R"({"id":")" + id + R"(","instances":)" + std::to_string(a.tasks) +
                    R"(,"labels":{"HAPROXY_GROUP":"external","HAPROXY_0_VHOST":")" +
                    (a.vhost.empty() ? "app" + n + ".example.com" : a.vhost) + R"("},)";
  if (a.container) {
    out += R"("networks":[{"mode":"container","name":"dcos"}],)"
           R"("container":{"portMappings":[{"containerPort":8080}]},)";
  } else {
    out += R"("networks":[{"mode":"host"}],"portDefinitions":[{"port":)" +
           std::to_string(10000 + a.n + a.port_shift) + R"(},{"port":)" +
           std::to_string(20000 + a.n + a.port_shift) + "}],";
  }
  out += R"("healthChecks":[{"protocol":"HTTP","path":"/health","portIndex":)" +
         std::to_string(a.check_index) + R"(}],"tasks":[)";
  for (int t = 0; t < a.tasks; ++t) {
    if (t > 0) out += ',';
    out += R"({"id":"app)" + n + "." + std::to_string(a.generation) + "-" + std::to_string(t) +
           R"(","appId":")" + id + R"(","host":"10.0.)" + n + "." + std::to_string(t + 1) +
           R"(","state":"TASK_RUNNING","ports":[)" + std::to_string(31000 + t) + "," +
           std::to_string(32000 + t) + "]";
    if (a.container)
      out += R"(,"ipAddresses":[{"ipAddress":"9.0.)" + n + "." + std::to_string(t + 1) + R"("}])";
    if (!a.results.empty()) out += R"(,"healthCheckResults":)" + a.results;
    out += "}";
  }
  return out + "]}";
}

std::string document(const std::vector<AppDoc>& apps) {
  std::string out = R"({"apps":[)";
  for (size_t i = 0; i < apps.size(); ++i) {
    if (i > 0) out += ',';
    out += appJson(apps[i]);
  }
  return out + "]}";
}

// One pipeline as the discovery manager runs it: health verdicts and drain sets kept across
// documents; with `cached`, parseShared + TranslateCache, else parseApps + no cache.
class Pipeline {
 public:
  explicit Pipeline(bool cached) : cached_(cached) {
    options_.groups = {"external"};
    options_.domain = "ns.example.com";
  }

  conf::DiscoveredSpec run(std::string doc) {
    TranslateContext context;
    context.resolve = [](std::string_view host) { return std::optional<std::string>(host); };
    context.include = [this](const App& app, const Task& task) {
      return isRoutable(task.state) && health_.passes(app, task);
    };
    context.draining = &draining;
    context.deployment_drained = &deployment_drained_;
    SharedApps next;
    if (!cached_) {
      auto apps = parseApps(doc);
      EXPECT_TRUE(apps.has_value()) << apps.error().detail;
      for (App& app : *apps) next.push_back(std::make_shared<const App>(std::move(app)));
    } else {
      auto apps = parser_.parseShared(doc);
      EXPECT_TRUE(apps.has_value()) << apps.error().detail;
      next = std::move(*apps);
      context.cache = &cache_;
    }
    health_.carryOver(apps_, next);
    apps_ = std::move(next);
    return translate(apps_, options_, context);
  }

  AppsParser& parser() { return parser_; }
  TranslateOptions& options() { return options_; }
  const SharedApps& apps() const { return apps_; }
  const TranslateCache& cache() const { return cache_; }
  std::unordered_set<std::string> draining;

 private:
  bool cached_;
  TranslateOptions options_;
  AppsParser parser_;
  HealthVerdicts health_;
  TranslateCache cache_;
  std::unordered_set<std::string> deployment_drained_;
  SharedApps apps_;
};

const conf::ClusterSpec& clusterNamed(const conf::DiscoveredSpec& spec, const std::string& name) {
  for (const auto& c : spec.clusters) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no cluster " << name;
  static const conf::ClusterSpec none;
  return none;
}

TEST(IncrementalTranslate, SameOutputAsFromScratchAndUnchangedAppsReused) {
  std::vector<AppDoc> apps;
  for (int n = 0; n < 6; ++n) apps.push_back(AppDoc{n});
  apps[5].container = true;
  Pipeline incremental(true);
  Pipeline scratch(false);

  std::vector<std::shared_ptr<const App>> before;
  conf::DiscoveredSpec previous;
  auto step = [&](const char* what) {
    SCOPED_TRACE(what);
    before = incremental.apps();
    const std::string doc = document(apps);
    conf::DiscoveredSpec got = incremental.run(doc);
    EXPECT_EQ(got, scratch.run(doc));
    auto fresh = parseApps(doc);
    ASSERT_TRUE(fresh.has_value());
    ASSERT_EQ(incremental.apps().size(), fresh->size());
    for (size_t i = 0; i < fresh->size(); ++i) EXPECT_EQ(*incremental.apps()[i], (*fresh)[i]);
    previous = std::move(got);
  };
  // The same object for app `i` as in the previous document, and the same host list for its
  // clusters (both ports).
  auto reused = [&](size_t i, const conf::DiscoveredSpec& earlier) {
    EXPECT_EQ(incremental.apps()[i], before[i]) << "app " << i;
    for (int port : {10000, 20000}) {
      const std::string name = "team_app" + std::to_string(i) + "_" + std::to_string(port + i);
      EXPECT_EQ(clusterNamed(previous, name).hosts.shared(),
                clusterNamed(earlier, name).hosts.shared())
          << name;
    }
  };

  step("first document");
  conf::DiscoveredSpec first = previous;
  EXPECT_FALSE(clusterNamed(first, "team_app1_10001").hosts.empty());

  apps[1].results = R"([{"alive":true,"lastSuccess":"t1"}])";  // a check ran: nothing we read
  step("lastSuccess changed");
  for (size_t i = 0; i < 5; ++i) reused(i, first);
  EXPECT_NE(incremental.apps()[5], before[5]);  // assigned service ports: always parsed anew

  conf::DiscoveredSpec earlier = previous;
  apps[2].generation = 1;  // redeployed: every task replaced
  step("one app redeployed");
  reused(0, earlier);
  reused(1, earlier);
  EXPECT_NE(incremental.apps()[2], before[2]);
  EXPECT_NE(clusterNamed(previous, "team_app2_10002").hosts.shared(),
            clusterNamed(earlier, "team_app2_10002").hosts.shared());

  apps[3].results = "";  // leader failover: results missing, the cached verdicts apply
  step("results missing");
  apps[3].results = R"([{"alive":false}])";
  step("unhealthy");
  EXPECT_TRUE(clusterNamed(previous, "team_app3_10003").hosts.empty());
  apps[3].results = "";  // missing again: the last verdict (unhealthy) stays
  step("results missing after unhealthy");
  EXPECT_TRUE(clusterNamed(previous, "team_app3_10003").hosts.empty());

  earlier = previous;
  incremental.draining.insert("app0.0-1");  // fast path: a task is being killed
  scratch.draining.insert("app0.0-1");
  step("task draining");
  reused(1, earlier);
  const auto& drained = clusterNamed(previous, "team_app0_10000");
  ASSERT_EQ(drained.hosts.size(), 3u);
  EXPECT_TRUE(drained.hosts[1].draining);

  apps[4].vhost = "app1.example.com";  // a collision with app 1's vhost
  apps.erase(apps.begin());            // app 0 gone
  apps.push_back(AppDoc{7, 0, 2});     // app 7 new
  step("apps removed, added, relabelled");

  earlier = previous;
  std::string garbage = document(apps);
  garbage.resize(garbage.size() / 2);
  EXPECT_FALSE(incremental.parser().parseShared(garbage).has_value());
  step("same document after a refused one");
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(incremental.apps()[i], before[i]) << "app " << i;
  }
  EXPECT_EQ(clusterNamed(previous, "team_app1_10001").hosts.shared(),
            clusterNamed(earlier, "team_app1_10001").hosts.shared());
}

// The labels of a second port are read again when the app gains or loses it, labels unchanged
// (HAPROXY_1_* then applies, or is reported as naming no service port).
TEST(IncrementalTranslate, LabelsAreReadAgainWhenTheServicePortsChange) {
  auto appWithPorts = [](int ports) {
    std::string out = R"({"apps":[{"id":"/team/app0","labels":{"HAPROXY_GROUP":"external",)"
                      R"("HAPROXY_0_VHOST":"a.example.com","HAPROXY_1_VHOST":"b.example.com"},)"
                      R"("networks":[{"mode":"host"}],"portDefinitions":[{"port":10000})";
    if (ports == 2) out += R"(,{"port":20000})";
    out += R"(],"tasks":[{"id":"t1","host":"10.0.0.1","state":"TASK_RUNNING","ports":[31000)";
    if (ports == 2) out += ",32000";
    return out + "]}]}]}";
  };
  Pipeline incremental(true);
  for (int ports : {1, 2, 1}) {
    SCOPED_TRACE(ports);
    const std::string doc = appWithPorts(ports);
    EXPECT_EQ(incremental.run(doc), Pipeline(false).run(doc));
    EXPECT_EQ(incremental.cache().apps.at("/team/app0").labels->ports.size(),
              static_cast<size_t>(ports));
  }
}

// The previous call's cache entries (and through them the previous document's apps) are left in
// `retired` for the caller to free off its thread; `clusters` holds this call's only.
TEST(IncrementalTranslate, PreviousCacheIsRetiredForTheCallerToFree) {
  Pipeline incremental(true);
  incremental.run(document({AppDoc{0}, AppDoc{1}}));
  const std::shared_ptr<const App> app0 = incremental.apps()[0];
  incremental.run(document({AppDoc{1}}));
  const TranslateCache& cache = incremental.cache();
  EXPECT_FALSE(cache.clusters.contains("team_app0_10000"));
  EXPECT_TRUE(cache.clusters.contains("team_app1_10001"));
  ASSERT_TRUE(cache.retired.contains("team_app0_10000"));
  EXPECT_EQ(cache.retired.at("team_app0_10000").app, app0);  // still alive through it
  // Here, the retired entries of both its ports, and its labels' entry in the retired work.
  EXPECT_EQ(app0.use_count(), 4);
  EXPECT_FALSE(cache.apps.contains("/team/app0"));
}

// An app whose labels the last call read keeps them (not read again): the same object, or a new
// one with only its tasks changed (a redeploy); a relabelled app is read anew.
TEST(IncrementalTranslate, LabelsAreReadOncePerAppUntilTheyChange) {
  Pipeline incremental(true);
  std::vector<AppDoc> apps = {AppDoc{0}, AppDoc{1}, AppDoc{2}};
  incremental.run(document(apps));
  const SharedApps first = incremental.apps();
  auto labelsOf = [&](const char* id) { return incremental.cache().apps.at(id).labels; };
  const auto labels0 = labelsOf("/team/app0");
  const auto labels1 = labelsOf("/team/app1");
  const auto labels2 = labelsOf("/team/app2");

  apps[1].vhost = "other.example.com";  // relabelled
  apps[2].generation = 1;               // redeployed: every task replaced, same labels
  incremental.run(document(apps));
  ASSERT_EQ(incremental.apps()[0], first[0]);
  ASSERT_NE(incremental.apps()[1], first[1]);
  ASSERT_NE(incremental.apps()[2], first[2]);
  EXPECT_EQ(labelsOf("/team/app0"), labels0);
  EXPECT_EQ(labelsOf("/team/app2"), labels2);
  EXPECT_EQ(incremental.cache().apps.at("/team/app2").app, incremental.apps()[2]);
  const auto fresh1 = labelsOf("/team/app1");
  EXPECT_NE(fresh1, labels1);
  ASSERT_FALSE(fresh1->ports.empty());
  EXPECT_EQ(fresh1->ports[0].vhosts, std::vector<std::string>{"other.example.com"});
  EXPECT_EQ(incremental.cache().apps.size(), 3u);
}

// Listeners, vhosts, certificates and their issues are taken from the last call when only tasks
// changed (redeploy, scale, health), and made anew when anything they are made from changed:
// labels, a service port, a port's mode, the set of apps, the options. Always as from scratch.
TEST(IncrementalTranslate, PlanOutputsAreReusedWhileOnlyTasksChange) {
  std::vector<AppDoc> apps = {AppDoc{0}, AppDoc{1}, AppDoc{2}};
  apps[2].vhost = "app1.example.com";  // a collision: an issue among the plan outputs
  Pipeline incremental(true);
  Pipeline scratch(false);
  const TranslateCache::PlanOutputs* last = nullptr;
  auto step = [&](const char* what, bool reused) {
    SCOPED_TRACE(what);
    const std::string doc = document(apps);
    const conf::DiscoveredSpec got = incremental.run(doc);
    EXPECT_EQ(got, scratch.run(doc));
    const auto& kept = incremental.cache().plan_outputs;
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept.get() == last, reused);
    EXPECT_EQ(got.vhosts.shared(), kept->vhosts.shared());  // shared, not copied
    EXPECT_EQ(got.listeners.shared(), kept->listeners.shared());
    last = kept.get();
  };
  step("first", false);
  apps[0].generation = 1;
  step("redeployed", true);
  apps[1].tasks = 5;
  step("scaled", true);
  apps[0].results = R"([{"alive":false}])";
  step("unhealthy", true);
  apps[1].vhost = "other.example.com";
  step("relabelled", false);
  apps[1].port_shift = 100;
  step("service ports moved", false);
  apps[1].check_index = 1;
  step("port 1 now http (its health check)", false);
  apps.push_back(AppDoc{3});
  step("app added", false);
  apps.erase(apps.begin());
  step("app removed", false);
  incremental.options().domain = scratch.options().domain = "other.example.com";
  step("options changed", false);
  step("same again", true);
}

// A document naming an app id twice gives both Apps the same cached labels: the app-id vhosts
// (one per App) must still be made anew when the plans group into Apps differently.
TEST(IncrementalTranslate, PlanOutputsFollowAnAppIdNamedTwice) {
  const auto app = [](int port0, int port1) {
    return R"({"id":"/x","labels":{"HAPROXY_GROUP":"external","HAPROXY_0_MODE":"http",)"
           R"("HAPROXY_1_MODE":"http"},"networks":[{"mode":"host"}],"portDefinitions":[{"port":)" +
           std::to_string(port0) + R"(},{"port":)" + std::to_string(port1) + "}]}";
  };
  const std::string one = R"({"apps":[)" + app(100, 200) + "]}";
  const std::string two = R"({"apps":[)" + app(100, 100) + "," + app(100, 200) + "]}";
  Pipeline incremental(true);
  for (const std::string* doc : {&one, &two, &two, &one}) {
    EXPECT_EQ(incremental.run(*doc), Pipeline(false).run(*doc));
  }
}

// One colour of deployment group "shop" as zdd stamps it (marathon.md §4.1), `tasks` tasks whose
// ids carry `generation`, healthy or not.
std::string shopColour(const std::string& colour, const char* started_at, int port, int tasks,
                       int generation, bool healthy) {
  std::string out = R"({"id":"/shop-)" + colour + R"(","instances":)" + std::to_string(tasks) +
                    R"(,"labels":{"HAPROXY_GROUP":"external","HAPROXY_DEPLOYMENT_GROUP":"shop",)"
                    R"("HAPROXY_DEPLOYMENT_ALT_PORT":"10001","HAPROXY_0_PORT":"10000",)"
                    R"("HAPROXY_0_VHOST":"shop.example.com","HAPROXY_DEPLOYMENT_COLOUR":")" +
                    colour + R"(","HAPROXY_DEPLOYMENT_STARTED_AT":")" + started_at +
                    R"(","HAPROXY_DEPLOYMENT_TARGET_INSTANCES":"2",)"
                    R"("HAPROXY_DEPLOYMENT_NEW_INSTANCES":"0"},"networks":[{"mode":"host"}],)"
                    R"("portDefinitions":[{"port":)" +
                    std::to_string(port) +
                    R"(}],"healthChecks":[{"protocol":"HTTP","path":"/","portIndex":0}],"tasks":[)";
  for (int t = 0; t < tasks; ++t) {
    if (t > 0) out += ',';
    out += R"({"id":")" + colour + std::to_string(generation) + "-" + std::to_string(t) +
           R"(","host":"10.1.)" + std::to_string(port % 2) + "." + std::to_string(t + 1) +
           R"(","state":"TASK_RUNNING","ports":[)" + std::to_string(31000 + t) +
           R"(],"healthCheckResults":[{"alive":)" + (healthy ? "true" : "false") + "}]}";
  }
  return out + "]}";
}

// The same through a deployment group's cutover: its merged app is made anew every call, and its
// labels (the new colour's) are still read once.
TEST(IncrementalTranslate, PlanOutputsAreReusedThroughADeploymentGroupCutover) {
  // green_tasks 0: green not deployed yet; blue_generation -1: blue gone.
  const auto doc = [](int blue_generation, int green_tasks, bool green_healthy) {
    std::string apps;
    if (blue_generation >= 0) {
      apps += shopColour("blue", "2024-01-01T00:00:00Z", 10000, 2, blue_generation, true) + ",";
    }
    if (green_tasks > 0) {
      apps += shopColour("green", "2024-02-01T00:00:00Z", 10001, green_tasks, 0, green_healthy);
      apps += ",";
    }
    return R"({"apps":[)" + apps + appJson(AppDoc{1}) + "]}";
  };
  Pipeline incremental(true);
  Pipeline scratch(false);
  const TranslateCache::PlanOutputs* last = nullptr;
  auto step = [&](const char* what, const std::string& document, bool reused) {
    SCOPED_TRACE(what);
    const conf::DiscoveredSpec got = incremental.run(document);
    EXPECT_EQ(got, scratch.run(document));
    ASSERT_EQ(got.groups.size(), 1u);
    const auto& kept = incremental.cache().plan_outputs;
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept.get() == last, reused);
    last = kept.get();
  };
  step("blue alone", doc(0, 0, false), false);
  step("blue scaled", doc(1, 0, false), true);
  step("green deployed: the merged app takes green's labels", doc(1, 1, false), false);
  step("blue redeployed", doc(2, 1, false), true);
  step("green healthy: blue drains", doc(2, 1, true), true);
  step("green scaled", doc(2, 2, true), true);
  step("blue gone", doc(-1, 2, true), true);
}

TEST(IncrementalTranslate, ParseSharedMatchesParseInPlaceForErrors) {
  AppsParser parser;
  std::string good = document({AppDoc{1}, AppDoc{2}});
  ASSERT_TRUE(parser.parseShared(good).has_value());
  for (std::string bad : {std::string(R"({"apps":[{"id":"/team/app1","tasks":[{}]}]})"),
                          std::string(R"({"apps":[{"id":"x"}]})"), std::string("{"),
                          std::string(R"({"apps":[1]})")}) {
    auto shared = parser.parseShared(bad);
    auto plain = AppsParser().parseInPlace(bad);
    ASSERT_FALSE(shared.has_value()) << bad;
    ASSERT_FALSE(plain.has_value()) << bad;
    EXPECT_EQ(shared.error().detail, plain.error().detail);
  }
}

}  // namespace
}  // namespace baton::discovery

namespace baton::discovery {
namespace {

// parseShared splits a document into apps and parses them one by one; it must accept exactly
// the documents the whole-document parse accepts, with the same apps, and refuse the others
// with the same message.
void expectSameAsWholeParse(AppsParser& shared_parser, std::string doc) {
  auto plain = AppsParser().parseInPlace(doc);
  auto shared = shared_parser.parseShared(doc);
  ASSERT_EQ(shared.has_value(), plain.has_value()) << doc;
  if (!plain) {
    EXPECT_EQ(shared.error().detail, plain.error().detail) << doc;
    return;
  }
  ASSERT_EQ(shared->size(), plain->size()) << doc;
  for (size_t i = 0; i < plain->size(); ++i) EXPECT_EQ(*(*shared)[i], (*plain)[i]) << doc;
}

TEST(IncrementalTranslate, SplitParseMatchesWholeParse) {
  AppsParser parser;
  const std::string good = document({AppDoc{1}, AppDoc{2}, AppDoc{3}});
  for (size_t n = 0; n <= good.size(); ++n) expectSameAsWholeParse(parser, good.substr(0, n));
  const std::string app = R"({"id":"/a","tasks":[{"id":"t","host":"h","ports":[1]}]})";
  for (const std::string& doc : std::vector<std::string>{
           "{\"apps\":[" + app + "]}",
           " \n{ \"apps\" : [ " + app + " , " + app + " ] }\t",
           "{\"apps\":[]}",
           "{\"apps\":[ ]}",
           "{}",
           "[]",
           "5",
           "{\"apps\":null}",
           "{\"apps\":{}}",
           "{\"apps\":[" + app + ",]}",
           "{\"apps\":[," + app + "]}",
           "{\"apps\":[" + app + "],}",
           "{\"apps\":[" + app + "]} x",
           "{\"apps\":[" + app + "]}}",
           "{\"apps\":[" + app + "]",
           "{\"apps\":[1,tru]}",
           "{\"apps\":[null]}",
           "{\"apps\":[5]}",
           "{\"apps\":[\"x\"]}",
           "{\"x\":tru,\"apps\":[]}",
           "{\"x\":[1,2,{\"y\":\"]\"}],\"apps\":[" + app + "]}",
           "{\"x\":\"\\q\",\"apps\":[]}",
           "{\"app\\u0073\":[" + app + "]}",
           "{\"apps\":[" + app + "],\"apps\":5}",
           "{\"apps\" [" + app + "]}",
           "{\"apps\":[{\"id\":\"/a\\\"]}\",\"labels\":{\"k\":\"v\\\\\"}}]}",
           "{\"apps\":[{\"id\":\"/a\",\"x\":[}]]}",
           "{\"apps\":[{\"id\":\"/\xff\"}]}",
           "{\"\xff\":1,\"apps\":[]}",
           "{\"apps\":[{\"id\":\"/a\"}{\"id\":\"/b\"}]}",
           "{\"apps\":[{\"id\":\"/a\",\"instances\":-1}]}",
           "\xef\xbb\xbf{\"apps\":[]}",
       }) {
    expectSameAsWholeParse(parser, doc);
  }
}

// A document over a megabyte is parsed on two threads, the second half ahead of the first. The
// result is still exactly the whole-document parse: apps in order, the same service ports from
// the IP-per-task assigner (whose answers depend on every app before: the helper stops at the
// first such app and the rest is parsed in order), the same refusal for an error in either half,
// and unchanged apps of either half reused by the next document.
TEST(IncrementalTranslate, LargeDocumentParsedOnTwoThreadsMatchesWholeParse) {
  std::vector<AppDoc> apps;
  for (int n = 0; n < 700; ++n) apps.push_back(AppDoc{n, 0, 8});
  // IP-per-task apps share the assigner's 50 ports, so later ones depend on earlier ones (a
  // clash moves an app to its next trial port): 31 in the first half, 15 in the second.
  for (int n = 1; n <= 61; n += 2) apps[static_cast<size_t>(n)].container = true;
  for (int n = 500; n < 515; ++n) apps[static_cast<size_t>(n)].container = true;
  const std::string doc = document(apps);
  ASSERT_GT(doc.size(), size_t{1} << 20);
  AppsParser parser;
  expectSameAsWholeParse(parser, doc);

  std::string body = doc;
  auto first = parser.parseShared(body);
  ASSERT_TRUE(first.has_value());
  apps[10].generation = 1;
  apps[400].generation = 1;  // the helper's range (the split is near app 350)
  apps[600].generation = 1;
  body = document(apps);
  auto second = parser.parseShared(body);
  ASSERT_TRUE(second.has_value());
  for (size_t i : {size_t{0}, size_t{62}, size_t{64}, size_t{349}, size_t{352}, size_t{399},
                   size_t{401}, size_t{499}, size_t{516}, size_t{601}, size_t{698}}) {
    EXPECT_EQ((*second)[i], (*first)[i]) << "app " << i << " reused";
  }
  for (size_t i : {size_t{3}, size_t{10}, size_t{400}, size_t{500}, size_t{514}, size_t{600}}) {
    EXPECT_NE((*second)[i], (*first)[i]) << "app " << i << " parsed anew";
  }

  for (size_t bad_app : {size_t{5}, size_t{420}, size_t{650}}) {  // in each range
    std::string broken = document(apps);
    const std::string id = "\"id\":\"/team/app" + std::to_string(bad_app) + "\"";
    const size_t at = broken.find(id);
    ASSERT_NE(at, std::string::npos);
    broken.replace(at, id.size(), "\"id\":\"team/app" + std::to_string(bad_app) + "\"");
    expectSameAsWholeParse(parser, broken);
  }
}

// The split scans sixteen bytes at a time: a quote, an escape or a bracket inside a string lands
// at every offset of a block, and at the document's last bytes, with the same result as the
// whole-document parse.
TEST(IncrementalTranslate, SplitFindsStringEndsAndBracketsAtEveryOffset) {
  AppsParser parser;
  for (size_t pad = 0; pad < 40; ++pad) {
    const std::string filler(pad, 'a');
    for (const std::string& tricky :
         {std::string("\\\""), std::string("]}"), std::string("\\\\"), std::string("[{")}) {
      const std::string app = R"({"id":"/a","labels":{"k":")" + filler + tricky + filler +
                              R"("},"x":[)" + std::string(pad % 5, ' ') + "]}";
      expectSameAsWholeParse(parser, "{\"apps\":[" + app + "]}");
      expectSameAsWholeParse(parser, "{\"apps\":[" + app + "," + app + "]}" + filler);
      expectSameAsWholeParse(parser, "{\"apps\":[" + app + "]" + std::string(pad, ' ') + "}");
    }
  }
}

}  // namespace
}  // namespace baton::discovery

namespace baton::discovery {
namespace {

// Parses `first`, then `second`, with one parser; `second` must give exactly the whole parse's
// answer. Returns how the second call came by its apps (nullopt: refused).
std::optional<AppsParser::Stats> secondParse(const std::string& first, const std::string& second) {
  AppsParser parser;
  std::string body = first;
  EXPECT_TRUE(parser.parseShared(body).has_value()) << first;
  expectSameAsWholeParse(parser, second);
  body = second;
  if (!AppsParser().parseInPlace(body)) return std::nullopt;
  return parser.lastStats();
}

// The split hashes each app's bytes, leaving out the result members baton does not read, so an
// app whose checks only ran again is the last document's app without a parse.
TEST(IncrementalTranslate, AppsWhoseChecksOnlyRanAgainAreReusedWithoutAParse) {
  const auto results = [](int failures, const char* at) {
    return R"([{"alive":true,"consecutiveFailures":)" + std::to_string(failures) +
           R"(,"lastSuccess":")" + at + R"("}])";
  };
  std::vector<AppDoc> apps;
  for (int n = 0; n < 4; ++n) apps.push_back(AppDoc{n, 0, 3, results(0, "t0")});
  AppsParser parser;
  std::string body = document(apps);
  auto first = parser.parseShared(body);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(parser.lastStats().parsed, 4u);

  apps[1].results = results(2, "2026-11-26T22:00:00.000Z");
  apps[2].results = results(0, "t1");
  body = document(apps);
  auto second = parser.parseShared(body);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(parser.lastStats().by_print, 4u);
  EXPECT_EQ(parser.lastStats().parsed, 0u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*second)[i], (*first)[i]) << "app " << i;

  // Other whitespace, or another result member: not the same bytes, so parsed anew (Marathon
  // writes an app the same way every time), to the same apps.
  apps[0].results = R"([{"alive":true,"lastSuccess":"t2","lastFailure":"t1"}])";
  std::string spaced = document(apps);
  const std::string instances = R"("id":"/team/app3","instances":3)";
  spaced.replace(spaced.find(instances), instances.size(), R"("id":"/team/app3","instances" : 3)");
  AppsParser fresh;
  expectSameAsWholeParse(fresh, spaced);
  body = spaced;
  auto third = parser.parseShared(body);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(parser.lastStats().by_print, 2u);
  EXPECT_EQ(parser.lastStats().parsed, 2u);
  EXPECT_EQ((*third)[1], (*first)[1]);
  EXPECT_EQ((*third)[2], (*first)[2]);

  // And each is found by its new print next time.
  body = spaced;
  ASSERT_TRUE(parser.parseShared(body).has_value());
  EXPECT_EQ(parser.lastStats().by_print, 4u);
}

// Only values readHealthResults skips are left out of the print, and only when the scan can tell
// they are valid JSON: a change anywhere else is parsed, and an invalid value refused exactly
// as by the whole-document parse.
TEST(IncrementalTranslate, RawPrintLeavesOutOnlyWhatBatonNeverReads) {
  AppDoc a{1};
  a.results = R"([{"alive":true,"lastSuccess":"t0"}])";
  const std::string base = document({a, AppDoc{2}});
  auto with = [&](const std::string& results) {
    AppDoc changed = a;
    changed.results = results;
    return document({changed, AppDoc{2}});
  };
  // Parsed anew (or refused): what baton reads changed, or the scan cannot vouch for the value.
  for (const std::string& results : {
           std::string(R"([{"alive":false,"lastSuccess":"t0"}])"),
           std::string(R"([{"\u0061live":false,"lastSuccess":"t0"}])"),
           std::string(R"([{"alive":true,"lastSuccess":tru}])"),
           std::string(R"([{"alive":true,"lastSuccess":01}])"),
           std::string(R"([{"alive":true,"lastSuccess":1.5}])"),
           std::string(R"([{"alive":true,"lastSuccess":"a\q"}])"),
           std::string("[{\"alive\":true,\"lastSuccess\":\"a\x01\"}]"),
           std::string("[{\"alive\":true,\"lastSuccess\":\"\xff\"}]"),
           std::string(R"([{"alive":true,"lastSuccess":"t\u0031"}])"),
           std::string(R"([{"alive":true,"lastSuccess":{"at":"t1"}}])"),
           std::string(R"([{"alive":true,"lastSuccess":["t1"]}])"),
           std::string(R"([{"alive":"yes","lastSuccess":"t0"}])"),
           std::string(R"([{"alive":true,"lastSuccess":"t0"},5])"),
       }) {
    SCOPED_TRACE(results);
    const auto reuse = secondParse(base, with(results));
    if (reuse) {
      EXPECT_EQ(reuse->by_print, 1u);  // app 2 only
    }
  }
  // An escaped name that the DOM reads as "alive".
  EXPECT_EQ(secondParse(with(R"([{"\u0061live":true}])"), with(R"([{"\u0061live":false}])"))
                .value_or(AppsParser::Stats{})
                .by_print,
            1u);
  // The same names outside a results array are labels (read): never left out.
  const std::string label = R"("HAPROXY_GROUP":"external",)";
  const auto labelled = [&](const std::string& labels) {
    std::string doc = base;
    doc.insert(doc.find(label), labels);
    return doc;
  };
  for (const auto& [before, after] : std::vector<std::pair<std::string, std::string>>{
           {R"("lastSuccess":"x",)", R"("lastSuccess":"y",)"},
           {R"("healthCheckResults":"x",)", R"("healthCheckResults":"y",)"},
       }) {
    SCOPED_TRACE(after);
    EXPECT_EQ(secondParse(labelled(before), labelled(after)).value_or(AppsParser::Stats{}).by_print,
              1u);
  }
  // A results array in a member readApp ignores: left out too (the app is the same either way).
  const std::string top = R"({"id":"/team/app1",)";
  const auto odd = [&](const char* at) {
    std::string doc = base;
    doc.replace(doc.find(top), top.size(),
                top + R"("healthCheckResults":[{"lastSuccess":")" + at + R"("}],)");
    return doc;
  };
  EXPECT_EQ(secondParse(odd("x"), odd("y")).value_or(AppsParser::Stats{}).by_print, 2u);
  // Left out: a rewritten time, count or null, in place of the same kind of value or another.
  for (const std::string& results : {
           std::string(R"([{"alive":true,"lastSuccess":"t1"}])"),
           std::string(R"([{"alive":true,"lastSuccess":null}])"),
           std::string(R"([{"alive":true,"lastSuccess":-12}])"),
           std::string(R"([{"alive":true,"lastSuccess":false}])"),
           std::string(R"([{"alive":true,"lastSuccess":""}])"),
       }) {
    SCOPED_TRACE(results);
    EXPECT_EQ(secondParse(base, with(results)).value_or(AppsParser::Stats{}).by_print, 2u);
  }
}

}  // namespace
}  // namespace baton::discovery

namespace baton::discovery {
namespace {

std::vector<AppDoc> largeApps() {
  std::vector<AppDoc> apps;
  for (int n = 0; n < 700; ++n) apps.push_back(AppDoc{n, 0, 8});
  return apps;
}

// The split's helper starts at a guessed app boundary past the middle, with any spacing
// (Python's json.dumps writes `}, {"id": "/...`), and its half is taken only when the first
// thread's own walk starts an app exactly there.
TEST(IncrementalTranslate, SecondHalfIsSplitOnAHelperFromACheckedGuess) {
  const std::string compact = document(largeApps());
  ASSERT_GT(compact.size(), size_t{1} << 20);
  AppsParser parser;
  expectSameAsWholeParse(parser, compact);
  EXPECT_TRUE(parser.lastStats().split_on_two_threads);
  EXPECT_FALSE(parser.lastStats().whole_document);

  std::string spaced;  // `,` and `:` followed by a space, outside strings
  bool in_string = false;
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    spaced.push_back(c);
    if (c == '"' && (i == 0 || compact[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == ',' || c == ':')) spaced.push_back(' ');
  }
  AppsParser spaced_parser;
  expectSameAsWholeParse(spaced_parser, spaced);
  EXPECT_TRUE(spaced_parser.lastStats().split_on_two_threads);

  // Every app also holds `"x":[{"a":1},{"id":"/decoy"}]`: the first guess past the middle lands
  // inside an app, the first thread never starts an item there, and it splits alone.
  std::string decoyed = compact;
  const std::string id = R"({"id":"/team/app)";
  for (size_t at = decoyed.find(id); at != std::string::npos; at = decoyed.find(id, at + 40)) {
    decoyed.insert(at + 1, R"("x":[{"a":1},{"id":"/decoy"}],)");
  }
  AppsParser decoyed_parser;
  expectSameAsWholeParse(decoyed_parser, decoyed);
  EXPECT_FALSE(decoyed_parser.lastStats().split_on_two_threads);
  EXPECT_FALSE(decoyed_parser.lastStats().whole_document);

  // A document cut short in the helper's half, or broken in the skeleton after the apps: refused
  // with the whole parse's message (the helper's walk fails exactly where the first thread's
  // would).
  for (const std::string& bad :
       {compact.substr(0, compact.size() * 3 / 4), compact.substr(0, compact.size() - 1),
        compact.substr(0, compact.size() - 2) + "}}", compact + ",",
        compact.substr(0, compact.size() - 2) + ",]}"}) {
    AppsParser bad_parser;
    expectSameAsWholeParse(bad_parser, bad);
  }
}

}  // namespace
}  // namespace baton::discovery

namespace baton::discovery {
namespace {

// Labels are read and host lists built on two threads past context.parallel_labels_from apps and
// parallel_hosts_from tasks: the output, issues and their order included, is the one-thread
// build's.
TEST(IncrementalTranslate, HostsBuiltOnTwoThreadsAsOnOne) {
  std::vector<AppDoc> docs;
  for (int n = 0; n < 300; ++n) docs.push_back(AppDoc{n, 0, 8});
  std::string doc = document(docs);
  // Task hosts 10.0.<n>.<t+1>: some unresolved, some resolved to a name, two tasks sharing one
  // address (each raises an issue, and a task of both ports is reported unresolved once).
  auto apps = parseApps(doc);
  ASSERT_TRUE(apps.has_value());
  for (size_t n = 0; n < apps->size(); n += 50) (*apps)[n].labels["HAPROXY_0_BALANCE"] = "bogus";
  for (size_t n = 3; n < apps->size(); n += 70) (*apps)[n].labels["HAPROXY_0_FROB"] = "1";
  (*apps)[7].tasks[1].endpoints = (*apps)[7].tasks[0].endpoints;
  (*apps)[250].tasks[2].endpoints = (*apps)[250].tasks[3].endpoints;
  TranslateOptions options;
  options.groups = {"external"};
  const auto run = [&](size_t parallel_from) {
    TranslateContext context;
    context.resolve = [](std::string_view host) -> std::optional<std::string> {
      if (host.ends_with(".3")) return std::nullopt;
      if (host.ends_with(".5")) return std::string("name-") + std::string(host);
      return std::string(host);
    };
    context.parallel_hosts_from = parallel_from;
    context.parallel_labels_from = parallel_from;
    return translate(*apps, options, context);
  };
  const conf::DiscoveredSpec one = run(SIZE_MAX);
  const conf::DiscoveredSpec two = run(1);
  EXPECT_EQ(two, one);
  EXPECT_GT(one.issues.size(), 600u);
  EXPECT_EQ(one.clusters.size(), 600u);
}

}  // namespace
}  // namespace baton::discovery
