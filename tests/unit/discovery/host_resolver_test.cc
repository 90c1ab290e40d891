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

TEST(HostResolver, NumericAddressForms) {
  for (const char* yes : {"10.0.0.1", "255.255.255.255", "::1", "fe80::1:2", "::ffff:10.0.0.1",
                          "1:2:3:4:5:6:7:8", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"}) {
    EXPECT_TRUE(isNumericAddress(yes)) << yes;
  }
  for (const char* no :
       {"", "agent-7", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1 ", "10.0.0.1:80", "[::1]",
        ":::", "1:2:3:4:5:6:7:8:9", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555"}) {
    EXPECT_FALSE(isNumericAddress(no)) << no;
  }
  EXPECT_FALSE(isNumericAddress(std::string_view("10.0.0.1\0", 9)));
  EXPECT_FALSE(isNumericAddress(std::string(100, '1')));
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
