// DiscoveryPipeline (document → spec with the state kept between documents), PipelineQueue (the
// resync thread's job order and coalescing) and PipelineThread (steps come back on the loop's
// thread, in order, at background priority, and never after the thread object is gone).
#include "discovery/pipeline.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "discovery/pipeline_thread.h"
#include "discovery/state_store.h"
#include "fake_server.h"
#include "proxy/core/background_lane.h"
#include "proxy/core/background_thread.h"

namespace baton::discovery {
namespace {

namespace fs = std::filesystem;

// One app "/shop/web" on service port 10001 with tasks web.0 ... on the given hosts.
std::string document(const std::vector<std::string>& hosts) {
  std::string out =
      R"({"apps":[{"id":"/shop/web","labels":{"HAPROXY_GROUP":"external","HAPROXY_0_VHOST":)"
      R"("web.example.com"},"networks":[{"mode":"host"}],"portDefinitions":[{"port":10001}],)"
      R"("tasks":[)";
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"id":"web.)" + std::to_string(i) + R"(","appId":"/shop/web","host":")" + hosts[i] +
           R"(","ports":[)" + std::to_string(31000 + i) + R"(],"state":"TASK_RUNNING"})";
  }
  return out + "]}]}";
}

std::string tenTasks() {
  std::vector<std::string> hosts;
  for (int i = 1; i <= 10; ++i) hosts.push_back("10.0.0." + std::to_string(i));
  return document(hosts);
}

const conf::ClusterSpec& onlyCluster(const PipelineStep& step) {
  EXPECT_NE(step.spec, nullptr);
  EXPECT_EQ(step.spec->clusters.size(), 1u);
  return step.spec->clusters.front();
}

TranslateOptions options() {
  TranslateOptions out;
  out.groups = {"external"};
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  conf::MarathonSpec spec_;
  core::Reclaimer reclaimer_;
};

TEST_F(PipelineTest, AcceptedDocumentIsTranslatedAndItsBufferGivenBack) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  const std::string body = document({"10.0.0.1", "10.0.0.2"});
  auto step = pipeline.document(body, false);
  EXPECT_TRUE(step.accepted);
  EXPECT_TRUE(step.refusal.empty());
  EXPECT_EQ(step.apps, 1u);
  EXPECT_EQ(step.tasks, 2u);
  EXPECT_GE(step.parse_ms, 0);
  EXPECT_GE(step.translate_ms, 0);
  EXPECT_TRUE(step.resolve.empty());
  EXPECT_EQ(step.body, body);
  const auto& cluster = onlyCluster(step);
  ASSERT_EQ(cluster.hosts.size(), 2u);
  EXPECT_EQ(cluster.hosts[0].address, "10.0.0.1:31000");
}

TEST_F(PipelineTest, InvalidDocumentIsRefusedAndTheLastGoodStateKept) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  ASSERT_NE(pipeline.document(document({"10.0.0.1"}), false).spec, nullptr);
  auto bad = pipeline.document(R"({"apps":[{"id":"/x","tasks":[)", false);
  EXPECT_FALSE(bad.accepted);
  EXPECT_EQ(bad.spec, nullptr);
  EXPECT_TRUE(bad.refusal.starts_with("invalid app document: ")) << bad.refusal;
  EXPECT_FALSE(bad.hold);
  // The last good document's task is still known to the fast path.
  auto drained = pipeline.taskEnding({"web.0"});
  EXPECT_TRUE(onlyCluster(drained).hosts[0].draining);
}

TEST_F(PipelineTest, EmptyListAfterANonEmptyOneIsHeldUntilARepeatConfirmsIt) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  ASSERT_NE(pipeline.document(document({"10.0.0.1"}), false).spec, nullptr);
  auto held = pipeline.document(R"({"apps":[]})", false);
  EXPECT_TRUE(held.hold);
  EXPECT_TRUE(held.holding);
  EXPECT_EQ(held.spec, nullptr);
  EXPECT_TRUE(held.refusal.starts_with("empty app list")) << held.refusal;
  auto confirmed = pipeline.document(R"({"apps":[]})", false);
  EXPECT_FALSE(confirmed.hold);
  EXPECT_FALSE(confirmed.holding);
  EXPECT_TRUE(confirmed.refusal.empty());
  ASSERT_NE(confirmed.spec, nullptr);
  EXPECT_TRUE(confirmed.spec->clusters.empty());
}

