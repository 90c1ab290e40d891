// pick() cost per policy, with 3 and 100 hosts. Each iteration is one request: pick, start,
// end (so least-request and P2C see real outstanding counts), with no host excluded.
#include <benchmark/benchmark.h>

#include <string>

#include "upstream/cluster.h"
#include "upstream/load_balancer.h"

namespace baton::upstream {
namespace {

std::shared_ptr<const Cluster> benchCluster(conf::LbPolicyKind policy, int hosts, bool weighted) {
  conf::ClusterSpec spec;
  spec.name = "bench";
  spec.policy = policy;
  for (int i = 0; i < hosts; ++i) {
    std::string address =
        "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80";
    spec.hosts.push_back(conf::HostSpec{{}, address, weighted ? uint32_t(i % 5 + 1) : 1u});
  }
  return *Cluster::create(spec);
}

void pickLoop(benchmark::State& state, conf::LbPolicyKind policy) {
  auto lb = createLoadBalancer(
      benchCluster(policy, static_cast<int>(state.range(0)), state.range(1) != 0), 42);
  const TriedHosts none;
  for (auto _ : state) {
    const Host* h = lb->pick(none);
    benchmark::DoNotOptimize(h);
    lb->onRequestStart(*h);
    lb->onRequestEnd(*h);
  }
}

// Retry path: the first host picked is excluded, as after a connect failure.
void pickRetryLoop(benchmark::State& state, conf::LbPolicyKind policy) {
  auto lb = createLoadBalancer(benchCluster(policy, static_cast<int>(state.range(0)), true), 42);
  TriedHosts tried;
  tried.add(0);
  for (auto _ : state) {
    const Host* h = lb->pick(tried);
    benchmark::DoNotOptimize(h);
  }
}

void BM_PickRoundRobin(benchmark::State& s) {
  pickLoop(s, conf::LbPolicyKind::RoundRobin);
}
void BM_PickLeastRequest(benchmark::State& s) {
  pickLoop(s, conf::LbPolicyKind::LeastRequest);
}
void BM_PickPowerOfTwo(benchmark::State& s) {
  pickLoop(s, conf::LbPolicyKind::PowerOfTwo);
}
void BM_PickRetryRoundRobin(benchmark::State& s) {
  pickRetryLoop(s, conf::LbPolicyKind::RoundRobin);
}
void BM_PickRetryLeastRequest(benchmark::State& s) {
  pickRetryLoop(s, conf::LbPolicyKind::LeastRequest);
}
void BM_PickRetryPowerOfTwo(benchmark::State& s) {
  pickRetryLoop(s, conf::LbPolicyKind::PowerOfTwo);
}

// Args: {hosts, weighted}.
BENCHMARK(BM_PickRoundRobin)->ArgNames({"hosts", "weighted"})->ArgsProduct({{3, 100}, {0, 1}});
BENCHMARK(BM_PickLeastRequest)->ArgNames({"hosts", "weighted"})->ArgsProduct({{3, 100}, {0, 1}});
BENCHMARK(BM_PickPowerOfTwo)->ArgNames({"hosts", "weighted"})->ArgsProduct({{3, 100}, {0, 1}});
BENCHMARK(BM_PickRetryRoundRobin)->ArgName("hosts")->Arg(3)->Arg(100);
BENCHMARK(BM_PickRetryLeastRequest)->ArgName("hosts")->Arg(3)->Arg(100);
BENCHMARK(BM_PickRetryPowerOfTwo)->ArgName("hosts")->Arg(3)->Arg(100);

}  // namespace
}  // namespace baton::upstream
