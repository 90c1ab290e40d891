// core::RecycledBlocks (proxy/core/recycled_blocks.h): the per-thread cache behind Stream's and the
// HTTP/2 StreamSink's operator new/delete. Blocks come back newest first, only for their own size,
// at most kMaxBlocks are kept, and each thread has its own cache.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "proxy/core/recycled_blocks.h"

namespace baton::core {
namespace {

// A size no real class uses, so no other test's objects share these caches.
constexpr size_t kSize = 1000;
using Blocks = RecycledBlocks<kSize, 3>;

#define SKIP_UNLESS_ENABLED() \
  if (!Blocks::kEnabled) GTEST_SKIP() << "no recycling under AddressSanitizer"

TEST(RecycledBlocksTest, AGivenBlockIsTakenBackNewestFirst) {
  SKIP_UNLESS_ENABLED();
  void* a = Blocks::take(kSize);
  void* b = Blocks::take(kSize);
  Blocks::give(a, kSize);
  Blocks::give(b, kSize);
  EXPECT_EQ(Blocks::take(kSize), b);
  EXPECT_EQ(Blocks::take(kSize), a);
  Blocks::give(a, kSize);
  Blocks::give(b, kSize);
}

TEST(RecycledBlocksTest, OtherSizesGoStraightToTheAllocator) {
  SKIP_UNLESS_ENABLED();
  void* a = Blocks::take(kSize);
  Blocks::give(a, kSize);
  void* other = Blocks::take(kSize + 8);  // a derived class: never a cached block
  EXPECT_NE(other, a);
  Blocks::give(other, kSize + 8);  // freed, not cached
  EXPECT_EQ(Blocks::take(kSize), a);
  Blocks::give(a, kSize);
}

TEST(RecycledBlocksTest, AtMostMaxBlocksAreKept) {
  SKIP_UNLESS_ENABLED();
  std::vector<void*> taken;
  for (int i = 0; i < 5; ++i) taken.push_back(Blocks::take(kSize));
  for (void* p : taken) Blocks::give(p, kSize);  // the last two go back to the allocator
  const std::set<void*> kept(taken.begin(), taken.begin() + 3);
  std::vector<void*> again;
  for (int i = 0; i < 3; ++i) again.push_back(Blocks::take(kSize));
  EXPECT_EQ(std::set<void*>(again.begin(), again.end()), kept);
  for (void* p : again) Blocks::give(p, kSize);
}

TEST(RecycledBlocksTest, EachThreadHasItsOwnCache) {
  SKIP_UNLESS_ENABLED();
  void* mine = Blocks::take(kSize);
  Blocks::give(mine, kSize);
  void* theirs = nullptr;
  std::thread([&] {
    theirs = Blocks::take(kSize);  // this thread's cache is empty: a fresh block
    Blocks::give(theirs, kSize);   // freed with the thread's cache when it exits
  }).join();
  EXPECT_NE(theirs, mine);
  EXPECT_EQ(Blocks::take(kSize), mine);
  Blocks::give(mine, kSize);
}

// RecyclingAllocator: a container's single nodes come from the per-thread cache (a node freed is
// the next one handed out), arrays (a hash table's buckets) from the allocator, and the
// container works as with std::allocator.
struct Node {
  char bytes[kSize - 8];  // another size than Blocks', so the two tests never share a cache
  char tail[8];
};

TEST(RecyclingAllocatorTest, NodesComeBackArraysDoNot) {
  RecyclingAllocator<Node, 3> alloc;
  Node* a = alloc.allocate(1);
  alloc.deallocate(a, 1);
  Node* b = alloc.allocate(1);
  if (RecycledBlocks<sizeof(Node), 3>::kEnabled) {
    EXPECT_EQ(b, a);
  }
  Node* array = alloc.allocate(4);
  EXPECT_NE(array, b);
  alloc.deallocate(array, 4);
  alloc.deallocate(b, 1);
}

TEST(RecyclingAllocatorTest, UnorderedMapBehavesAsUsual) {
  std::unordered_map<int, std::string, std::hash<int>, std::equal_to<int>,
                     RecyclingAllocator<std::pair<const int, std::string>>>
      map;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 500; ++i) map[i * 2 + 1] = std::to_string(i);
    for (int i = 0; i < 500; i += 2) map.erase(i * 2 + 1);
    EXPECT_EQ(map.size(), 250u);
    for (int i = 1; i < 500; i += 2) EXPECT_EQ(map.at(i * 2 + 1), std::to_string(i));
    map.clear();
  }
}

}  // namespace
}  // namespace baton::core
