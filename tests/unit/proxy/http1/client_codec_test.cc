// ClientCodec from bytes: framing of upstream responses, hostile upstreams, serialisers.
#include "proxy/http1/client_codec.h"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

namespace baton::proxy::http1 {
namespace {

using core::ErrorCode;

struct Recorder : ClientCodecCallbacks {
  void onInformational(ResponseHead&& head) override {
    informational.push_back(std::move(head));
    events.push_back("1xx");
  }
  void onResponseHead(ResponseHead&& h) override {
    head = std::move(h);
    events.push_back("head");
  }
  void onResponseBody(const char* data, size_t len) override {
    body.append(data, len);
    if (events.back() != "body") events.push_back("body");
    if (pause_on_body) codec->pause();
  }
  void onResponseTrailers(HeaderList&& t) override {
    trailers = std::move(t);
    events.push_back("trailers");
  }
  void onResponseComplete() override { events.push_back("complete"); }

  ClientCodec* codec = nullptr;
  HeaderList trailers;
  bool pause_on_body = false;
  std::vector<ResponseHead> informational;
  std::optional<ResponseHead> head;
  std::string body;
  std::vector<std::string> events;
};

struct Run {
  Recorder rec;
  std::unique_ptr<ClientCodec> codec;
  std::optional<core::Error> error;
  size_t consumed = 0;
  bool complete() const { return !rec.events.empty() && rec.events.back() == "complete"; }
};

// Feeds one response in `step`-byte pieces, resuming pauses from body callbacks.
std::unique_ptr<Run> run(std::string_view input, bool head_request = false,
                         size_t step = std::string_view::npos, bool pause_on_body = false) {
  auto out = std::make_unique<Run>();
  out->codec = std::make_unique<ClientCodec>(out->rec);
  out->rec.codec = out->codec.get();
  out->rec.pause_on_body = pause_on_body;
  out->codec->expectResponse(head_request);
  std::string pending;
  size_t offset = 0;
  do {
    const size_t n = std::min(step, input.size() - offset);
    pending.append(input.substr(offset, n));
    offset += n;
    while (!out->complete()) {
      auto r = out->codec->feed(pending.data(), pending.size());
      if (!r) {
        out->error = r.error();
        return out;
      }
      out->consumed += *r;
      pending.erase(0, *r);
      if (out->complete() || !out->rec.pause_on_body) break;
      out->codec->resume();
      if (*r == 0 && pending.empty()) break;
    }
  } while (offset < input.size() && !out->complete());
  return out;
}

TEST(ClientCodecTest, ContentLengthBody) {
  for (size_t step : {size_t{1}, size_t{5}, std::string_view::npos}) {
    auto r = run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello", false, step);
    ASSERT_FALSE(r->error) << r->error->detail;
    ASSERT_TRUE(r->rec.head);
    EXPECT_EQ(r->rec.head->status, 200);
    EXPECT_EQ(r->rec.head->reason, "OK");
    EXPECT_EQ(r->rec.head->content_length, 5u);
    EXPECT_TRUE(r->rec.head->keep_alive);
    EXPECT_EQ(r->rec.body, "hello");
    EXPECT_TRUE(r->complete());
    EXPECT_FALSE(r->codec->extraBytesAfterResponse());
  }
}

TEST(ClientCodecTest, EmptyHeaderValuesKeepTheirFieldsApart) {
  // Names and values go straight into the head's fields: an empty value (no value callback at
  // all) must still end its field, in whatever pieces the head arrives.
  for (size_t step : {size_t{1}, size_t{5}, std::string_view::npos}) {
    auto r =
        run("HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blank:   \r\nX-Next: v \r\nContent-Length: 0\r\n\r\n",
            false, step);
    ASSERT_FALSE(r->error) << r->error->detail;
    ASSERT_TRUE(r->rec.head);
    const http1::HeaderList expected = {
        {"X-Empty", ""}, {"X-Blank", ""}, {"X-Next", "v"}, {"Content-Length", "0"}};
    ASSERT_EQ(r->rec.head->headers.size(), expected.size()) << "step " << step;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(r->rec.head->headers[i].name, expected[i].name) << "step " << step;
      EXPECT_EQ(r->rec.head->headers[i].value, expected[i].value) << "step " << step;
    }
  }
}

// Fields are cut from the lines baton's scanner accepted, not from llhttp's callbacks: names as
// sent, values without the OWS around them (inner HTAB and SP kept), a colon in a value kept,
// obs-text kept; the same in every split, also when a line is held over between reads.
TEST(ClientCodecTest, FieldsCutFromAcceptedLinesInEverySplit) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nX-A:\t a \t b \t\r\nx-b:c:d\r\nX-Obs: \xc3\xa9\x80\r\n"
      "Set-Cookie: k=v; Path=/\r\nContent-Length: 2\r\n\r\nok";
  const http1::HeaderList expected = {{"X-A", "a \t b"},
                                      {"x-b", "c:d"},
                                      {"X-Obs", "\xc3\xa9\x80"},
                                      {"Set-Cookie", "k=v; Path=/"},
                                      {"Content-Length", "2"}};
  for (size_t step = 1; step <= input.size(); ++step) {
    auto r = run(input, false, step);
    ASSERT_FALSE(r->error) << r->error->detail;
    ASSERT_TRUE(r->rec.head) << "step " << step;
    EXPECT_EQ(r->rec.head->content_length, 2u);
    EXPECT_EQ(r->rec.body, "ok");
    ASSERT_EQ(r->rec.head->headers.size(), expected.size()) << "step " << step;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(r->rec.head->headers[i].name, expected[i].name) << "step " << step;
      EXPECT_EQ(r->rec.head->headers[i].value, expected[i].value) << "step " << step;
    }
  }
}

