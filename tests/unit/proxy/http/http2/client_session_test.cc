// ClientSession from bytes: driven against baton's own ServerSession (a real nghttp2 server)
// in memory, bytes pumped both ways until both sides are quiet. No sockets.
#include "proxy/http/http2/client_session.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "proxy/http/http2/server_session.h"
#include "tests/unit/proxy/http/http2/session_test_support.h"

namespace baton::proxy::http2 {
namespace {

using testing::Bytes;

// ---- The backend: ServerSession plus a recorder ----------------------------------------------

struct Backend : testing::RequestRecorder {
  std::unique_ptr<ServerSession> owned;

  explicit Backend(SessionLimits limits = {}) {
    owned = std::move(*ServerSession::create(limits, *this));
    session = owned.get();
  }
};

// ---- baton's side: ClientSession plus a recorder ---------------------------------------------

struct Proxy : ClientCallbacks {
  struct Resp {
    std::vector<uint16_t> informational;
    http1::ResponseHead head;
    bool head_seen = false;
    bool head_end_stream = false;
    std::string body;
    http1::HeaderList trailers;
    bool ended = false;
    bool closed = false;
    H2Error close_error = H2Error::NoError;
    bool refused = false;
  };
  std::unique_ptr<ClientSession> session;
  std::map<int32_t, Resp> resps;
  std::vector<int32_t> writable;
  bool goaway = false;
  int32_t goaway_last = -1;
  bool auto_consume = true;

  explicit Proxy(ClientLimits limits = {}) {
    session = std::move(*ClientSession::create(limits, *this));
  }
  void onInformational(int32_t id, http1::ResponseHead&& head) override {
    resps[id].informational.push_back(head.status);
  }
  void onResponseHead(int32_t id, http1::ResponseHead&& head, bool end_stream) override {
    resps[id].head = std::move(head);
    resps[id].head_seen = true;
    resps[id].head_end_stream = end_stream;
  }
  void onResponseData(int32_t id, const uint8_t* data, size_t len) override {
    resps[id].body.append(reinterpret_cast<const char*>(data), len);
    if (auto_consume) session->consume(id, len);
  }
  void onResponseTrailers(int32_t id, http1::HeaderList&& t) override {
    resps[id].trailers = std::move(t);
  }
  void onResponseEnd(int32_t id) override { resps[id].ended = true; }
  void onStreamClose(int32_t id, H2Error error, bool refused) override {
    resps[id].closed = true;
    resps[id].close_error = error;
    resps[id].refused = refused;
  }
  void onStreamWritable(int32_t id) override { writable.push_back(id); }
  void onGoaway(int32_t last, H2Error) override {
    goaway = true;
    goaway_last = last;
  }

