#include "discovery/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::discovery {
namespace {

struct Collector {
  std::vector<SseEvent> events;
  core::Result<void> feed(SseParser& p, std::string_view bytes) {
    return p.feed(bytes, [this](SseEvent&& e) { events.push_back(std::move(e)); });
  }
};

TEST(SseParser, JettyFramingWithCrlf) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "event: status_update_event\r\ndata: {\"a\":1}\r\n\r\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "status_update_event");
  EXPECT_EQ(c.events[0].data, "{\"a\":1}");
}

TEST(SseParser, ByteByByteGivesTheSameEvents) {
  const std::string stream =
      "event: a\r\ndata: {\"x\":1}\r\n\r\n\r\n\r\nevent: b\r\ndata: {\"y\":2}\r\n\r\n";
  SseParser p;
  Collector c;
  for (char ch : stream) ASSERT_TRUE(c.feed(p, std::string_view(&ch, 1)));
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].type, "a");
  EXPECT_EQ(c.events[1].type, "b");
  EXPECT_EQ(c.events[1].data, "{\"y\":2}");
}

TEST(SseParser, HeartbeatCrAndLfInSeparateReadsIsNoEvent) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "\r"));
  ASSERT_TRUE(c.feed(p, "\n"));
  ASSERT_TRUE(c.feed(p, "\r"));
  ASSERT_TRUE(c.feed(p, "\nevent: x\r"));
  ASSERT_TRUE(c.feed(p, "\ndata: 1\r"));
  EXPECT_TRUE(c.events.empty());
  ASSERT_TRUE(c.feed(p, "\n\r"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "x");
  EXPECT_EQ(c.events[0].data, "1");
  ASSERT_TRUE(c.feed(p, "\n\r\n"));  // the split CRLF, then another heartbeat
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(SseParser, CrInsideARunWithoutLfStillEndsTheLine) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "event: a\rdata: b\r\r"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "b");
}

TEST(SseParser, LfOnlyTolerated) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "event: a\ndata: x\n\n\nevent: b\ndata: y\n\n"));
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[1].data, "y");
}

TEST(SseParser, SeveralDataLinesJoinWithLf) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "data: one\r\ndata:two\r\ndata: \r\n\r\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "");
  EXPECT_EQ(c.events[0].data, "one\ntwo\n");
}

TEST(SseParser, CommentsAndUnknownFieldsIgnored) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, ": hi\r\nid: 7\r\nretry: 5\r\nevent: a\r\ndata: d\r\n\r\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "d");
}

TEST(SseParser, EventLineWithoutDataIsNotDispatched) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "event: lonely\r\n\r\ndata: d\r\n\r\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, "");  // the type was reset at the boundary
}

TEST(SseParser, PartialLineAcrossReads) {
  SseParser p;
  Collector c;
  ASSERT_TRUE(c.feed(p, "da"));
  ASSERT_TRUE(c.feed(p, "ta: {\"eventType\":"));
  ASSERT_TRUE(c.feed(p, "\"x\"}\r\n"));
  EXPECT_TRUE(c.events.empty());
  ASSERT_TRUE(c.feed(p, "\r\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "{\"eventType\":\"x\"}");
}

TEST(SseParser, OversizeLineIsAnError) {
  SseParser p(16);
  Collector c;
  ASSERT_TRUE(c.feed(p, "data: 0123456789"));
  EXPECT_FALSE(c.feed(p, "abc"));
}

TEST(SseParser, OversizeDataAcrossLinesIsAnError) {
  SseParser p(16);
  Collector c;
  ASSERT_TRUE(c.feed(p, "data: 0123456789\r\n"));
  EXPECT_FALSE(c.feed(p, "data: 0123456789\r\n"));
}

TEST(EventInfo, ExtractsTheFieldsTheSourceUses) {
  auto info = parseEventInfo(
      R"({"eventType":"status_update_event","taskStatus":"TASK_KILLING","taskId":"web.1","appId":"/web","ports":[1]})");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->event_type, "status_update_event");
  EXPECT_EQ(info->task_status, "TASK_KILLING");
  EXPECT_EQ(info->task_id, "web.1");
  EXPECT_EQ(info->app_id, "/web");
}

TEST(EventInfo, InstanceIdAndRunSpecIdFallbacks) {
  auto info = parseEventInfo(
      R"({"eventType":"instance_health_changed_event","instanceId":"web.marathon-1","runSpecId":"/web"})");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->task_id, "web.marathon-1");
  EXPECT_EQ(info->app_id, "/web");
}

TEST(EventInfo, GarbageIsAnError) {
  EXPECT_FALSE(parseEventInfo("{not json"));
  EXPECT_FALSE(parseEventInfo("[1,2]"));
}

}  // namespace
}  // namespace baton::discovery