TEST_F(PipelineTest, CollapsedTaskCountIsHeldAndANormalDocumentEndsTheHold) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  ASSERT_NE(pipeline.document(tenTasks(), false).spec, nullptr);
  auto held = pipeline.document(document({"10.0.0.1", "10.0.0.2"}), false);
  EXPECT_TRUE(held.hold);
  EXPECT_EQ(held.refusal, "task count fell from 10 to 2: held until a resync confirms it");
  auto normal = pipeline.document(tenTasks(), false);
  EXPECT_FALSE(normal.holding);
  EXPECT_NE(normal.spec, nullptr);
  // Not confirmed by the normal one in between: the drop is held again.
  EXPECT_TRUE(pipeline.document(document({"10.0.0.1"}), false).hold);
}

TEST_F(PipelineTest, AgentNamesAreResolvedBeforeTranslatingAndAStaleAnswerIsIgnored) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  auto first = pipeline.document(document({"agent-1.mesos", "10.0.0.2"}), false);
  EXPECT_TRUE(first.accepted);
  EXPECT_EQ(first.spec, nullptr);
  EXPECT_EQ(first.resolve, std::vector<std::string>{"agent-1.mesos"});
  auto second = pipeline.document(document({"agent-2.mesos"}), false);
  EXPECT_EQ(second.resolve, std::vector<std::string>{"agent-2.mesos"});
  EXPECT_GT(second.round, first.round);
  // The first document's answers come after the second document: dropped.
  EXPECT_EQ(pipeline.resolved(first.round, {{"agent-1.mesos", "10.9.9.1"}}).spec, nullptr);
  auto done = pipeline.resolved(second.round, {{"agent-2.mesos", "10.9.9.2"}});
  const auto& cluster = onlyCluster(done);
  ASSERT_EQ(cluster.hosts.size(), 1u);
  EXPECT_EQ(cluster.hosts[0].address, "10.9.9.2:31000");
  // A fast-path drain later translates with the same answers.
  auto drained = pipeline.taskEnding({"web.0"});
  ASSERT_EQ(onlyCluster(drained).hosts.size(), 1u);
  EXPECT_EQ(onlyCluster(drained).hosts[0].address, "10.9.9.2:31000");
  EXPECT_TRUE(onlyCluster(drained).hosts[0].draining);
}

TEST_F(PipelineTest, AnUnresolvableNameSkipsItsTaskWithAnIssue) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  auto step = pipeline.document(document({"gone.mesos", "10.0.0.2"}), false);
  auto done = pipeline.resolved(step.round, {{"gone.mesos", std::nullopt}});
  const auto& cluster = onlyCluster(done);
  ASSERT_EQ(cluster.hosts.size(), 1u);
  EXPECT_EQ(cluster.hosts[0].address, "10.0.0.2:31001");
  EXPECT_FALSE(done.spec->issues.empty());
}

TEST_F(PipelineTest, TaskEndingDrainsAKnownTaskOnce) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  ASSERT_NE(pipeline.document(document({"10.0.0.1", "10.0.0.2"}), false).spec, nullptr);
  EXPECT_EQ(pipeline.taskEnding({"web.9"}).spec, nullptr);  // not a task of the document
  auto drained = pipeline.taskEnding({"web.1"});
  const auto& cluster = onlyCluster(drained);
  EXPECT_FALSE(cluster.hosts[0].draining);
  EXPECT_TRUE(cluster.hosts[1].draining);
  EXPECT_EQ(pipeline.taskEnding({"web.1"}).spec, nullptr);  // already drained
  // The drain lasts while the task is listed, and ends when it is gone.
  EXPECT_TRUE(
      onlyCluster(pipeline.document(document({"10.0.0.1", "10.0.0.2"}), false)).hosts[1].draining);
  ASSERT_NE(pipeline.document(document({"10.0.0.1"}), false).spec, nullptr);
  auto back = pipeline.document(document({"10.0.0.1", "10.0.0.2"}), false);
  EXPECT_FALSE(onlyCluster(back).hosts[1].draining);
}

