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

TranslateOptions externalGroup() {
  TranslateOptions options;
  options.groups = {"external"};
  return options;
}

// Args: apps, tasks per app. Each iteration one app is redeployed (the common resync: a scale
// or a deploy), the other apps are the very objects of the last document, as parseShared
// hands them over.
void BM_TranslateOneAppChanged(benchmark::State& state) {
  SharedApps apps = sharedApps(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  if (apps.empty()) state.SkipWithError("parse failed");
  const TranslateOptions options = externalGroup();
  TranslateCache cache;
  TranslateContext context;
  context.cache = &cache;
  benchmark::DoNotOptimize(translate(apps, options, context));  // the cache filled once
  int64_t generation = 0;
  for (auto _ : state) {
    const size_t i = static_cast<size_t>(generation) % apps.size();
    apps[i] = redeployed(*apps[i], ++generation);
    auto spec = translate(apps, options, context);
    benchmark::DoNotOptimize(spec);
    state.PauseTiming();  // the discovery manager frees these on its reclaimer's thread
    cache.retired.clear();
    cache.retired_work.reset();
    spec = {};
    state.ResumeTiming();
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
  SharedApps apps = sharedApps(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  if (apps.empty()) state.SkipWithError("parse failed");
  const TranslateOptions options = externalGroup();
  TranslateCache cache;
  TranslateContext context;
  context.cache = &cache;
  benchmark::DoNotOptimize(translate(apps, options, context));  // the last document's cache
  int64_t generation = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++generation;
    for (auto& app : apps) app = redeployed(*app, generation);
    state.ResumeTiming();
    auto spec = translate(apps, options, context);
    benchmark::DoNotOptimize(spec);
    state.PauseTiming();
    cache.retired.clear();
    cache.retired_work.reset();
    spec = {};
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TranslateEveryAppChanged)
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace baton::discovery
