// task_filter.h: marathon-lb's routable states and the health filter with its last known
// verdicts (marathon.md §1.4, §4.3), including what happens across a Marathon leader failover.
#include "discovery/model/task_filter.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace baton::discovery {
namespace {

App appWithHealthChecks() {
  App app;
  app.id = "/web";
  app.health_checks.push_back(HealthCheck{});
  return app;
}

Task task(std::string id, std::vector<bool> results) {
  Task t;
  t.id = std::move(id);
  t.state = TaskState::Running;
  for (bool alive : results) t.health.push_back(HealthCheckResult{alive});
  return t;
}

TEST(TaskFilterTest, RoutableStates) {
  EXPECT_TRUE(isRoutable(TaskState::Running));
  EXPECT_TRUE(isRoutable(TaskState::Lost));
  EXPECT_TRUE(isRoutable(TaskState::Unreachable));
  for (TaskState s :
       {TaskState::Staging, TaskState::Starting, TaskState::Killing, TaskState::Finished,
        TaskState::Failed, TaskState::Killed, TaskState::Error, TaskState::Dropped, TaskState::Gone,
        TaskState::GoneByOperator, TaskState::Unknown}) {
    EXPECT_FALSE(isRoutable(s)) << static_cast<int>(s);
  }
}

// One accepted document: apps of tasks (id → results), every app with health checks unless
// its id starts with "/plain".
using Doc = std::vector<std::pair<std::string, std::vector<Task>>>;

std::vector<std::shared_ptr<const App>> document(const Doc& doc) {
  std::vector<std::shared_ptr<const App>> apps;
  for (const auto& [id, tasks] : doc) {
    App app = id.starts_with("/plain") ? App{} : appWithHealthChecks();
    app.id = id;
    app.tasks = tasks;
    apps.push_back(std::make_shared<const App>(std::move(app)));
  }
  return apps;
}

// Accepts documents in turn, as the discovery manager does.
struct Accepted {
  HealthVerdicts verdicts;
  std::vector<std::shared_ptr<const App>> apps;