// llhttp's verdict on an earlier line wins over the scanner's on a later one when the head comes
// whole (one llhttp call for all lines), as it does one line at a time.
TEST(ClientCodecTest, EarlierLlhttpErrorBeatsLaterScannerErrorInEverySplit) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\nX: a\x01\r\n\r\n";
  for (size_t step = 1; step <= input.size(); ++step) {
    auto r = run(input, false, step);
    ASSERT_TRUE(r->error) << "step " << step;
    EXPECT_EQ(r->error->code, ErrorCode::UpstreamProtocolError);
    EXPECT_NE(r->error->detail.find("llhttp"), std::string::npos)
        << "step " << step << ": " << r->error->detail;
  }
}

// llhttp is shown only the framing and connection lines of a response head (and its end), the
// other lines go to the fields alone: framing fields among other fields, in any case of their
// names, still frame the response in every split, also when a line is held over between reads.
TEST(ClientCodecTest, FramingFieldsAmongOtherFieldsInEverySplit) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nServer: x\r\ncontent-LENGTH: 9\r\nContent-Lengthy: 4\r\n"
      "X-Long: " +
      std::string(40, 'v') +
      "\r\nTRANSFER-encoding: chunked\r\nETag: \"e\"\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  for (size_t step = 1; step <= input.size(); ++step) {
    auto r = run(input, false, step);
    ASSERT_FALSE(r->error) << r->error->detail << " step " << step;
    ASSERT_TRUE(r->rec.head) << "step " << step;
    EXPECT_TRUE(r->rec.head->chunked) << "step " << step;
    EXPECT_FALSE(r->rec.head->content_length) << "step " << step;
    EXPECT_FALSE(r->rec.head->keep_alive) << "CL and TE: step " << step;
    EXPECT_EQ(r->rec.head->headers.size(), 6u) << "step " << step;
    EXPECT_EQ(r->rec.body, "abc") << "step " << step;
    EXPECT_TRUE(r->complete()) << "step " << step;
  }
  const std::string twice =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\nDate: z\r\nContent-Length: 4\r\n\r\nabcd";
  for (size_t step = 1; step <= twice.size(); ++step) {
    auto r = run(twice, false, step);
    ASSERT_TRUE(r->error) << "step " << step;
    EXPECT_NE(r->error->detail.find("llhttp"), std::string::npos) << r->error->detail;
    EXPECT_FALSE(r->rec.head) << "step " << step;
  }
}

