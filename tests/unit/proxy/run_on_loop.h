// Test helper: runs `f` on `loop`'s thread (the loop runs on its own thread in these tests) and
// returns its result, so a test can touch loop-owned objects without a race.
#pragma once

#include <future>
#include <type_traits>

#include "proxy/core/event_loop.h"

namespace baton::proxy::test {

template <typename F>
auto runOnLoop(core::EventLoop& loop, F f) {
  std::promise<decltype(f())> done;
  loop.post([&] {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      done.set_value();
    } else {
      done.set_value(f());
    }
  });
  return done.get_future().get();
}

}  // namespace baton::proxy::test