class PipelineStateFileTest : public PipelineTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("baton-pipeline-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    spec_.state_file = (dir_ / "state.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string saved() const {
    auto loaded = loadState(spec_.state_file);
    return loaded ? *loaded : "(" + loaded.error().detail + ")";
  }
  fs::path dir_;
};

TEST_F(PipelineStateFileTest, AnAcceptedChangeIsSavedTheSavedStateIsNotSavedAgain) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  const std::string from_disk = document({"10.0.0.1"});
  EXPECT_TRUE(pipeline.document(from_disk, true).from_disk);
  EXPECT_FALSE(fs::exists(spec_.state_file));
  const std::string live = document({"10.0.0.7"});
  EXPECT_FALSE(pipeline.document(live, false).from_disk);
  EXPECT_EQ(saved(), live);
  // The same document again is not written again (the file removed meanwhile stays removed).
  fs::remove(spec_.state_file);
  ASSERT_NE(pipeline.document(live, false).spec, nullptr);
  EXPECT_FALSE(fs::exists(spec_.state_file));
  // A refused document is never saved.
  pipeline.document(R"({"apps":)", false);
  EXPECT_FALSE(fs::exists(spec_.state_file));
}

TEST_F(PipelineStateFileTest, AnUnreadableSavedStateIsIgnoredNotRefused) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  auto step = pipeline.document(R"({"apps":[)", true);
  EXPECT_TRUE(step.refusal.empty());
  EXPECT_FALSE(step.accepted);
  EXPECT_EQ(step.spec, nullptr);
}

// A job named by `text`: a document's body, or a task-ending job's one task id.
PipelineJob job(PipelineJob::Kind kind, std::string text) {
  PipelineJob out;
  out.kind = kind;
  if (kind == PipelineJob::Kind::TaskEnding) {
    out.task_ids.push_back(std::move(text));
  } else {
    out.body = std::move(text);
  }
  return out;
}

std::string nameOf(const PipelineJob& job) {
  if (job.kind != PipelineJob::Kind::TaskEnding) return job.body;
  std::string out;
  for (const auto& id : job.task_ids) out += (out.empty() ? "" : "+") + id;
  return out;
}

TEST(PipelineQueueTest, FirstInFirstOutAcrossKinds) {
  PipelineQueue queue;
  queue.push(job(PipelineJob::Kind::TaskEnding, "a"));
  queue.push(job(PipelineJob::Kind::Document, "doc"));
  queue.push(job(PipelineJob::Kind::Resolved, ""));
  queue.push(job(PipelineJob::Kind::TaskEnding, "b"));
  std::vector<std::string> order;
  while (auto next = queue.pop()) order.push_back(nameOf(*next));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "doc", "", "b"}));
  EXPECT_FALSE(queue.pop().has_value());
}

TEST(PipelineQueueTest, ANewerDocumentTakesTheWaitingOnesPlace) {
  PipelineQueue queue;
  queue.push(job(PipelineJob::Kind::Document, "old"));
  queue.push(job(PipelineJob::Kind::TaskEnding, "t"));
  queue.push(job(PipelineJob::Kind::Document, "new"));
  queue.push(job(PipelineJob::Kind::Document, "newest"));
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(nameOf(*queue.pop()), "newest");  // the drain then applies to the newest document
  EXPECT_EQ(nameOf(*queue.pop()), "t");
  // Once taken, a document is no longer replaced: the next one queues.
  queue.push(job(PipelineJob::Kind::Document, "a"));
  EXPECT_EQ(nameOf(*queue.pop()), "a");
  queue.push(job(PipelineJob::Kind::Document, "b"));
  EXPECT_EQ(queue.size(), 1u);
}

