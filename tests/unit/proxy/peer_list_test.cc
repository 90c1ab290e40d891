// The peer list of `batonctl --all` and the peer monitor: Marathon's one-app answer -> the
// instances' admin endpoints (proxy/peers/peer_list.h), and a peer's /instance answer.
#include "proxy/peers/peer_list.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::proxy::peers {
namespace {

std::string appJson(const std::string& extra_app_fields, const std::string& tasks) {
  return R"({"app":{"id":"/baton",)" + extra_app_fields + R"("tasks":[)" + tasks + "]}}";
}

const std::string kTasks =
    R"({"id":"baton.b","host":"10.0.0.2","ports":[80,31002],"state":"TASK_RUNNING"},)"
    R"({"id":"baton.a","host":"10.0.0.1","ports":[80,31001],"state":"TASK_RUNNING"},)"
    R"({"id":"baton.c","host":"10.0.0.3","ports":[80,31003],"state":"TASK_STAGING"})";

TEST(PeerListTest, AdminPortNamedInPortDefinitions) {
  auto list = peersFromApp(
      appJson(R"("portDefinitions":[{"port":80,"name":"http"},{"port":0,"name":"admin"}],)",
              kTasks),
      0);
  ASSERT_TRUE(list) << list.error().detail;
  // Sorted by task id; the staging task is not an instance.
  ASSERT_EQ(list->peers.size(), 2u);
  EXPECT_EQ(list->peers[0], (PeerEndpoint{"baton.a", "10.0.0.1", 31001}));
  EXPECT_EQ(list->peers[1], (PeerEndpoint{"baton.b", "10.0.0.2", 31002}));
  EXPECT_EQ(list->peers[0].address(), "10.0.0.1:31001");
  EXPECT_EQ(list->skipped, 0u);
}

TEST(PeerListTest, AdminPortNamedInContainerPortMappings) {
  auto list = peersFromApp(
      appJson(R"("container":{"portMappings":[{"containerPort":9090,"name":"admin"}]},)",
              R"({"id":"baton.a","host":"h1","ports":[31500]})"),
      0);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->peers.size(), 1u);
  EXPECT_EQ(list->peers[0].port, 31500);
}

TEST(PeerListTest, AdminPortIndexLabel) {
  auto list = peersFromApp(appJson(R"("labels":{"BATON_ADMIN_PORT_INDEX":"1"},)", kTasks), 0);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->peers.size(), 2u);
  EXPECT_EQ(list->peers[0].port, 31001);
}

TEST(PeerListTest, DefaultAndFixedPort) {
  auto by_default = peersFromApp(appJson("", kTasks), 0);
  ASSERT_TRUE(by_default);
  EXPECT_EQ(by_default->peers[0].port, kDefaultAdminPort);
  // --admin-port wins over everything the app says.
  auto fixed = peersFromApp(appJson(R"("labels":{"BATON_ADMIN_PORT_INDEX":"1"},)", kTasks), 7000);
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->peers[1].port, 7000);
}

TEST(PeerListTest, TasksWithoutThePortOrHostAreSkipped) {
  auto list = peersFromApp(appJson(R"("labels":{"BATON_ADMIN_PORT_INDEX":"2"},)",
                                   R"({"id":"a","host":"h","ports":[1,2,3]},)"
                                   R"({"id":"b","host":"h","ports":[1]},)"
                                   R"({"id":"c","host":"","ports":[1,2,3]})"),
                           0);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->peers.size(), 1u);
  EXPECT_EQ(list->peers[0].port, 3);
  EXPECT_EQ(list->skipped, 2u);
}

TEST(PeerListTest, RefusesWhatIsNotAnAppWithTasks) {
  EXPECT_FALSE(peersFromApp("not json", 0));
  EXPECT_FALSE(peersFromApp(R"({"apps":[]})", 0));
  EXPECT_FALSE(peersFromApp(R"({"app":{"id":"/baton"}})", 0));
}

TEST(PeerListTest, SelfAppPath) {
  EXPECT_EQ(selfAppPath("/baton"), "/v2/apps/baton?embed=app.tasks");
  EXPECT_EQ(selfAppPath("/edge/baton/"), "/v2/apps/edge/baton?embed=app.tasks");
}

TEST(PeerListTest, Ipv6Address) {
  EXPECT_EQ((PeerEndpoint{"t", "::1", 9090}).address(), "[::1]:9090");
}

TEST(PeerListTest, InstanceFacts) {
  auto facts = parseInstanceFacts(
      R"({"instance_id":"0badf00d","task_id":"baton.a","version":"0.4.0","pid":12,)"
      R"("generation":7,"marathon_state":"00ff","marathon_state_since_unix_ms":1000,)"
      R"("marathon_sync_age_ms":25,"now_unix_ms":2000})");
  ASSERT_TRUE(facts) << facts.error().detail;
  EXPECT_EQ(facts->instance_id, "0badf00d");
  EXPECT_EQ(facts->task_id, "baton.a");
  EXPECT_EQ(facts->generation, 7u);
  EXPECT_EQ(facts->marathon_state, "00ff");
  EXPECT_EQ(facts->marathon_state_since_unix_ms, 1000);
  EXPECT_EQ(facts->marathon_sync_age_ms, 25);
  EXPECT_FALSE(parseInstanceFacts(R"({"generation":7})"));  // not a baton
  EXPECT_FALSE(parseInstanceFacts("<html>"));
}

}  // namespace
}  // namespace baton::proxy::peers
