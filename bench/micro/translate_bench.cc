// Translating Marathon apps into baton's clusters, routes and listeners (discovery/model/
// translate.h) with the cache the discovery pipeline keeps: what one resync costs the resync
// thread after the parse. Run: baton_bench --benchmark_filter=Translate.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "discovery/model/parse_apps.h"
#include "discovery/model/translate.h"
#include "tests/unit/discovery/model/apps_document.h"

namespace baton::discovery {
namespace {

SharedApps sharedApps(int apps, int tasks_per_app) {
  std::string doc = testing::makeAppsDocument(apps, tasks_per_app);
  AppsParser parser;
  auto parsed = parser.parseShared(doc);
  return parsed ? std::move(*parsed) : SharedApps{};
}

// A new object for app `i` (a redeploy): every task id changes, so its cluster is rebuilt.
std::shared_ptr<const App> redeployed(const App& app, int64_t generation) {
  auto copy = std::make_shared<App>(app);
  for (Task& task : copy->tasks) task.id += "-" + std::to_string(generation);
  return copy;
}

// The discovery pipeline's translate state over a sequence of documents: apps of group
// "external" (range(0) apps of range(1) tasks), translated once so the cache holds the last
// document, as it does on every resync after the first.
class Resyncs {
 public:
  explicit Resyncs(benchmark::State& state)
      : apps_(sharedApps(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)))) {
    if (apps_.empty()) state.SkipWithError("parse failed");
    options_.groups = {"external"};
    context_.cache = &cache_;
    benchmark::DoNotOptimize(translate(apps_, options_, context_));
  }

  SharedApps& apps() { return apps_; }

  // One translate, timed; what it leaves to free is freed untimed (the discovery manager frees
  // it on its reclaimer's thread).
  void translateTimed(benchmark::State& state) {
    auto spec = translate(apps_, options_, context_);
    benchmark::DoNotOptimize(spec);
    state.PauseTiming();
    cache_.retired.clear();
    cache_.retired_work.reset();
    spec = {};
    state.ResumeTiming();
  }

 private:
  SharedApps apps_;
  TranslateOptions options_;
  TranslateCache cache_;
  TranslateContext context_;
};

// Args: apps, tasks per app. Each iteration one app is redeployed (the common resync: a scale
// or a deploy), the other apps are the very objects of the last document, as parseShared
// hands them over.
void BM_TranslateOneAppChanged(benchmark::State& state) {
  Resyncs resyncs(state);
  SharedApps& apps = resyncs.apps();
  int64_t generation = 0;
  for (auto _ : state) {
    const size_t i = static_cast<size_t>(generation) % apps.size();
    apps[i] = redeployed(*apps[i], ++generation);
    resyncs.translateTimed(state);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // apps
}
BENCHMARK(BM_TranslateOneAppChanged)
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Every app redeployed at once (every task replaced, labels unchanged): no host list can be
// reused.
void BM_TranslateEveryAppChanged(benchmark::State& state) {
  Resyncs resyncs(state);
  int64_t generation = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++generation;
    for (auto& app : resyncs.apps()) app = redeployed(*app, generation);
    state.ResumeTiming();
    resyncs.translateTimed(state);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TranslateEveryAppChanged)
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace baton::discovery
