// pick() must not allocate: it runs once per request on every worker. Counted by replacing
// the global operator new for this test binary (malloc/free underneath, so it stays
// compatible with sanitizers).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "tests/unit/upstream/test_clusters.h"

namespace {
thread_local long g_allocations = 0;
}  // namespace

// GCC 12 sees the replaced delete inlined next to gtest's `new` and flags malloc/free as a
// mismatch; they are a matched pair here by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace baton::upstream {
namespace {

// The counter itself works: copying a non-empty TriedHosts allocates.
TEST(PickAllocCounterTest, CountsAllocations) {
  TriedHosts tried;
  tried.add(1);
  const long before = g_allocations;
  TriedHosts copy = tried;
  EXPECT_TRUE(copy.contains(1));
  EXPECT_GT(g_allocations - before, 0);
}

class PickAllocTest : public ::testing::TestWithParam<conf::LbPolicyKind> {};

TEST_P(PickAllocTest, PickDoesNotAllocate) {
  auto cluster =
      testing::makeCluster(GetParam(), {5, 1, 1, 2, 3})->withAdminState(3, AdminState::Draining);
  auto lb = createLoadBalancer(cluster, 1);
  TriedHosts tried;
  tried.add(0);
  const TriedHosts none;
  long sum = 0;
  const long before = g_allocations;
  for (int i = 0; i < 1000; ++i) {
    const Host* h = lb->pick(i % 2 ? tried : none);
    lb->onRequestStart(*h);
    sum += h->index;
    lb->onRequestEnd(*h);
  }
  EXPECT_EQ(g_allocations - before, 0);
  EXPECT_GT(sum, 0);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PickAllocTest,
                         ::testing::Values(conf::LbPolicyKind::RoundRobin,
                                           conf::LbPolicyKind::LeastRequest,
                                           conf::LbPolicyKind::PowerOfTwo));

}  // namespace
}  // namespace baton::upstream
