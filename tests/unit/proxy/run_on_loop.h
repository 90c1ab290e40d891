// Test helpers: runOnLoop runs `f` on `loop`'s thread (the loop runs on its own thread in these
// tests) and returns its result, so a test can touch loop-owned objects without a race;
// LoopThreadTest is the fixture base that runs such a loop.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <thread>
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

// A fixture whose loop runs on a thread of its own: startLoop() in SetUp, run() to touch what
// the loop owns, stopLoop() in TearDown once the test has freed it there.
class LoopThreadTest : public ::testing::Test {
 protected:
  template <typename F>
  auto run(F f) {
    return runOnLoop(loop_, std::move(f));
  }
  void startLoop() {
    thread_ = std::thread([this] { loop_.run(); });
  }
  void stopLoop() {
    loop_.post([this] { loop_.stop(); });
    thread_.join();
  }

  core::EventLoop loop_;
  std::thread thread_;
};

}  // namespace baton::proxy::test