TEST(ClientCodecTest, ChunkedBody) {
  for (size_t step : {size_t{1}, size_t{3}, std::string_view::npos}) {
    for (bool pause : {false, true}) {
      auto r = run(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n6\r\n world\r\n"
          "0\r\nTrailer: x\r\n\r\n",
          false, step, pause);
      ASSERT_FALSE(r->error) << r->error->detail;
      EXPECT_TRUE(r->rec.head->chunked);
      EXPECT_EQ(r->rec.body, "hello world");
      EXPECT_TRUE(r->complete());
    }
  }
}

// Trailers are forwarded (gRPC over HTTP/1.1, checksums): lowercased, trimmed, framing and
// hop-by-hop fields left out, delivered just before the end, in every split.
TEST(ClientCodecTest, ChunkedTrailersAreDeliveredBeforeTheEnd) {
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, std::string_view::npos}) {
    auto r = run(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        "0\r\nGrpc-Status:  0 \r\nConnection: x\r\nX-Checksum:\tabc\r\nContent-Length: 5\r\n\r\n",
        false, step);
    ASSERT_FALSE(r->error) << r->error->detail;
    EXPECT_EQ(r->rec.events, (std::vector<std::string>{"head", "body", "trailers", "complete"}));
    ASSERT_EQ(r->rec.trailers.size(), 2u) << step;
    EXPECT_EQ(r->rec.trailers[0].name, "grpc-status");
    EXPECT_EQ(r->rec.trailers[0].value, "0");
    EXPECT_EQ(r->rec.trailers[1].name, "x-checksum");
    EXPECT_EQ(r->rec.trailers[1].value, "abc");
  }
  // Without trailers: no trailer event; and a second response on the connection starts clean.
  auto r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(r->rec.events, (std::vector<std::string>{"head", "complete"}));
}

TEST(ClientCodecTest, ReadUntilClose) {
  auto r = run("HTTP/1.1 200 OK\r\n\r\nsome bytes");
  ASSERT_FALSE(r->error);
  EXPECT_FALSE(r->rec.head->keep_alive);
  EXPECT_FALSE(r->complete());
  EXPECT_EQ(r->rec.body, "some bytes");
  EXPECT_TRUE(r->codec->onEof());
  EXPECT_TRUE(r->complete());
}

