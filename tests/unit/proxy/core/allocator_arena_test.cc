// core/allocator_arena.h with jemalloc linked (core_test links it, as the binary does): a lane
// member allocates from the background arena, shared by the lane's helpers and apart from the
// arena of the thread that started them.
#include "proxy/core/allocator_arena.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "proxy/core/background_lane.h"
#include "proxy/core/reclaimer.h"

// jemalloc's statistics, read here directly (the binary reads none of them).
extern "C" int mallctl(const char* name, void* old_value, size_t* old_size, void* new_value,
                       size_t new_size) __attribute__((weak));

namespace baton::core {
namespace {

TEST(AllocatorArenaTest, LaneThreadsAllocateFromTheBackgroundArena) {
  const int own = currentArena();
  if (own < 0) GTEST_SKIP() << "jemalloc is not linked";
  BackgroundLane lane;
  std::atomic<int> member_arena{-1};
  std::atomic<int> helper_arena{-1};
  std::atomic<int> after_leaving{-1};
  std::thread([&] {
    {
      BackgroundLane::Member member(&lane);
      member_arena = currentArena();
      BackgroundLane::startHelper([&] { helper_arena = currentArena(); }).join();
    }
    after_leaving = currentArena();  // it stays there between its turns in a lane
  }).join();
  const int background = useBackgroundArena();  // this thread too, now (the test's last step)
  EXPECT_GE(background, 0);
  EXPECT_NE(background, own);
  EXPECT_EQ(member_arena.load(), background);
  EXPECT_EQ(helper_arena.load(), background);
  EXPECT_EQ(after_leaving.load(), background);
}

TEST(AllocatorArenaTest, AThreadOutsideALaneKeepsItsArena) {
  if (currentArena() < 0) GTEST_SKIP() << "jemalloc is not linked";
  const int background = useBackgroundArena();
  std::atomic<int> arena{-1};
  std::thread([&] {
    void* warm = ::operator new(64);  // the thread's arena is chosen on its first allocation
    ::operator delete(warm);
    arena = currentArena();
  }).join();
  EXPECT_NE(arena.load(), background);
}

// Objects of `size` that frees have returned to `arena`'s bin so far: a free through a thread
// cache stays in the cache until it flushes; a free without one reaches the bin at once.
uint64_t binFrees(int arena, size_t size) {
  uint64_t epoch = 1;
  mallctl("epoch", nullptr, nullptr, &epoch, sizeof(epoch));
  unsigned nbins = 0;
  size_t len = sizeof(nbins);
  mallctl("arenas.nbins", &nbins, &len, nullptr, 0);
  char name[96];
  for (unsigned bin = 0; bin < nbins; ++bin) {
    size_t bin_size = 0;
    len = sizeof(bin_size);
    std::snprintf(name, sizeof(name), "arenas.bin.%u.size", bin);
    if (mallctl(name, &bin_size, &len, nullptr, 0) != 0 || bin_size != size) continue;
    uint64_t frees = 0;
    len = sizeof(frees);
    std::snprintf(name, sizeof(name), "stats.arenas.%d.bins.%u.ndalloc", arena, bin);
    return mallctl(name, &frees, &len, nullptr, 0) == 0 ? frees : 0;
  }
  ADD_FAILURE() << "no bin of size " << size;
  return 0;
}

// The reclaimer only frees. jemalloc leaves such a thread without a thread cache unless it is
// given one, and then returns each object to its bin under the bin's lock: a resync's
// reclaimer took ~900,000 locks that way (bench/RESULTS.md, 2026-11-27 18:20).
TEST(AllocatorArenaTest, TheReclaimerFreesThroughAThreadCache) {
  const int arena = currentArena();
  if (arena < 0) GTEST_SKIP() << "jemalloc is not linked";
  constexpr size_t kSize = 2560;  // a size class nothing else here uses
  constexpr int kObjects = 16;    // well under a thread cache's capacity for it
  // Blocks of kSize, freed when the last owner lets go of them.
  struct Blocks {
    std::vector<void*> blocks;
    Blocks() = default;
    Blocks(Blocks&& other) noexcept : blocks(std::move(other.blocks)) { other.blocks.clear(); }
    ~Blocks() {
      for (void* block : blocks) ::operator delete(block, kSize);
    }
  };
  Reclaimer reclaimer;
  Blocks garbage;
  for (int i = 0; i < kObjects; ++i) garbage.blocks.push_back(::operator new(kSize));
  const uint64_t before = binFrees(arena, kSize);
  reclaimer.dispose(std::move(garbage));
  reclaimer.drain();
  // Read while the reclaimer lives: its thread cache is flushed when it exits.
  EXPECT_EQ(binFrees(arena, kSize) - before, 0u);
}

}  // namespace
}  // namespace baton::core