TEST(PipelineQueueTest, TaskEndingsJoinTheOneWaitingAtTheBack) {
  PipelineQueue queue;
  queue.push(job(PipelineJob::Kind::TaskEnding, "a"));
  queue.push(job(PipelineJob::Kind::TaskEnding, "b"));
  queue.push(job(PipelineJob::Kind::Document, "doc"));
  queue.push(job(PipelineJob::Kind::TaskEnding, "c"));
  queue.push(job(PipelineJob::Kind::TaskEnding, "d"));
  std::vector<std::string> order;
  while (auto next = queue.pop()) order.push_back(nameOf(*next));
  // Not into the first one: c and d may be tasks of the document queued between.
  EXPECT_EQ(order, (std::vector<std::string>{"a+b", "doc", "c+d"}));
}

TEST_F(PipelineTest, SeveralTaskEndingsCostOneTranslate) {
  DiscoveryPipeline pipeline(spec_, options(), reclaimer_);
  ASSERT_NE(pipeline.document(document({"10.0.0.1", "10.0.0.2", "10.0.0.3"}), false).spec, nullptr);
  auto drained = pipeline.taskEnding({"web.0", "web.9", "web.2"});
  EXPECT_EQ(drained.ended_tasks, (std::vector<std::string>{"web.0", "web.9", "web.2"}));
  const auto& hosts = onlyCluster(drained).hosts;
  EXPECT_TRUE(hosts[0].draining);
  EXPECT_FALSE(hosts[1].draining);
  EXPECT_TRUE(hosts[2].draining);
}

// The id of this process's thread named `name` (-1: none found).
pid_t tidOfThread(const std::string& name) {
  for (const auto& entry : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string found;
    std::getline(comm, found);
    if (found == name) return std::stoi(entry.path().filename().string());
  }
  return -1;
}

// The nice value of the thread named `name` (-100: none found).
int niceOfThread(const std::string& name) {
  const pid_t tid = tidOfThread(name);
  return tid < 0 ? -100 : getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
}

// The scheduling policy of the thread named `name` (-1: none found).
int policyOfThread(const std::string& name) {
  const pid_t tid = tidOfThread(name);
  return tid < 0 ? -1 : sched_getscheduler(tid);
}