  int32_t get(std::string_view path, const http1::HeaderList& headers = {}, bool end = true) {
    ClientSession::Request r;
    r.method = end ? "GET" : "POST";
    r.scheme = "http";
    r.authority = "backend.test";
    r.path = path;
    r.headers = &headers;
    r.end_stream = end;
    auto id = session->submitRequest(r);
    EXPECT_TRUE(id.has_value());
    return id.value_or(-1);
  }
};

// Moves bytes both ways until neither side has anything to send.
void pump(Proxy& p, Backend& b) {
  for (int i = 0; i < 1000; ++i) {
    Bytes up, down;
    p.session->sendTo(up);
    if (!up.data.empty()) {
      ASSERT_TRUE(
          b.session->feed(reinterpret_cast<const uint8_t*>(up.data.data()), up.data.size()));
    }
    b.session->sendTo(down);
    if (!down.data.empty()) {
      ASSERT_TRUE(
          p.session->feed(reinterpret_cast<const uint8_t*>(down.data.data()), down.data.size()));
    }
    if (up.data.empty() && down.data.empty()) return;
  }
  FAIL() << "the sessions never went quiet";
}

std::string field(const http1::HeaderList& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return "<none>";
}

TEST(ClientSession, RequestHeadBecomesPseudoHeadersAndConnectionFieldsAreDropped) {
  Proxy p;
  Backend b;
  const http1::HeaderList headers = {{"Host", "ignored.example"},
                                     {"Connection", "keep-alive"},
                                     {"Transfer-Encoding", "chunked"},
                                     {"TE", "trailers"},
                                     {"X-Custom", "yes"},
                                     {"content-type", "application/grpc"}};
  const int32_t id = p.get("/svc/Method?x=1", headers);
  pump(p, b);
  ASSERT_TRUE(b.reqs.contains(id));
  const http1::RequestHead& head = b.reqs[id].head;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/svc/Method?x=1");
  EXPECT_EQ(field(head.headers, "host"), "backend.test");  // from :authority
  EXPECT_EQ(field(head.headers, "x-custom"), "yes");
  EXPECT_EQ(field(head.headers, "te"), "trailers");
  EXPECT_EQ(field(head.headers, "connection"), "<none>");
  EXPECT_EQ(field(head.headers, "transfer-encoding"), "<none>");
  EXPECT_TRUE(b.reqs[id].ended);
}

TEST(ClientSession, TeOtherThanTrailersIsDropped) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/", {{"te", "gzip"}});
  pump(p, b);
  EXPECT_EQ(field(b.reqs[id].head.headers, "te"), "<none>");
  EXPECT_TRUE(b.reqs[id].ended);  // nghttp2 would have reset a stream with te: gzip
}

TEST(ClientSession, ResponseHeadBodyAndTrailers) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  ASSERT_TRUE(b.session->submitResponse(id, 200, {{"content-type", "application/grpc"}},
                                        std::nullopt, false));
  b.session->appendBody(id, "hello ", 6);
  pump(p, b);
  EXPECT_TRUE(p.resps[id].head_seen);
  EXPECT_EQ(p.resps[id].head.status, 200);
  EXPECT_FALSE(p.resps[id].head.content_length.has_value());
  EXPECT_EQ(field(p.resps[id].head.headers, "content-type"), "application/grpc");
  EXPECT_EQ(p.resps[id].body, "hello ");
  EXPECT_FALSE(p.resps[id].ended);
  b.session->appendBody(id, "world", 5);
  b.session->endBody(id, {{"grpc-status", "0"}, {"grpc-message", "ok"}});
  pump(p, b);
  EXPECT_EQ(p.resps[id].body, "hello world");
  EXPECT_EQ(field(p.resps[id].trailers, "grpc-status"), "0");
  EXPECT_EQ(field(p.resps[id].trailers, "grpc-message"), "ok");
  EXPECT_TRUE(p.resps[id].ended);
  EXPECT_TRUE(p.resps[id].closed);
  EXPECT_EQ(p.resps[id].close_error, H2Error::NoError);
  EXPECT_EQ(p.session->openStreams(), 0u);
}

TEST(ClientSession, ContentLengthIsParsedAndRemovedFromFields) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  ASSERT_TRUE(b.session->submitResponse(id, 200, {}, 3, false));
  b.session->appendBody(id, "abc", 3);
  b.session->endBody(id);
  pump(p, b);
  ASSERT_TRUE(p.resps[id].head.content_length.has_value());
  EXPECT_EQ(*p.resps[id].head.content_length, 3u);
  EXPECT_EQ(field(p.resps[id].head.headers, "content-length"), "<none>");
  EXPECT_EQ(p.resps[id].body, "abc");
  EXPECT_TRUE(p.resps[id].ended);
}

TEST(ClientSession, HeadersOnlyResponseEndsAtOnce) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  // gRPC "trailers-only": status in the one HEADERS with END_STREAM.
  ASSERT_TRUE(b.session->submitResponse(id, 200, {{"grpc-status", "12"}}, std::nullopt, true));
  pump(p, b);
  EXPECT_TRUE(p.resps[id].head_end_stream);
  EXPECT_EQ(field(p.resps[id].head.headers, "grpc-status"), "12");
  ASSERT_TRUE(p.resps[id].head.content_length.has_value());
  EXPECT_EQ(*p.resps[id].head.content_length, 0u);
  EXPECT_TRUE(p.resps[id].ended);
}

TEST(ClientSession, InformationalThenFinal) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  b.session->submitInformational(id, 103, {{"link", "</a.css>; rel=preload"}});
  ASSERT_TRUE(b.session->submitResponse(id, 204, {}, std::nullopt, true));
  pump(p, b);
  ASSERT_EQ(p.resps[id].informational.size(), 1u);
  EXPECT_EQ(p.resps[id].informational[0], 103);
  EXPECT_EQ(p.resps[id].head.status, 204);
  EXPECT_TRUE(p.resps[id].head.no_body);
  EXPECT_TRUE(p.resps[id].ended);
}