  void accept(const Doc& doc) {
    auto next = document(doc);
    verdicts.carryOver(apps, next);
    apps = std::move(next);
  }
  // The verdict of task `task_id` of app `app_id` in the current document.
  bool passes(const std::string& app_id, const std::string& task_id) const {
    for (const auto& app : apps) {
      if (app->id != app_id) continue;
      for (const Task& t : app->tasks) {
        if (t.id == task_id) return verdicts.passes(*app, t);
      }
    }
    ADD_FAILURE() << "no task " << task_id << " in " << app_id;
    return false;
  }
};

TEST(HealthVerdictsTest, AppWithoutHealthChecksPassesEverything) {
  Accepted a;
  a.accept({{"/plain", {task("p.1", {}), task("p.2", {false})}}});
  EXPECT_TRUE(a.passes("/plain", "p.1"));
  EXPECT_TRUE(a.passes("/plain", "p.2"));
  EXPECT_EQ(a.verdicts.carried(), 0u);  // nothing remembered for such apps
}

TEST(HealthVerdictsTest, AnyAliveResultPasses) {
  Accepted a;
  a.accept({{"/web",
             {task("a.1", {true}), task("a.2", {false, true}), task("a.3", {false}),
              task("a.4", {false, false})}}});
  EXPECT_TRUE(a.passes("/web", "a.1"));
  EXPECT_TRUE(a.passes("/web", "a.2"));
  EXPECT_FALSE(a.passes("/web", "a.3"));
  EXPECT_FALSE(a.passes("/web", "a.4"));
  EXPECT_EQ(a.verdicts.carried(), 0u);  // every task has results: nothing to carry
}

TEST(HealthVerdictsTest, NeverSeenTaskWithoutResultsIsExcluded) {
  Accepted a;
  a.accept({{"/web", {task("new.1", {})}}});
  EXPECT_FALSE(a.passes("/web", "new.1"));
  a.accept({{"/web", {task("new.1", {}), task("new.2", {})}}});
  EXPECT_FALSE(a.passes("/web", "new.1"));  // no verdict was ever known
  EXPECT_FALSE(a.passes("/web", "new.2"));
  EXPECT_EQ(a.verdicts.carried(), 0u);
}

TEST(HealthVerdictsTest, FailoverKeepsLastVerdict) {
  Accepted a;
  // Before the failover: one healthy task, one unhealthy.
  a.accept({{"/web", {task("a.up", {true}), task("a.down", {false})}}});
  // New leader: every task comes back without results, for several documents. The last
  // verdicts hold.
  for (int document = 0; document < 3; ++document) {
    a.accept({{"/web", {task("a.up", {}), task("a.down", {}), task("a.never", {})}}});
    EXPECT_TRUE(a.passes("/web", "a.up")) << document;
    EXPECT_FALSE(a.passes("/web", "a.down")) << document;
    EXPECT_FALSE(a.passes("/web", "a.never")) << document;
    EXPECT_EQ(a.verdicts.carried(), 2u);
  }
  // Checks run again: the fresh results win and are carried in turn.
  a.accept({{"/web", {task("a.up", {false}), task("a.down", {true})}}});
  EXPECT_FALSE(a.passes("/web", "a.up"));
  EXPECT_TRUE(a.passes("/web", "a.down"));
  a.accept({{"/web", {task("a.up", {}), task("a.down", {})}}});
  EXPECT_FALSE(a.passes("/web", "a.up"));
  EXPECT_TRUE(a.passes("/web", "a.down"));
}

TEST(HealthVerdictsTest, VerdictsFollowTaskIdsWithinTheirApp) {
  Accepted a;
  a.accept({{"/a", {task("x.1", {true})}}, {"/b", {task("y.1", {true})}}});
  // /a disappears for one document (an app missing from the answer): its task's verdict is
  // gone with it; /b, listed again without results, keeps its verdict.
  a.accept({{"/b", {task("y.1", {})}}});
  EXPECT_TRUE(a.passes("/b", "y.1"));
  a.accept({{"/a", {task("x.1", {})}}, {"/b", {task("y.1", {})}}});
  EXPECT_FALSE(a.passes("/a", "x.1"));
  EXPECT_TRUE(a.passes("/b", "y.1"));
  // A task id is looked up in its own app only.
  a.accept({{"/a", {task("y.1", {})}}, {"/b", {task("x.1", {})}}});
  EXPECT_FALSE(a.passes("/a", "y.1"));
  EXPECT_FALSE(a.passes("/b", "x.1"));
}

// A large app (more tasks than a scan should cover) losing its results: each task gets its own
// verdict back, from the per-app index.
TEST(HealthVerdictsTest, LargeAppCarriesEveryTask) {
  Accepted a;
  std::vector<Task> with, without;
  for (int i = 0; i < 5'000; ++i) {
    with.push_back(task("big." + std::to_string(i), {i % 3 != 0}));
    without.push_back(task("big." + std::to_string(4'999 - i), {}));  // listed in another order
  }
  a.accept({{"/big", with}});
  a.accept({{"/big", without}});
  EXPECT_EQ(a.verdicts.carried(), 5'000u);
  for (int i = 0; i < 5'000; ++i) {
    ASSERT_EQ(a.passes("/big", "big." + std::to_string(i)), i % 3 != 0) << i;
  }
}

// Against a per-task map of last verdicts, over random documents: tasks come and go, lose and
// regain results; apps appear and vanish.
TEST(HealthVerdictsTest, SameVerdictsAsAReferenceModel) {
  std::mt19937 rng(7);
  Accepted a;
  std::map<std::string, bool> last;  // (app|task) → the verdict in the last document, if any
  for (int round = 0; round < 300; ++round) {
    Doc doc;
    std::map<std::string, bool> now;
    for (int app = 0; app < 6; ++app) {
      if (rng() % 5 == 0) continue;  // the app is missing from this document
      const std::string app_id = "/app" + std::to_string(app);
      std::vector<Task> tasks;
      for (int t = 0; t < 40; ++t) {
        if (rng() % 4 == 0) continue;  // the task is missing
        // Marathon's task ids are unique across apps (the app id is part of them).
        const std::string id = "app" + std::to_string(app) + ".t" + std::to_string(t);
        const uint32_t kind = rng() % 3;  // 0: no results, 1: alive, 2: not alive
        tasks.push_back(kind == 0 ? task(id, {}) : task(id, {kind == 1}));
        const std::string key = app_id + "|" + id;
        if (kind != 0) {
          now[key] = kind == 1;
        } else if (const auto it = last.find(key); it != last.end()) {
          now[key] = it->second;
        }
      }
      doc.emplace_back(app_id, std::move(tasks));
    }
    a.accept(doc);
    for (const auto& [app_id, tasks] : doc) {
      for (const Task& t : tasks) {
        const auto it = now.find(app_id + "|" + t.id);
        const bool expected = it != now.end() && it->second;
        ASSERT_EQ(a.passes(app_id, t.id), expected) << "round " << round << " " << app_id << t.id;
      }
    }
    last = std::move(now);
  }
}

}  // namespace
}  // namespace baton::discovery
