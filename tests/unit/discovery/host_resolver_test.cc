#include "discovery/host_resolver.h"

#include <gtest/gtest.h>

#include "fake_server.h"

namespace baton::discovery {
namespace {

using testing::runUntil;

TEST(HostResolver, NumericAddressesPassThroughWithoutALookup) {
  core::EventLoop loop;
  HostResolver resolver(loop);
  bool done = false;
  resolver.resolveAll({"10.0.0.1", "::1"}, [&] { done = true; });
  EXPECT_FALSE(done);  // never called from inside resolveAll
  ASSERT_TRUE(runUntil(loop, [&] { return done; }));
  EXPECT_EQ(resolver.lookup("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(resolver.lookup("::1"), "::1");
  EXPECT_EQ(resolver.lookup("agent-7.example"), std::nullopt);
}

TEST(HostResolver, ResolvesANameAsynchronouslyAndCaches) {
  core::EventLoop loop;
  HostResolver resolver(loop);
  bool done = false;
  resolver.resolveAll({"localhost", "localhost", "127.0.0.1"}, [&] { done = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return done; }));
  const auto ip = resolver.lookup("localhost");
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(*ip == "127.0.0.1" || *ip == "::1") << *ip;
  // Cached: a second batch completes without a new lookup, still asynchronously.
  done = false;
  resolver.resolveAll({"localhost"}, [&] { done = true; });
  EXPECT_FALSE(done);
  ASSERT_TRUE(runUntil(loop, [&] { return done; }));
}

TEST(HostResolver, DestroyedWithLookupsInFlight) {
  core::EventLoop loop;
  bool done = false;
  {
    HostResolver resolver(loop);
    resolver.resolveAll({"unresolvable.invalid"}, [&] { done = true; });
  }
  EXPECT_FALSE(done);
  testing::runFor(loop, std::chrono::milliseconds{20});  // the cancelled callbacks run, freeing
  EXPECT_FALSE(done);
}

}  // namespace
}  // namespace baton::discovery