TEST(ClientSession, RequestBodyAndTrailersStream) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/upload", {{"te", "trailers"}}, /*end=*/false);
  p.session->appendBody(id, "part1-", 6);
  pump(p, b);
  EXPECT_EQ(b.reqs[id].body, "part1-");
  EXPECT_FALSE(b.reqs[id].ended);
  p.session->appendBody(id, "part2", 5);
  p.session->endBody(id, {{"x-checksum", "42"}});
  pump(p, b);
  EXPECT_EQ(b.reqs[id].body, "part1-part2");
  EXPECT_EQ(field(b.reqs[id].trailers, "x-checksum"), "42");
  EXPECT_TRUE(b.reqs[id].ended);
}

TEST(ClientSession, BidirectionalStreamingInterleaves) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/chat", {}, /*end=*/false);
  pump(p, b);
  ASSERT_TRUE(b.session->submitResponse(id, 200, {}, std::nullopt, false));
  for (int i = 0; i < 5; ++i) {
    const std::string ping = "ping" + std::to_string(i);
    p.session->appendBody(id, ping.data(), ping.size());
    pump(p, b);
    EXPECT_EQ(b.reqs[id].body.substr(b.reqs[id].body.size() - ping.size()), ping);
    const std::string pong = "pong" + std::to_string(i);
    b.session->appendBody(id, pong.data(), pong.size());
    pump(p, b);
    EXPECT_EQ(p.resps[id].body.substr(p.resps[id].body.size() - pong.size()), pong);
  }
  p.session->endBody(id);
  b.session->endBody(id, {{"grpc-status", "0"}});
  pump(p, b);
  EXPECT_TRUE(b.reqs[id].ended);
  EXPECT_TRUE(p.resps[id].ended);
  EXPECT_EQ(field(p.resps[id].trailers, "grpc-status"), "0");
}

TEST(ClientSession, ResponseWindowOpensOnlyWhenConsumed) {
  ClientLimits limits;
  limits.initial_window_bytes = 16 * 1024;
  Proxy p(limits);
  p.auto_consume = false;
  Backend b;
  const int32_t id = p.get("/big");
  pump(p, b);
  ASSERT_TRUE(b.session->submitResponse(id, 200, {}, std::nullopt, false));
  const std::string chunk(64 * 1024, 'x');
  b.session->appendBody(id, chunk.data(), chunk.size());
  pump(p, b);
  // One stream window and no more, while the downstream takes nothing.
  EXPECT_EQ(p.resps[id].body.size(), limits.initial_window_bytes);
  p.session->consume(id, p.resps[id].body.size());
  pump(p, b);
  EXPECT_EQ(p.resps[id].body.size(), 2u * limits.initial_window_bytes);
  p.auto_consume = true;
  p.session->consume(id, limits.initial_window_bytes);
  pump(p, b);
  EXPECT_EQ(p.resps[id].body.size(), chunk.size());
}

TEST(ClientSession, RequestQueueReportsBackpressureAndWritable) {
  ClientLimits limits;
  limits.stream_high_watermark = 8 * 1024;
  Proxy p(limits);
  SessionLimits sl;
  sl.initial_window_bytes = 16 * 1024;
  Backend b(sl);
  b.auto_consume = false;
  pump(p, b);  // the backend's SETTINGS (its stream window) first
  const int32_t id = p.get("/up", {}, /*end=*/false);
  const std::string chunk(64 * 1024, 'y');
  p.session->appendBody(id, chunk.data(), chunk.size());
  pump(p, b);
  EXPECT_EQ(b.reqs[id].body.size(), sl.initial_window_bytes);  // the backend's window
  EXPECT_GT(p.session->bufferedBytes(id), limits.stream_high_watermark);
  EXPECT_TRUE(p.writable.empty());
  b.auto_consume = true;
  b.session->consume(id, b.reqs[id].body.size());
  pump(p, b);
  EXPECT_EQ(b.reqs[id].body.size(), chunk.size());
  EXPECT_EQ(p.session->bufferedBytes(id), 0u);
  ASSERT_EQ(p.writable.size(), 1u);
  EXPECT_EQ(p.writable[0], id);
}

