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

// What a resync where every task changed costs the discovery manager's parse: parseShared
// (the split, the prints, the apps parsed one at a time on two threads) on two documents that
// differ in every task id, alternately, so no app can be reused.
void BM_MarathonParseSharedEveryTaskChanged(benchmark::State& state) {
  const std::string first =
      testing::makeAppsDocument(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  std::string second = first;
  for (size_t at = second.find("-01da9a15-"); at != std::string::npos;
       at = second.find("-01da9a15-", at + 1)) {
    second[at + 8] = '6';
  }
  std::string docs[2] = {first, second};
  // parseShared pads the body in its spare capacity: give both that room up front, so no timed
  // iteration reallocates a 34 MB document.
  for (std::string& doc : docs) doc.reserve(doc.size() + AppsParser::kPadding);
  AppsParser parser;
  if (!parser.parseShared(docs[0])) state.SkipWithError("warm-up parse failed");
  size_t turn = 0;
  for (auto _ : state) {
    auto apps = parser.parseShared(docs[turn ^= 1]);
    if (!apps) state.SkipWithError(apps.error().detail.c_str());
    const AppsParser::Stats stats = parser.lastStats();
    if (stats.by_print + stats.by_fingerprint != 0) {
      state.SkipWithError("an app was reused: the documents do not differ everywhere");
    }
    benchmark::DoNotOptimize(apps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * first.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));  // tasks
}
BENCHMARK(BM_MarathonParseSharedEveryTaskChanged)
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace baton::discovery
