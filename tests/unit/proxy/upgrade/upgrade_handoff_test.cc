// The upgrade handoff: listener records with their sockets and the operator overrides go from the
// old process to the new one intact, in batches beyond SCM_RIGHTS' per-message limit.
#include "proxy/upgrade/upgrade_handoff.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "proxy/admin_overrides.h"

namespace baton::proxy::upgrade {
namespace {

using std::chrono::milliseconds;
using upstream::AdminState;

TEST(HandoffRecords, FieldsWithTabsNewlinesAndBackslashesRoundTrip) {
  const std::vector<std::string> fields = {"a\tb", "c\nd", "e\\f", "", "plain"};
  auto records = splitRecords(joinRecord(fields) + joinRecord({"x"}));
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0], fields);
  EXPECT_EQ((*records)[1], std::vector<std::string>{"x"});
}

TEST(HandoffRecords, MalformedTextIsRefused) {
  EXPECT_FALSE(splitRecords("a\\").has_value());
  EXPECT_FALSE(splitRecords("a\\q\n").has_value());
  EXPECT_FALSE(splitRecords("no line end").has_value());
  EXPECT_TRUE(splitRecords("").has_value());
}

TEST(Handoff, SocketsOverridesAndGenerationArrive) {
  auto pair = framePair();
  ASSERT_TRUE(pair.has_value());
  // 450 sockets: three frames (200 + 200 + 50).
  std::vector<SocketRecord> sent;
  for (uint32_t i = 0; i < 450; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sent.push_back(SocketRecord{"app_" + std::to_string(i / 2), "127.0.0.1:" + std::to_string(i),
                                "127.0.0.1:" + std::to_string(40000 + i), i % 2, fd});
  }
  const std::string overrides(100000, 'o');  // two frames
  core::Result<Handoff> got = core::fail(core::Error::internal("not run"));
  std::thread reader([&] { got = receiveHandoff(pair->second, milliseconds(5000)); });
  auto done = sendHandoff(pair->first, sent, overrides, 7);
  reader.join();
  ASSERT_TRUE(done.has_value()) << done.error().detail;
  ASSERT_TRUE(got.has_value()) << got.error().detail;
  EXPECT_EQ(got->upgrade_generation, 7u);
  EXPECT_EQ(got->overrides, overrides);
  EXPECT_EQ(got->sockets.size(), 450u);
  // count() says what take() would give: the descriptor budget lets an upgrade adopt these free.
  EXPECT_EQ(got->sockets.count("app_3", "127.0.0.1:7"), 1u);
  EXPECT_EQ(got->sockets.count("app_3", "127.0.0.1:8"), 0u);
  auto taken = got->sockets.take("app_3", "127.0.0.1:7");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(got->sockets.count("app_3", "127.0.0.1:7"), 0u);
  EXPECT_EQ(taken[0].bound, "127.0.0.1:40007");
  EXPECT_EQ(taken[0].worker, 1u);
  int type = 0;
  socklen_t len = sizeof(type);
  EXPECT_EQ(::getsockopt(taken[0].fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_STREAM);
  ::close(taken[0].fd);
  EXPECT_TRUE(got->sockets.take("app_3", "127.0.0.1:7").empty());  // taken once
  EXPECT_EQ(got->sockets.closeAll(), 449u);
  for (const auto& s : sent) ::close(s.fd);
  ::close(pair->first);
  ::close(pair->second);
}

TEST(Handoff, TakeOrdersByWorker) {
  InheritedSockets pool;
  for (uint32_t w : {2u, 0u, 1u}) {
    pool.add(SocketRecord{"http", ":80", "0.0.0.0:80", w, ::dup(0)});
  }
  pool.add(SocketRecord{"http", ":81", "0.0.0.0:81", 0, ::dup(0)});
  auto taken = pool.take("http", ":80");
  ASSERT_EQ(taken.size(), 3u);
  for (uint32_t w = 0; w < 3; ++w) EXPECT_EQ(taken[w].worker, w);
  for (const auto& s : taken) ::close(s.fd);
  EXPECT_EQ(pool.size(), 1u);
}

TEST(Handoff, UnexpectedFrameIsRefused) {
  auto pair = framePair();
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(sendFrame(pair->first, kReady, "123").has_value());
  auto got = receiveHandoff(pair->second, milliseconds(1000));
  EXPECT_FALSE(got.has_value());
  ::close(pair->first);
  ::close(pair->second);
}

TEST(AdminOverridesText, RoundTrip) {
  AdminOverrides before;
  before.setHostState("shop_web", "10_0_6_25_31704", AdminState::Draining);
  before.setHostWeight("shop_web", "10_0_6_25_31704", 5);
  before.setHostWeight("shop_web", "other\thost", 9);
  before.setHostState("api", "h1", AdminState::Maintenance);
  before.setClusterState("batch", AdminState::Draining);
  auto after = AdminOverrides::parse(before.serialize());
  ASSERT_TRUE(after.has_value()) << after.error().detail;
  auto h = after->host("shop_web", "10_0_6_25_31704");
  EXPECT_EQ(h.state, AdminState::Draining);
  EXPECT_EQ(h.weight, 5u);
  auto tabbed = after->host("shop_web", "other\thost");
  EXPECT_FALSE(tabbed.state.has_value());
  EXPECT_EQ(tabbed.weight, 9u);
  EXPECT_EQ(after->host("api", "h1").state, AdminState::Maintenance);
  EXPECT_EQ(after->clusterState("batch"), AdminState::Draining);
  EXPECT_EQ(after->clusterState("shop_web"), AdminState::Active);
  EXPECT_EQ(after->serialize().size(), before.serialize().size());
}

TEST(AdminOverridesText, EmptyAndMalformed) {
  auto empty = AdminOverrides::parse("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(AdminOverrides::parse("host\tc\th\tsleepy\t\n").has_value());
  EXPECT_FALSE(AdminOverrides::parse("host\tc\th\t\tmany\n").has_value());
  EXPECT_FALSE(AdminOverrides::parse("cluster\tc\n").has_value());
  EXPECT_FALSE(AdminOverrides::parse("planet\tmars\n").has_value());
}

}  // namespace
}  // namespace baton::proxy::upgrade
