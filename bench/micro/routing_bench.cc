// Micro-benchmarks for the per-request routing work: request-target parsing (URL policy) and
// route-table lookup. Run: baton_bench --benchmark_filter='Parse|Match'.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "routing/request_target.h"
#include "routing/route_table.h"

namespace baton::routing {
namespace {

void parseTarget(benchmark::State& state, const std::string& raw) {
  for (auto _ : state) {
    auto parsed = parseRequestTarget(raw, false);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}

void BM_ParseAsciiWithQuery(benchmark::State& state) {
  parseTarget(state, "/api/v1/users/12345/orders?limit=20&offset=40&sort=desc");
}
BENCHMARK(BM_ParseAsciiWithQuery);

void BM_ParseRawUtf8(benchmark::State& state) {
  parseTarget(state, "/电影/中文/频道/列表?q=中文");
}
BENCHMARK(BM_ParseRawUtf8);

void BM_ParseDotSegments(benchmark::State& state) {
  parseTarget(state, "/static/css/../js/./vendor/%2e%2e/app//main.js");
}
BENCHMARK(BM_ParseDotSegments);

void BM_RenderForwardEncode(benchmark::State& state) {
  const auto parsed = *parseRequestTarget("/电影/中文/频道/列表?q=中文", false);
  const ForwardOptions options{conf::RawByteMode::Encode, true};
  for (auto _ : state) {
    auto out = renderForwardTarget(parsed, options);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RenderForwardEncode);

conf::RouteSpec routeSpec(std::string prefix, std::string cluster) {
  conf::RouteSpec r;
  r.loc = {"bench.toml", 1};
  r.prefix = std::move(prefix);
  r.cluster = std::move(cluster);
  return r;
}

conf::VirtualHostSpec vhostSpec(std::string name, std::string domain, int routes) {
  conf::VirtualHostSpec v;
  v.loc = {"bench.toml", 1};
  v.name = std::move(name);
  v.domains = {std::move(domain)};
  for (int i = routes - 1; i > 0; --i) v.routes.push_back(routeSpec("/r" + std::to_string(i), "c"));
  v.routes.push_back(routeSpec("/", "c"));
  return v;
}

void BM_MatchSmall(benchmark::State& state) {
  std::vector<conf::VirtualHostSpec> vhosts;
  conf::VirtualHostSpec v = vhostSpec("site", "*", 1);
  v.routes.insert(v.routes.begin(), {routeSpec("/api", "c"), routeSpec("/static", "c")});
  vhosts.push_back(v);
  const auto table = *RouteTable::create(vhosts, {"c"}, 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->match("www.example.com", "/static/app.js"));
  }
}
BENCHMARK(BM_MatchSmall);

// 1,000 exact vhosts + 20 wildcards + a default, 5 routes each; arg 0/1/2 = exact/wildcard/
// default hit, each on the fourth route.
void BM_MatchLarge(benchmark::State& state) {
  std::vector<conf::VirtualHostSpec> vhosts;
  for (int i = 0; i < 1000; ++i) {
    vhosts.push_back(
        vhostSpec("v" + std::to_string(i), "host" + std::to_string(i) + ".example.com", 5));
  }
  for (int i = 0; i < 20; ++i) {
    vhosts.push_back(
        vhostSpec("w" + std::to_string(i), "*.zone" + std::to_string(i) + ".example.net", 5));
  }
  vhosts.push_back(vhostSpec("default", "*", 5));
  const auto table = *RouteTable::create(vhosts, {"c"}, 0);
  const char* hosts[] = {"Host517.example.com:8080", "a.b.zone7.example.net",
                         "unknown.example.org"};
  const std::string host = hosts[state.range(0)];
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->match(host, "/r1/items/42"));
  }
}
BENCHMARK(BM_MatchLarge)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace baton::routing