TEST(ClientSession, RespectsPeerMaxConcurrentStreams) {
  Proxy p;
  SessionLimits sl;
  sl.max_concurrent_streams = 2;
  Backend b(sl);
  pump(p, b);  // SETTINGS exchanged
  EXPECT_EQ(p.session->remoteMaxConcurrentStreams(), 2u);
  const int32_t first = p.get("/a");
  EXPECT_TRUE(p.session->canOpenStream());
  p.get("/b");
  EXPECT_FALSE(p.session->canOpenStream());
  // Submitted anyway: held back by nghttp2 until a stream closes, never sent beyond the limit.
  const int32_t third = p.get("/c");
  pump(p, b);
  EXPECT_EQ(b.reqs.size(), 2u);
  EXPECT_FALSE(b.reqs.contains(third));
  ASSERT_TRUE(b.session->submitResponse(first, 204, {}, std::nullopt, true));
  pump(p, b);
  EXPECT_TRUE(p.resps[first].ended);
  EXPECT_TRUE(b.reqs.contains(third));
}

TEST(ClientSession, AssumesAHundredStreamsBeforeSettings) {
  Proxy p;
  for (int i = 0; i < 100; ++i) p.get("/");
  EXPECT_FALSE(p.session->canOpenStream());
}

TEST(ClientSession, GoawayStopsNewStreamsAndInFlightOnesFinish) {
  Proxy p;
  Backend b;
  const int32_t first = p.get("/first");
  pump(p, b);
  b.session->submitFinalGoaway();           // last stream id = first
  const int32_t second = p.get("/second");  // crosses the GOAWAY
  pump(p, b);
  EXPECT_TRUE(p.goaway);
  EXPECT_EQ(p.goaway_last, first);
  EXPECT_FALSE(p.session->canOpenStream());
  EXPECT_TRUE(p.resps[second].closed);
  EXPECT_TRUE(p.resps[second].refused);  // never processed: safe to retry elsewhere
  ASSERT_TRUE(b.session->submitResponse(first, 200, {}, 2, false));
  b.session->appendBody(first, "ok", 2);
  b.session->endBody(first);
  pump(p, b);
  EXPECT_TRUE(p.resps[first].ended);
  EXPECT_EQ(p.resps[first].body, "ok");
  EXPECT_FALSE(p.resps[first].refused);
}

TEST(ClientSession, BackendResetCutsTheStream) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  ASSERT_TRUE(b.session->submitResponse(id, 200, {}, std::nullopt, false));
  b.session->appendBody(id, "par", 3);
  pump(p, b);
  b.session->resetStream(id, H2Error::InternalError);
  pump(p, b);
  EXPECT_TRUE(p.resps[id].closed);
  EXPECT_FALSE(p.resps[id].ended);
  EXPECT_EQ(p.resps[id].close_error, H2Error::InternalError);
  EXPECT_FALSE(p.resps[id].refused);
}

TEST(ClientSession, RefusedStreamIsMarkedRefused) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  b.session->resetStream(id, H2Error::RefusedStream);
  pump(p, b);
  EXPECT_TRUE(p.resps[id].closed);
  EXPECT_TRUE(p.resps[id].refused);
}

TEST(ClientSession, OversizedResponseHeadersResetTheStream) {
  ClientLimits limits;
  limits.max_header_list_bytes = 1024;
  Proxy p(limits);
  Backend b;
  const int32_t id = p.get("/");
  pump(p, b);
  ASSERT_TRUE(
      b.session->submitResponse(id, 200, {{"x-big", std::string(2000, 'a')}}, std::nullopt, true));
  pump(p, b);
  EXPECT_FALSE(p.resps[id].head_seen);
  EXPECT_TRUE(p.resps[id].closed);
  EXPECT_NE(p.resps[id].close_error, H2Error::NoError);
}

TEST(ClientSession, CancelByTheProxyResetsTheBackendStream) {
  Proxy p;
  Backend b;
  const int32_t id = p.get("/", {}, /*end=*/false);
  pump(p, b);
  p.session->resetStream(id, H2Error::Cancel);
  pump(p, b);
  EXPECT_TRUE(b.reqs[id].closed);
  EXPECT_EQ(b.reqs[id].close_error, H2Error::Cancel);
  EXPECT_TRUE(p.resps[id].closed);
}

TEST(ClientSession, GarbageFromTheBackendIsAConnectionError) {
  Proxy p;
  Bytes preface;
  p.session->sendTo(preface);
  const std::string junk = "HTTP/1.1 200 OK\r\n\r\n";
  auto r = p.session->feed(reinterpret_cast<const uint8_t*>(junk.data()), junk.size());
  Bytes goaway;
  p.session->sendTo(goaway);
  EXPECT_TRUE(!r.has_value() || p.session->failed());
  EXPECT_TRUE(p.session->failed());
  EXPECT_FALSE(p.session->wantRead());
}

}  // namespace
}  // namespace baton::proxy::http2
