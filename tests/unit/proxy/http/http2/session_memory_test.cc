// nghttp2's per-thread allocator (session_memory.h): blocks are recycled by size class, calloc
// zeroes a recycled (dirty) block, realloc keeps the bytes, the lists stay bounded.
#include "proxy/http/http2/session_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace baton::proxy::http2 {
namespace {

void* allocate(size_t n) {
  nghttp2_mem* m = sessionMemory();
  return m->malloc(n, m->mem_user_data);
}
void release(void* p) {
  nghttp2_mem* m = sessionMemory();
  m->free(p, m->mem_user_data);
}

TEST(SessionMemoryTest, AFreedBlockServesTheNextRequestOfItsClassAlignedAndWhole) {
  if (!sessionMemoryRecycles()) GTEST_SKIP() << "no recycling under AddressSanitizer";
  for (size_t n : {1u, 8u, 48u, 49u, 100u, 300u, 1000u, 2000u, 4080u}) {
    void* a = allocate(n);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u) << n;
    std::memset(a, 0xAB, n);  // every requested byte is ours
    release(a);
    void* b = allocate(n);
    EXPECT_EQ(b, a) << "size " << n << " was not recycled";
    release(b);
  }
}

TEST(SessionMemoryTest, LargeBlocksGoStraightToMalloc) {
  const size_t before = sessionMemoryCachedBlocks();
  void* big = allocate(64 * 1024);
  ASSERT_NE(big, nullptr);
  std::memset(big, 1, 64 * 1024);
  release(big);
  EXPECT_EQ(sessionMemoryCachedBlocks(), before);
}

TEST(SessionMemoryTest, CallocZeroesARecycledBlock) {
  if (!sessionMemoryRecycles()) GTEST_SKIP() << "no recycling under AddressSanitizer";
  void* dirty = allocate(200);
  std::memset(dirty, 0xFF, 200);
  release(dirty);
  nghttp2_mem* m = sessionMemory();
  auto* z = static_cast<unsigned char*>(m->calloc(10, 20, m->mem_user_data));
  ASSERT_EQ(static_cast<void*>(z), dirty);  // the same block, so the zeroing is what we see
  for (size_t i = 0; i < 200; ++i) ASSERT_EQ(z[i], 0) << i;
  release(z);
  EXPECT_EQ(m->calloc(SIZE_MAX / 2, 4, m->mem_user_data), nullptr);  // n * size overflows
}

TEST(SessionMemoryTest, ReallocKeepsTheBytesWithinAClassAndAcrossClassesAndToLarge) {
  nghttp2_mem* m = sessionMemory();
  auto* p = static_cast<unsigned char*>(m->realloc(nullptr, 30, m->mem_user_data));
  for (size_t i = 0; i < 30; ++i) p[i] = static_cast<unsigned char>(i);
  p = static_cast<unsigned char*>(m->realloc(p, 40, m->mem_user_data));  // same class: in place
  for (size_t i = 30; i < 40; ++i) p[i] = static_cast<unsigned char>(i);
  p = static_cast<unsigned char*>(m->realloc(p, 3000, m->mem_user_data));
  for (size_t i = 40; i < 3000; ++i) p[i] = static_cast<unsigned char>(i);
  p = static_cast<unsigned char*>(m->realloc(p, 100000, m->mem_user_data));
  for (size_t i = 0; i < 3000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i)) << i;
  p[99999] = 7;
  p = static_cast<unsigned char*>(m->realloc(p, 200000, m->mem_user_data));  // large to large
  for (size_t i = 0; i < 3000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i)) << i;
  EXPECT_EQ(p[99999], 7);
  EXPECT_EQ(m->realloc(p, 0, m->mem_user_data), nullptr);  // realloc to 0 frees
}

TEST(SessionMemoryTest, TheListsKeepAtMostTheirLimitAfterABurst) {
  if (!sessionMemoryRecycles()) GTEST_SKIP() << "no recycling under AddressSanitizer";
  // 20,000 blocks of each of two classes in flight, then all freed: the lists keep no more than
  // 2,048 of the 64-byte class and 1,024 of the 1 KiB class (1 MiB), the rest goes back to
  // malloc. Other tests' sessions may have left blocks in any class: count what this adds.
  const size_t before = sessionMemoryCachedBlocks();
  std::vector<void*> blocks;
  for (int i = 0; i < 20000; ++i) {
    blocks.push_back(allocate(40));
    blocks.push_back(allocate(900));
  }
  for (void* p : blocks) release(p);
  EXPECT_LE(sessionMemoryCachedBlocks() - before, 2048u + 1024u);
  EXPECT_GE(sessionMemoryCachedBlocks(), 2048u + 1024u);
}

TEST(SessionMemoryTest, ABlockFreedOnAnotherThreadJoinsThatThreadsLists) {
  void* p = allocate(500);
  size_t there = 0;
  std::thread t([&] {
    const size_t before = sessionMemoryCachedBlocks();
    release(p);
    there = sessionMemoryCachedBlocks() - before;
  });
  t.join();  // the thread's lists, with p in them, are freed at its exit (ASan/LSan: no leak)
  EXPECT_EQ(there, sessionMemoryRecycles() ? 1u : 0u);
}

// A block released while the thread exits, after its lists were freed (a session destroyed by a
// thread_local constructed before the lists were first used), goes back to free(): no list is
// left holding it.
struct ReleasesAtExit {
  void* block = nullptr;
  size_t* cached_after = nullptr;
  ~ReleasesAtExit() {
    release(block);
    *cached_after = sessionMemoryCachedBlocks();
  }
};

TEST(SessionMemoryTest, ABlockReleasedAfterTheThreadsListsWereFreedIsNotCached) {
  size_t cached_after = 99;
  std::thread t([&] {
    thread_local ReleasesAtExit holder;  // constructed first, destroyed after the lists' reaper
    holder.block = allocate(300);
    holder.cached_after = &cached_after;
    release(allocate(200));  // a cached block: the reaper is now armed
  });
  t.join();
  EXPECT_EQ(cached_after, 0u);
}

}  // namespace
}  // namespace baton::proxy::http2