TEST(ClientCodecTest, HeadResponseHasNoBody) {
  auto r = run("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true);
  ASSERT_FALSE(r->error);
  EXPECT_TRUE(r->rec.head->no_body);
  EXPECT_TRUE(r->complete());
  EXPECT_TRUE(r->rec.body.empty());
}

class NoBodyStatusTest : public testing::TestWithParam<int> {};

TEST_P(NoBodyStatusTest, CompletesAtEndOfHead) {
  const std::string status = std::to_string(GetParam());
  auto r = run("HTTP/1.1 " + status + " X\r\nContent-Length: 3\r\n\r\n");
  ASSERT_FALSE(r->error);
  EXPECT_TRUE(r->rec.head->no_body);
  EXPECT_TRUE(r->complete());
  // A body anyway: extra bytes, never pooled.
  auto r2 = run("HTTP/1.1 " + status + " X\r\n\r\nabc");
  EXPECT_TRUE(r2->complete());
  EXPECT_TRUE(r2->codec->extraBytesAfterResponse());
}

INSTANTIATE_TEST_SUITE_P(Statuses, NoBodyStatusTest, testing::Values(204, 304));

TEST(ClientCodecTest, InformationalThenFinal) {
  auto r =
      run("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_FALSE(r->error) << r->error->detail;
  ASSERT_EQ(r->rec.informational.size(), 2u);
  EXPECT_EQ(r->rec.informational[0].status, 100);
  EXPECT_EQ(r->rec.informational[1].status, 103);
  EXPECT_EQ(r->rec.head->status, 200);
  EXPECT_EQ(r->rec.body, "ok");
  EXPECT_EQ(r->rec.events, (std::vector<std::string>{"1xx", "1xx", "head", "body", "complete"}));
}

TEST(ClientCodecTest, SwitchingProtocolsGoesToResponseHead) {
  auto r =
      run("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  ASSERT_FALSE(r->error);
  EXPECT_EQ(r->rec.head->status, 101);
  EXPECT_TRUE(r->rec.informational.empty());
  EXPECT_FALSE(r->rec.head->keep_alive);
}

TEST(ClientCodecTest, SwitchingProtocolsStopsAtTheEndOfTheHead) {
  // The upstream's first WebSocket frame in the same read as its 101: the codec consumes the
  // head only, never completes a response, and never calls the frame "extra bytes".
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const std::string frame = "\x81\x05hello";
  const std::string input = head + frame;
  Recorder rec;
  ClientCodec codec(rec);
  rec.codec = &codec;
  codec.expectResponse(false);
  auto n = codec.feed(input.data(), input.size());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, head.size());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"head"}));
  EXPECT_EQ(rec.head->status, 101);
  EXPECT_TRUE(codec.upgraded());
  EXPECT_FALSE(codec.extraBytesAfterResponse());
  codec.resume();  // a stray resume must not restart parsing
  n = codec.feed(frame.data(), frame.size());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(rec.events.size(), 1u);
  EXPECT_TRUE(codec.onEof()) << "the tunnel owns the end of the connection";
}

TEST(ClientCodecTest, SwitchingProtocolsByteByByte) {
  auto r =
      run("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
          false, 1);
  ASSERT_FALSE(r->error);
  EXPECT_EQ(r->rec.events, (std::vector<std::string>{"head"}));
  EXPECT_TRUE(r->codec->upgraded());
}

TEST(ClientCodecTest, OrdinaryResponseIsNotUpgraded) {
  auto r = run("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(r->complete());
  EXPECT_FALSE(r->codec->upgraded());
}

TEST(ClientCodecTest, TruncatedBodiesAreResets) {
  for (std::string_view input :
       {std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
        std::string_view("HTTP/1.1 200 OK\r\nContent-Le"), std::string_view("HTTP/1.1 2"),
        std::string_view("")}) {
    auto r = run(input);
    ASSERT_FALSE(r->error);
    auto e = r->codec->onEof();
    ASSERT_FALSE(e) << input;
    EXPECT_EQ(e.error().code, ErrorCode::UpstreamReset);
    EXPECT_FALSE(r->complete());
  }
}

TEST(ClientCodecTest, EofWhenIdleIsClean) {
  Recorder rec;
  ClientCodec codec(rec);
  EXPECT_TRUE(codec.onEof());
}

class UpstreamHostileTest : public testing::TestWithParam<std::string> {};

TEST_P(UpstreamHostileTest, ProtocolError) {
  auto r = run(GetParam());
  ASSERT_TRUE(r->error) << GetParam();
  EXPECT_EQ(r->error->code, ErrorCode::UpstreamProtocolError) << r->error->detail;
  EXPECT_EQ(r->error->source, core::ErrorSource::Upstream);
  auto r1 = run(GetParam(), false, 1);
  ASSERT_TRUE(r1->error);
  EXPECT_EQ(r1->error->code, ErrorCode::UpstreamProtocolError);
  EXPECT_FALSE(r->rec.head) << "nothing is relayed";
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, UpstreamHostileTest,
    testing::Values("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
                    std::string("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27),
                    "HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
                    "HTTP/1.1 200 OK\nX: a\r\n\r\n", "HTTP/1.1 OK\r\n\r\n",
                    "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
                    "HTTP/1.1 2000 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));

TEST(ClientCodecTest, BadChunkedBodyIsProtocolError) {
  for (std::string_view body : {std::string_view("3\r\nabcXX0\r\n\r\n"), std::string_view("zz\r\n"),
                                std::string_view("3 \r\nabc\r\n0\r\n\r\n")}) {
    auto r = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(body));
    ASSERT_TRUE(r->error) << body;
    EXPECT_EQ(r->error->code, ErrorCode::UpstreamProtocolError);
    EXPECT_FALSE(r->complete()) << "a bad body never ends cleanly";
  }
}

// The response side shares the extension skipping (llhttp 8.1 alone refuses `;a=b;c=d`).
TEST(ClientCodecTest, ChunkExtensionListAccepted) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;a=b;c=d\r\nhello\r\n0;e=f;g\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{4}, std::string_view::npos}) {
    for (bool pause : {false, true}) {
      auto r = run(input, false, step, pause);
      ASSERT_FALSE(r->error) << r->error->detail << " step " << step;
      EXPECT_TRUE(r->complete()) << "step " << step;
      EXPECT_EQ(r->rec.body, "hello");
      EXPECT_EQ(r->consumed, input.size());
    }
  }
}

