#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/listen_socket.h"

namespace baton::proxy {
namespace {

// 20,000 descriptors (a common container hard limit), 2 workers: 10,000 service ports would take
// all of them. A quarter stays for connections, and fd_reserve for the accept guard: 7,484
// ports open, the rest are refused.
TEST(ListenerFdBudgetTest, KeepsAQuarterOfTheLimitForConnections) {
  ListenerFdBudget budget(20000, 32);
  EXPECT_EQ(budget.reserve(), 5032u);
  size_t ports = 0;
  while (budget.take(2)) ++ports;
  EXPECT_EQ(ports, 7484u);
  EXPECT_FALSE(budget.take(2));
  EXPECT_FALSE(budget.take(1));  // a refusal counted nothing: still exactly full
}

TEST(ListenerFdBudgetTest, SocketsAlreadyOpenCountFirst) {
  ListenerFdBudget budget(1000, 32);  // reserve 32 + 250: 718 for listeners and the rest
  budget.count(708);                  // the process's other descriptors, running listeners
  EXPECT_TRUE(budget.take(10));
  EXPECT_FALSE(budget.take(1));
}

// A small limit keeps fd_reserve + 64; a limit below that leaves no room at all.
TEST(ListenerFdBudgetTest, SmallLimitsKeepTheAcceptReserveAndMore) {
  ListenerFdBudget budget(256, 32);
  EXPECT_EQ(budget.reserve(), 96u);
  EXPECT_TRUE(budget.take(160));
  EXPECT_FALSE(budget.take(1));
  ListenerFdBudget tiny(64, 32);
  EXPECT_EQ(tiny.reserve(), 64u);
  EXPECT_FALSE(tiny.take(1));
}

TEST(ListenerFdBudgetTest, NoLimitNoBudget) {
  ListenerFdBudget budget(ListenerFdBudget::kUnlimited, 32);
  EXPECT_EQ(budget.reserve(), 0u);
  EXPECT_TRUE(budget.take(1'000'000));
}

// The listener retry's probe: bindable where openListenSocket would succeed, never listening.
TEST(ListenAddressBindable, FollowsWhatOpenListenSocketCanBind) {
  // A plain listening socket (no SO_REUSEPORT, as another service's): the port is not bindable.
  const int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(other, 0);
  auto any = parseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(any.has_value());
  ASSERT_EQ(::bind(other, reinterpret_cast<const sockaddr*>(&any->first), any->second), 0);
  ASSERT_EQ(::listen(other, 8), 0);
  uint16_t port = 0;
  const std::string held = boundAddress(other, &port);
  auto held_addr = parseListenAddress(held);
  ASSERT_TRUE(held_addr.has_value());
  EXPECT_FALSE(listenAddressBindable(held_addr->first, held_addr->second));
  ::close(other);
  EXPECT_TRUE(listenAddressBindable(held_addr->first, held_addr->second)) << "freed";
  // Baton's own listener (SO_REUSEPORT): a socket for another worker fits, so the probe passes
  // and takes none of its connections (it never listens).
  auto own = openListenSocket(held_addr->first, held_addr->second);
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(listenAddressBindable(held_addr->first, held_addr->second));
  ::close(*own);
}

}  // namespace
}  // namespace baton::proxy
