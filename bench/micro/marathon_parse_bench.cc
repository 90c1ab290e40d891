// Parsing Marathon's app document (discovery/model/parse_apps.h): what one resync costs the
// control thread. Run: baton_bench --benchmark_filter=MarathonParse.
#include <benchmark/benchmark.h>

#include <string>

#include "discovery/model/parse_apps.h"
#include "tests/unit/discovery/model/apps_document.h"

namespace baton::discovery {
namespace {

// Args: apps, tasks per app. A reused AppsParser, as the discovery manager holds one.
void BM_MarathonParseReused(benchmark::State& state) {
  const std::string doc =
      testing::makeAppsDocument(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  AppsParser parser;
  if (!parser.parse(doc)) state.SkipWithError("warm-up parse failed");  // size the buffers once
  for (auto _ : state) {
    auto apps = parser.parse(doc);
    if (!apps) state.SkipWithError(apps.error().detail.c_str());
    benchmark::DoNotOptimize(apps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));  // tasks
}
BENCHMARK(BM_MarathonParseReused)
    ->Args({100, 10})
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A fresh parser per document (parseApps()): includes faulting in simdjson's buffers.
void BM_MarathonParseFresh(benchmark::State& state) {
  const std::string doc =
      testing::makeAppsDocument(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    auto apps = parseApps(doc);
    if (!apps) state.SkipWithError(apps.error().detail.c_str());
    benchmark::DoNotOptimize(apps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));
}
BENCHMARK(BM_MarathonParseFresh)->Args({10000, 10})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace baton::discovery
