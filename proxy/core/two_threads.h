// Splitting a batch of independent items over this thread and one helper thread, for the
// control thread's large one-off batches (a Marathon resync where every app changed: 100,000
// host entries to build, 10,000 clusters to create). Not for the data path: each call starts and
// joins a thread (~50 us), so below a few thousand items it costs more than it saves.
#pragma once

#include <cstddef>
#include <thread>

#include "proxy/core/background_lane.h"

namespace baton::core {

// Calls fn(i) once for every i in [0, n) and returns when all calls have returned. When the
// items' total weight (weight(i) summed) reaches `parallel_from` and the machine has two cores,
// the items from where half the weight lies onward run on a helper thread, the others here;
// otherwise all run here, in order. fn must be safe to call concurrently for different items.
template <class Weight, class Fn>
void forEachOnTwoThreads(size_t n, size_t parallel_from, Weight&& weight, Fn&& fn) {
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += weight(i);
  size_t split = n;
  if (total >= parallel_from && std::thread::hardware_concurrency() >= 2) {
    size_t before = 0;
    for (split = 0; split < n && before * 2 < total; ++split) before += weight(split);
  }
  std::jthread helper;
  if (split < n) {
    // In the caller's background lane, if any: a raise of the lane must reach the helper too,
    // or the caller would wait for a helper still starved (proxy/core/background_lane.h).
    helper = BackgroundLane::startHelper([&] {
      for (size_t i = split; i < n; ++i) fn(i);
    });
  }
  for (size_t i = 0; i < split; ++i) fn(i);
}

}  // namespace baton::core