TEST(ClientCodecTest, ContentLengthAndTransferEncodingUsesTe) {
  auto r =
      run("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_FALSE(r->error) << r->error->detail;
  EXPECT_TRUE(r->rec.head->chunked);
  EXPECT_FALSE(r->rec.head->content_length);
  EXPECT_FALSE(r->rec.head->keep_alive);
  EXPECT_EQ(r->rec.body, "abc");
  EXPECT_TRUE(r->complete());
}

TEST(ClientCodecTest, KeepAliveFromVersionAndConnection) {
  EXPECT_FALSE(run("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                   ->rec.head->keep_alive);
  EXPECT_FALSE(run("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")->rec.head->keep_alive);
  EXPECT_TRUE(run("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
                  ->rec.head->keep_alive);
  EXPECT_TRUE(run("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")->rec.head->keep_alive);
}

TEST(ClientCodecTest, ExtraBytesAfterResponse) {
  auto r = run("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n");
  ASSERT_FALSE(r->error);
  EXPECT_TRUE(r->complete());
  EXPECT_EQ(r->rec.body, "ok");
  EXPECT_TRUE(r->codec->extraBytesAfterResponse());

  Recorder rec;
  ClientCodec codec(rec);
  const std::string early = "HTTP/1.1 200 OK\r\n\r\n";
  auto n = codec.feed(early.data(), early.size());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(codec.extraBytesAfterResponse()) << "bytes before any request";
}

TEST(ClientCodecTest, KeepAliveReuseForSecondResponse) {
  Recorder rec;
  ClientCodec codec(rec);
  const std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  const std::string b =
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n";
  codec.expectResponse(false);
  ASSERT_EQ(*codec.feed(a.data(), a.size()), a.size());
  codec.expectResponse(false);
  ASSERT_EQ(*codec.feed(b.data(), b.size()), b.size());
  EXPECT_EQ(rec.head->status, 404);
  EXPECT_EQ(rec.body, "ab");
  EXPECT_FALSE(codec.extraBytesAfterResponse());
}

TEST(ClientCodecTest, PauseInBodyStopsConsuming) {
  Recorder rec;
  ClientCodec codec(rec);
  rec.codec = &codec;
  rec.pause_on_body = true;
  codec.expectResponse(false);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
  std::string buf = head + "ab";
  ASSERT_EQ(*codec.feed(buf.data(), buf.size()), buf.size());
  codec.resume();
  buf = "cd";
  ASSERT_EQ(*codec.feed(buf.data(), buf.size()), 2u);
  EXPECT_EQ(rec.events.back(), "body");
  codec.resume();
  ASSERT_EQ(*codec.feed(nullptr, 0), 0u);
  EXPECT_EQ(rec.events.back(), "complete");
  EXPECT_EQ(rec.body, "abcd");
}

TEST(SerializeTest, RequestHead) {
  std::string out;
  ASSERT_TRUE(serializeRequestHead("GET", "/\xE4\xB8\xAD?q=1",
                                   {{"Host", "example.com"}, {"X-Empty", ""}}, out));
  EXPECT_EQ(out, "GET /\xE4\xB8\xAD?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty: \r\n\r\n");
}

TEST(SerializeTest, ResponseHeadAndChunks) {
  std::string out;
  ASSERT_TRUE(serializeResponseHead(502, "Bad Gateway", {{"Content-Length", "0"}}, out));
  EXPECT_EQ(out, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  appendChunkHeader(0x1a2b, out);
  appendChunkHeader(0, out);
  EXPECT_EQ(out, "1a2b\r\n0\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
  out.clear();
  appendLastChunk({{"grpc-status", "0"},
                   {"x-bad", "a\r\nx-injected: 1"},
                   {"transfer-encoding", "chunked"},
                   {"x-nul", std::string("a\0b", 3)},
                   {":path", "/x"},
                   {"bad name", "1"},
                   {"x-ok", "1"}},
                  out);
  EXPECT_EQ(out, "0\r\ngrpc-status: 0\r\nx-ok: 1\r\n\r\n");
}

struct InjectionCase {
  std::string method, target, name, value;
};

class SerializeInjectionTest : public testing::TestWithParam<InjectionCase> {};

TEST_P(SerializeInjectionTest, Refused) {
  const auto& c = GetParam();
  std::string out;
  auto r = serializeRequestHead(c.method, c.target, {{c.name, c.value}}, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Internal);
  if (c.method == "GET" && c.target == "/") {
    auto r2 = serializeResponseHead(200, "OK", {{c.name, c.value}}, out);
    EXPECT_FALSE(r2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Injection, SerializeInjectionTest,
    testing::Values(InjectionCase{"GET", "/", "X", "a\r\nEvil: 1"},
                    InjectionCase{"GET", "/", "X", "a\nEvil: 1"},
                    InjectionCase{"GET", "/", "X", "a\rb"},
                    InjectionCase{"GET", "/", "X", std::string("a\0b", 3)},
                    InjectionCase{"GET", "/", "X\r\nEvil", "1"}, InjectionCase{"GET", "/", "", "1"},
                    InjectionCase{"GET", "/", "X Y", "1"},
                    InjectionCase{"GET", "/a HTTP/1.1\r\nHost: evil\r\n\r\nGET /", "X", "1"},
                    InjectionCase{"GET", "/a b", "X", "1"},
                    InjectionCase{"GET\r\n", "/", "X", "1"}));

// The value check looks at eight bytes at a time: a CR, LF or NUL is refused at every offset of
// a long value, behind a good field, and a refused head leaves the output as it was.
TEST(SerializeTest, ForbiddenByteAtEveryOffsetOfALongValueRefused) {
  for (const char bad : {'\r', '\n', '\0'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string value(40, 'v');
      value[at] = bad;
      std::string out = "kept";
      HeaderList headers{{"Host", "example.com"}, {"X-Long", value}};
      EXPECT_FALSE(serializeRequestHead("GET", "/", headers, out)) << int(bad) << " at " << at;
      EXPECT_EQ(out, "kept");
      EXPECT_FALSE(serializeResponseHead(200, "OK", headers, out)) << int(bad) << " at " << at;
      EXPECT_EQ(out, "kept");
    }
  }
  // HTAB, DEL and obs-text are not the serialiser's business: they pass.
  std::string out;
  const std::string value = "a\tb\x7f" + std::string(20, 'c') + "\xff\x80";
  ASSERT_TRUE(serializeRequestHead("GET", "/", {{"X", value}}, out));
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n");
}

// The view overload (Stream's HTTP/1 path) writes the same bytes as the string one and refuses
// the same fields: a CR, LF or NUL in a value at any offset, a bad byte or nothing in a name.
// Values are tested eight bytes at a time (the last word overlapping), names four table
// lookups at a time: every byte value at every offset of every short length must get the
// byte-wise verdict.
TEST(SerializeTest, EveryByteAtEveryOffsetOfShortFields) {
  const std::string tchar_extra = "!#$%&'*+-.^_`|~";
  const auto is_tchar = [&](unsigned char c) {
    return std::isalnum(c) != 0 || tchar_extra.find(static_cast<char>(c)) != std::string::npos;
  };
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        const auto c = static_cast<unsigned char>(b);
        std::string value(len, 'v');
        value[at] = static_cast<char>(b);
        std::string out;
        const bool value_ok = !(b == '\r' || b == '\n' || b == 0);
        EXPECT_EQ(bool(serializeRequestHead("GET", "/", {{"X", value}}, out)), value_ok)
            << "value len " << len << " at " << at << " byte " << b;
        std::string name(len, 'n');
        name[at] = static_cast<char>(b);
        out.clear();
        EXPECT_EQ(bool(serializeRequestHead("GET", "/", {{name, "v"}}, out)), is_tchar(c))
            << "name len " << len << " at " << at << " byte " << b;
      }
    }
  }
}

TEST(SerializeTest, FieldViewsSerialiseAndAreRefusedLikeStrings) {
  const HeaderList strings{{"Host", "example.com"}, {"X-A", "1"}, {"Accept", "*/*"}};
  std::vector<FieldView> views;
  for (const HeaderField& f : strings) views.push_back({f.name, f.value});
  std::string from_strings;
  std::string from_views;
  ASSERT_TRUE(serializeRequestHead("GET", "/p?q", strings, from_strings));
  ASSERT_TRUE(serializeRequestHead("GET", "/p?q", views, from_views));
  EXPECT_EQ(from_views, from_strings);
  for (const char bad : {'\r', '\n', '\0'}) {
    for (size_t at = 0; at < 20; ++at) {
      std::string value(20, 'v');
      value[at] = bad;
      std::string out = "kept";
      const std::vector<FieldView> fields{{"Host", "example.com"}, {"X-Long", value}};
      EXPECT_FALSE(serializeRequestHead("GET", "/", fields, out)) << int(bad) << " at " << at;
      EXPECT_EQ(out, "kept");
    }
  }
  std::string out;
  EXPECT_FALSE(serializeRequestHead("GET", "/", std::vector<FieldView>{{"X A", "v"}}, out));
  EXPECT_FALSE(serializeRequestHead("GET", "/", std::vector<FieldView>{{"", "v"}}, out));
  EXPECT_FALSE(serializeRequestHead("GET", "/ x", views, out));
  EXPECT_EQ(out, "");
}

// Appending to a buffer that already holds bytes (and must grow) keeps them.
TEST(SerializeTest, AppendsAfterExistingBytes) {
  std::string out = "prefix|";
  HeaderList headers;
  std::string want = "prefix|POST /p HTTP/1.1\r\n";
  for (int i = 0; i < 30; ++i) {
    headers.push_back({"X-Field-" + std::to_string(i), std::string(i, 'x')});
    want += "X-Field-" + std::to_string(i) + ": " + std::string(i, 'x') + "\r\n";
  }
  want += "\r\n";
  ASSERT_TRUE(serializeRequestHead("POST", "/p", headers, out));
  EXPECT_EQ(out, want);
}

TEST(SerializeTest, ResponseReasonInjectionRefused) {
  std::string out;
  EXPECT_FALSE(serializeResponseHead(200, "OK\r\nSet-Cookie: x", {}, out));
  EXPECT_FALSE(serializeResponseHead(42, "OK", {}, out));
}

}  // namespace
}  // namespace baton::proxy::http1
