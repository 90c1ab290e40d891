// Micro-benchmarks for asset pinning (routing/pinning.h). Run:
//   baton_bench --benchmark_filter='Pin' --benchmark_min_time=0.2
// (1) What a request of a group NOT in cutover pays: the stream's `view == nullptr ||
//     !view->active` test, next to a plain route match for scale, and on a 2xx answer the
//     rule-12 freshness note (PinnedRequest::recordCdnFreshness).
// (2) gatherFacts + classify + chooseVersion for a CDN request and a direct one in cutover.
// (3) LearnedMap lookup / learn at 10,000 entries.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "proxy/http1/message.h"
#include "proxy/pinned_request.h"
#include "routing/pinning.h"
#include "routing/route_table.h"

namespace baton::routing::pin {
namespace {

GroupView cutoverView() {
  GroupView view;
  view.group = "shop";
  view.mode = conf::PinMode::Full;
  view.versions = {{"a1b2c3d4e5", 3, 3}, {"f6a7b8c9d0", 3, 3}};
  view.cdn_version = 0;
  view.in_cutover = view.active = true;
  return view;
}

// (1) ------------------------------------------------------------------------------------------

// The whole cost for an unpinned cluster (no GroupView at all).
void BM_PinCheckNoGroup(benchmark::State& state) {
  const GroupView* view = nullptr;
  for (auto _ : state) {
    benchmark::DoNotOptimize(view);
    const bool pinned = !(view == nullptr || !view->active);
    benchmark::DoNotOptimize(pinned);
  }
}
BENCHMARK(BM_PinCheckNoGroup);

// A pinned group outside cutover (and past its grace).
void BM_PinCheckInactiveGroup(benchmark::State& state) {
  GroupView inactive = cutoverView();
  inactive.in_cutover = inactive.active = false;
  const GroupView* view = &inactive;
  for (auto _ : state) {
    benchmark::DoNotOptimize(view);
    const bool pinned = !(view == nullptr || !view->active);
    benchmark::DoNotOptimize(pinned);
  }
}
BENCHMARK(BM_PinCheckInactiveGroup);

// What a 2xx answer of a pinned group outside cutover adds (rule 12's freshness note): a pass
// over the request's fields; a browser request stops there, a CDN one also parses Cache-Control.
void recordFreshness(benchmark::State& state, bool cdn) {
  proxy::PinGroupState group;
  group.view = cutoverView();
  group.view.in_cutover = group.view.active = false;
  group.runtime = std::make_shared<proxy::PinRuntime>();
  const proxy::PinSettings settings{conf::PinningSpec{}};
  proxy::http1::RequestHead request;
  request.method = "GET";
  request.target = "/style.css";
  request.headers = {{"Host", "shop.example.com"},
                     {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"},
                     {"Accept", "text/css,*/*;q=0.1"},
                     {"Accept-Encoding", "gzip, deflate, br"},
                     {"Accept-Language", "en-US,en;q=0.9"},
                     {"Referer", "https://shop.example.com/"},
                     {"Cookie", "session=abc123; theme=dark"}};
  if (cdn) request.headers.push_back({"CDN-Loop", "cloudflare"});
  const proxy::http1::HeaderList response = {{"Content-Type", "text/css"},
                                             {"Cache-Control", "public, max-age=300"},
                                             {"ETag", "\"v1-3bfc\""}};
  for (auto _ : state) {
    proxy::PinnedRequest::recordCdnFreshness(group, settings, settings.rules, request, "/style.css",
                                             conf::CdnOrigin::Auto, 200, response);
  }
}
void BM_PinInactiveFreshnessBrowser(benchmark::State& state) {
  recordFreshness(state, false);
}
void BM_PinInactiveFreshnessCdn(benchmark::State& state) {
  recordFreshness(state, true);
}
BENCHMARK(BM_PinInactiveFreshnessBrowser);
BENCHMARK(BM_PinInactiveFreshnessCdn);

conf::RouteSpec routeSpec(std::string prefix) {
  conf::RouteSpec r;
  r.loc = {"bench.toml", 1};
  r.prefix = std::move(prefix);
  r.cluster = "c";
  return r;
}

// Baseline: what every request already pays to find its route (3 routes, one wildcard vhost).
void BM_PinBaselineRouteMatch(benchmark::State& state) {
  conf::VirtualHostSpec v;
  v.loc = {"bench.toml", 1};
  v.name = "site";
  v.domains = {"*"};
  v.routes = {routeSpec("/api"), routeSpec("/static"), routeSpec("/")};
  const auto table = *RouteTable::create({v}, {"c"}, 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->match("www.example.com", "/static/app.js"));
  }
}
BENCHMARK(BM_PinBaselineRouteMatch);

// (2) ------------------------------------------------------------------------------------------

proxy::http1::HeaderList browserHeaders() {
  return {{"Host", "shop.example.com"},
          {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0"},
          {"Accept", "text/css,*/*;q=0.1"},
          {"Accept-Encoding", "gzip, deflate, br"},
          {"Accept-Language", "en-GB,en;q=0.9"},
          {"Referer", "https://shop.example.com/"},
          {"Sec-Fetch-Dest", "style"},
          {"Sec-Fetch-Mode", "no-cors"},
          {"Sec-Fetch-Site", "same-origin"},
          {"Cookie", "_ga=GA1.2.3.4; session=abcdef0123456789; baton_pin=f6a7b8c9d0"},
          {"X-Forwarded-For", "198.51.100.7"}};
}

proxy::http1::HeaderList cdnHeaders() {
  return {{"Host", "shop.example.com"},
          {"User-Agent", "Amazon CloudFront"},
          {"Accept-Encoding", "gzip"},
          {"Via", "2.0 0f2a8a2c3e1b4d5e6f7a8b9c0d1e2f3a.cloudfront.net (CloudFront)"},
          {"X-Amz-Cf-Id", "t5x8bQ2rX9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3aA=="},
          {"X-Forwarded-For", "198.51.100.7, 130.176.0.1"},
          {"Connection", "keep-alive"}};
}

void decide(benchmark::State& state, const proxy::http1::HeaderList& headers,
            std::string_view path) {
  const GroupView view = cutoverView();
  const conf::PinningSpec spec;
  const ClassifyRules rules = ClassifyRules::from(spec);
  const PathKnowledge known{};
  for (auto _ : state) {
    const RequestFacts facts = gatherFacts("GET", path, "", headers, spec.header, spec.cookie);
    const Traffic traffic = classifyTraffic(conf::CdnOrigin::Auto, facts);
    const Kind kind = classifyKind(facts, rules);
    const bool hashed = isHashedPath(facts.path, rules);
    const Choice choice = chooseVersion(view, traffic, kind, facts, known, -1, spec.token_param);
    benchmark::DoNotOptimize(hashed);
    benchmark::DoNotOptimize(choice);
  }
}

void BM_PinDecideCdn(benchmark::State& state) {
  decide(state, cdnHeaders(), "/assets/style.css");
}
BENCHMARK(BM_PinDecideCdn);

// Mode full with the pin cookie: the cookie rule decides.
void BM_PinDecideDirectCookie(benchmark::State& state) {
  decide(state, browserHeaders(), "/assets/style.css");
}
BENCHMARK(BM_PinDecideDirectCookie);

// No cookie, no header, nothing learned: the rendezvous pick over two versions.
void BM_PinDecideDirectHash(benchmark::State& state) {
  proxy::http1::HeaderList headers = browserHeaders();
  headers[9].value = "_ga=GA1.2.3.4; session=abcdef0123456789";
  decide(state, headers, "/assets/style.css");
}
BENCHMARK(BM_PinDecideDirectHash);

// (3) ------------------------------------------------------------------------------------------

constexpr size_t kEntries = 10'000;

std::vector<std::string> paths(size_t n, std::string_view stem) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(std::string(stem) + std::to_string(i) + ".js");
  return out;
}

LearnedMap fullMap(const std::vector<std::string>& keys) {
  LearnedMap map(kEntries, std::chrono::seconds(60));
  for (const std::string& k : keys) map.learnHas(k, "f6a7b8c9d0", "\"abc\"");
  return map;
}

void BM_PinMapLookupHit(benchmark::State& state) {
  const auto keys = paths(kEntries, "/assets/chunk-");
  LearnedMap map = fullMap(keys);
  const GroupView view = cutoverView();
  const Clock::time_point now = Clock::now();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.lookup(keys[i], view, now));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_PinMapLookupHit);

void BM_PinMapLookupMiss(benchmark::State& state) {
  LearnedMap map = fullMap(paths(kEntries, "/assets/chunk-"));
  const auto misses = paths(kEntries, "/assets/other-");
  const GroupView view = cutoverView();
  const Clock::time_point now = Clock::now();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.lookup(misses[i], view, now));
    if (++i == misses.size()) i = 0;
  }
}
BENCHMARK(BM_PinMapLookupMiss);

// Learning about a path already known (the common case: every 2xx of a hot path).
void BM_PinMapLearnKnown(benchmark::State& state) {
  const auto keys = paths(kEntries, "/assets/chunk-");
  LearnedMap map = fullMap(keys);
  size_t i = 0;
  for (auto _ : state) {
    map.learnHas(keys[i], "f6a7b8c9d0", "\"abc\"");
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_PinMapLearnKnown);

// Learning a new path into a full map: one eviction and one entry allocated per call.
void BM_PinMapLearnNewEvicting(benchmark::State& state) {
  const auto keys = paths(2 * kEntries, "/assets/chunk-");
  LearnedMap map(kEntries, std::chrono::seconds(60));
  size_t i = 0;
  for (auto _ : state) {
    map.learnHas(keys[i], "f6a7b8c9d0", "\"abc\"");
    if (++i == keys.size()) i = 0;  // 2x the capacity: every learn misses and evicts
  }
  state.counters["entries"] = static_cast<double>(map.size());
}
BENCHMARK(BM_PinMapLearnNewEvicting);

}  // namespace
}  // namespace baton::routing::pin
