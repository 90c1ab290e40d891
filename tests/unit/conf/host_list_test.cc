// conf::HostList: a ClusterSpec's hosts shared between copies, copied on the first write.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "conf/config_spec.h"

namespace baton::conf {
namespace {

HostSpec host(const char* address) {
  HostSpec h;
  h.address = address;
  return h;
}

TEST(HostList, CopiesShareUntilOneWrites) {
  ClusterSpec a;
  a.hosts = {host("10.0.0.1:80"), host("10.0.0.2:80")};
  ClusterSpec b = a;
  EXPECT_EQ(a.hosts.shared(), b.hosts.shared());  // no copy of the hosts
  EXPECT_EQ(a, b);

  b.hosts[1].draining = true;  // b takes its own copy first
  EXPECT_NE(a.hosts.shared(), b.hosts.shared());
  EXPECT_FALSE(a.hosts[1].draining);
  EXPECT_TRUE(b.hosts[1].draining);
  EXPECT_NE(a, b);

  b.hosts[1].draining = false;  // equal again, element by element
  EXPECT_EQ(a, b);
}

TEST(HostList, ReadsLikeAVector) {
  HostList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
  list.push_back(host("10.0.0.1:80"));
  list.emplace_back(host("10.0.0.2:80"));
  const std::vector<HostSpec>& view = list;
  ASSERT_EQ(view.size(), 2u);
  EXPECT_EQ(list.front().address, "10.0.0.1:80");
  EXPECT_EQ(list.back().address, "10.0.0.2:80");
  list.erase(list.begin());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].address, "10.0.0.2:80");
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(HostList(), list);
}

TEST(HostList, ASharedConstListIsNeverWrittenInPlace) {
  const auto frozen =
      std::make_shared<const std::vector<HostSpec>>(std::vector<HostSpec>{host("10.0.0.1:80")});
  HostList list(frozen);
  EXPECT_EQ(list.shared(), frozen);
  list[0].weight = 7;  // writes a private copy, even when it is the only holder
  EXPECT_NE(list.shared(), frozen);
  EXPECT_EQ((*frozen)[0].weight, 1u);
  EXPECT_EQ(list[0].weight, 7u);
}

TEST(HostList, ErasingFromASharedListLeavesTheOtherHolderAlone) {
  HostList a = {host("10.0.0.1:80"), host("10.0.0.2:80"), host("10.0.0.3:80")};
  HostList b = a;
  const HostList& view = b;
  b.erase(view.begin() + 1, view.end());  // iterators of the shared list
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b[0].address, "10.0.0.1:80");
}

}  // namespace
}  // namespace baton::conf