TEST(PipelineThreadTest, StepsComeBackOnTheLoopThreadInOrder) {
  core::EventLoop loop;
  core::Reclaimer reclaimer;
  std::vector<PipelineStep> steps;
  std::vector<std::thread::id> threads;
  {
    PipelineThread thread(
        loop, std::make_unique<DiscoveryPipeline>(conf::MarathonSpec{}, options(), reclaimer),
        reclaimer, [&](PipelineStep step) {
          steps.push_back(std::move(step));
          threads.push_back(std::this_thread::get_id());
        });
    thread.document(document({"10.0.0.1", "10.0.0.2"}), false);
    thread.taskEnding("web.0");
    ASSERT_TRUE(testing::runUntil(loop, [&] { return steps.size() == 2; }));
  }
  EXPECT_TRUE(steps[0].accepted);
  EXPECT_FALSE(onlyCluster(steps[0]).hosts[0].draining);
  EXPECT_TRUE(onlyCluster(steps[1]).hosts[0].draining);
  for (const auto& id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(PipelineThreadTest, ALargeDocumentFromTheSourceLowersThePriorityOnceTranslated) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (own >= core::kBackgroundNice) GTEST_SKIP() << "the tests already run at nice " << own;
  core::EventLoop loop;
  core::Reclaimer reclaimer;
  size_t steps = 0;
  const std::string small = document({"10.0.0.1"});
  const std::string large = document({"10.0.0.2", "10.0.0.3"});
  PipelineThread thread(
      loop, std::make_unique<DiscoveryPipeline>(conf::MarathonSpec{}, options(), reclaimer),
      reclaimer, [&](PipelineStep) { ++steps; }, /*low_priority_from=*/large.size());
  // Neither the persisted state (even a large one) nor a small document lowers it.
  thread.document(large, true);
  thread.waitIdle();  // else the next document would take its place in the queue
  thread.document(small, false);
  thread.waitIdle();
  EXPECT_EQ(niceOfThread("baton-resync"), own);
  EXPECT_EQ(policyOfThread("baton-resync"), SCHED_OTHER);
  thread.document(large, false);
  thread.waitIdle();
  EXPECT_GE(niceOfThread("baton-resync"), core::kBackgroundNice);
  // Idle-class only while it works (perform()): between jobs it takes locks the control thread
  // takes too.
  EXPECT_EQ(policyOfThread("baton-resync"), SCHED_OTHER);
  ASSERT_TRUE(testing::runUntil(loop, [&] { return steps >= 2; }));
}

std::string manyTasks(size_t n, int generation) {
  std::vector<std::string> hosts;
  for (size_t i = 0; i < n; ++i) {
    hosts.push_back("10." + std::to_string(generation) + "." + std::to_string(i / 250) + "." +
                    std::to_string(1 + i % 250));
  }
  return document(hosts);
}

TEST(PipelineThreadTest, WorkThatWaitedTooLongRaisesTheLaneUntilTheThreadIsIdle) {
  core::EventLoop loop;
  core::Reclaimer reclaimer;
  size_t steps = 0;
  // A guard of 0 ms: its timer fires on the loop's next pass, while the thread still parses and
  // translates 4,000 tasks.
  PipelineThread thread(
      loop, std::make_unique<DiscoveryPipeline>(conf::MarathonSpec{}, options(), reclaimer),
      reclaimer, [&](PipelineStep) { ++steps; }, /*low_priority_from=*/1,
      /*starved_after=*/std::chrono::milliseconds{0});
  thread.document(manyTasks(4000, 1), false);  // the thread joins its lane once translated
  ASSERT_TRUE(testing::runUntil(loop, [&] { return steps == 1; }));
  thread.waitIdle();
  const uint64_t before = thread.starvedRaises();  // 0 or 1: it joined at the end of that job
  for (int generation = 2; generation <= 3; ++generation) {
    thread.document(manyTasks(4000, generation), false);
    ASSERT_TRUE(testing::runUntil(loop, [&] { return steps == size_t(generation); }));
    thread.waitIdle();
    // One raise per spell of work, however often the guard looked, each ended once idle (a
    // raise counts only when the lane was lowered).
    if (core::BackgroundLane::idleClassAvailable()) {
      EXPECT_EQ(thread.starvedRaises(), before + generation - 1);
    }
  }
}

TEST(PipelineThreadTest, AThreadNotInItsLaneIsNeverRaised) {
  core::EventLoop loop;
  core::Reclaimer reclaimer;
  size_t steps = 0;
  // Small documents (under kLowPriorityFromBytes): the thread stays at normal priority, and even
  // a guard of 0 ms has nothing to raise or to count.
  PipelineThread thread(
      loop, std::make_unique<DiscoveryPipeline>(conf::MarathonSpec{}, options(), reclaimer),
      reclaimer, [&](PipelineStep) { ++steps; }, PipelineThread::kLowPriorityFromBytes,
      /*starved_after=*/std::chrono::milliseconds{0});
  thread.document(manyTasks(4000, 1), false);
  ASSERT_TRUE(testing::runUntil(loop, [&] { return steps == 1; }));
  thread.document(manyTasks(4000, 2), false);
  ASSERT_TRUE(testing::runUntil(loop, [&] { return steps == 2; }));
  EXPECT_EQ(thread.starvedRaises(), 0u);
  EXPECT_EQ(policyOfThread("baton-resync"), SCHED_OTHER);
}

TEST(PipelineThreadTest, NothingIsDeliveredOnceTheThreadObjectIsGone) {
  core::EventLoop loop;
  core::Reclaimer reclaimer;
  int delivered = 0;
  {
    PipelineThread thread(
        loop, std::make_unique<DiscoveryPipeline>(conf::MarathonSpec{}, options(), reclaimer),
        reclaimer, [&](PipelineStep) { ++delivered; });
    thread.document(document({"10.0.0.1"}), false);
    thread.waitIdle();  // its step now waits in the loop's queue
  }
  testing::runFor(loop, std::chrono::milliseconds{20});
  EXPECT_EQ(delivered, 0);
}

}  // namespace
}  // namespace baton::discovery
