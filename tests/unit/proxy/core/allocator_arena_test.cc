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

// What frees of `size` did so far, over every arena (MALLCTL_ARENAS_ALL): objects returned to
// their bins, and how often the bins' locks were taken. A free through a thread cache reaches
// the bin only with a flush, many objects under one lock; a free without one takes it alone.
struct BinStats {
  uint64_t frees = 0;
  uint64_t locks = 0;
};

uint64_t readCounter(const char* name) {
  uint64_t value = 0;
  size_t len = sizeof(value);
  EXPECT_EQ(mallctl(name, &value, &len, nullptr, 0), 0) << name;
  return value;
}

BinStats binStats(size_t size) {
  uint64_t epoch = 1;
  EXPECT_EQ(mallctl("epoch", nullptr, nullptr, &epoch, sizeof(epoch)), 0);
  unsigned nbins = 0;
  size_t len = sizeof(nbins);
  EXPECT_EQ(mallctl("arenas.nbins", &nbins, &len, nullptr, 0), 0);
  char name[96];
  for (unsigned bin = 0; bin < nbins; ++bin) {
    size_t bin_size = 0;
    len = sizeof(bin_size);
    std::snprintf(name, sizeof(name), "arenas.bin.%u.size", bin);
    if (mallctl(name, &bin_size, &len, nullptr, 0) != 0 || bin_size != size) continue;
    BinStats stats;
    std::snprintf(name, sizeof(name), "stats.arenas.4096.bins.%u.ndalloc", bin);
    stats.frees = readCounter(name);
    std::snprintf(name, sizeof(name), "stats.arenas.4096.bins.%u.mutex.num_ops", bin);
    stats.locks = readCounter(name);
    return stats;
  }
  ADD_FAILURE() << "no bin of size " << size;
  return {};
}

constexpr size_t kBlockSize = 2560;  // a size class nothing else here uses
constexpr int kBlocks = 16;          // fits a thread cache's 20 slots for it

// Blocks of kBlockSize, freed by whichever thread lets go of the last owner.
struct Blocks {
  std::vector<void*> blocks;
  Blocks() {
    for (int i = 0; i < kBlocks; ++i) blocks.push_back(::operator new(kBlockSize));
  }
  Blocks(Blocks&& other) noexcept : blocks(std::move(other.blocks)) { other.blocks.clear(); }
  ~Blocks() {
    for (void* block : blocks) ::operator delete(block, kBlockSize);
  }
};

// The measure itself: a thread that only frees has no thread cache, so each of its frees takes
// its bin's lock.
TEST(AllocatorArenaTest, AThreadThatOnlyFreesHasNoThreadCache) {
  if (currentArena() < 0) GTEST_SKIP() << "jemalloc is not linked";
  auto garbage = std::make_unique<Blocks>();
  const BinStats before = binStats(kBlockSize);
  std::thread([&garbage] { garbage.reset(); }).join();
  const BinStats after = binStats(kBlockSize);
  EXPECT_EQ(after.frees - before.frees, static_cast<uint64_t>(kBlocks));
  EXPECT_GE(after.locks - before.locks, static_cast<uint64_t>(kBlocks));
}

// The reclaimer only frees, and jemalloc would leave it without a thread cache too: a resync's
// reclaimer took ~900,000 bin locks that way (bench/RESULTS.md, 2026-11-27 18:20–19:55). It frees
// through one, and flushes it after each batch, so what it freed is back in the bins (to reuse
// or purge) rather than parked in its cache until its next batch.
TEST(AllocatorArenaTest, TheReclaimerFreesThroughAThreadCacheAndFlushesIt) {
  if (currentArena() < 0) GTEST_SKIP() << "jemalloc is not linked";
  Reclaimer reclaimer;
  Blocks garbage;
  // Refreshing the statistics takes each arena's bin lock once too: measured, then left out.
  const BinStats first = binStats(kBlockSize);
  const uint64_t reading = binStats(kBlockSize).locks - first.locks;
  const BinStats before = binStats(kBlockSize);
  reclaimer.dispose(std::move(garbage));
  reclaimer.drain();
  const BinStats after = binStats(kBlockSize);
  EXPECT_EQ(after.frees - before.frees, static_cast<uint64_t>(kBlocks));                // flushed
  EXPECT_LT(after.locks - before.locks - reading, static_cast<uint64_t>(kBlocks) / 2);  // a batch
}

}  // namespace
}  // namespace baton::core
