#include "discovery/model/auto_domain.h"

#include <gtest/gtest.h>

namespace baton::discovery {
namespace {

TEST(AutoDomain, ReversesIdSegments) {
  EXPECT_EQ(autoDomain("/team/project/branch", "ns.example.com"),
            "branch.project.team.ns.example.com");
  EXPECT_EQ(autoDomain("/web", "Example.COM"), "web.example.com");
}

TEST(AutoDomain, LabelsMadeDnsSafe) {
  EXPECT_EQ(autoDomain("/My_Team/api.v2", "d.io"), "api-v2.my-team.d.io");
  EXPECT_EQ(autoDomain("/--/-x-", "d.io"), "x.d.io");  // empty label dropped
  EXPECT_EQ(dnsLabel(std::string(70, 'a')), std::string(63, 'a'));
  EXPECT_EQ(dnsLabel(std::string(62, 'a') + "_b"), std::string(62, 'a'));  // no trailing '-'
}

TEST(AutoDomain, OffOrEmpty) {
  EXPECT_EQ(autoDomain("/team/app", ""), "");
  EXPECT_EQ(autoDomain("/", "d.io"), "");
  EXPECT_EQ(autoDomain("/__/", "d.io"), "");
}

}  // namespace
}  // namespace baton::discovery
