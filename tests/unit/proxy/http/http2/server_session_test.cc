// ServerSession from bytes: requests produced by a real nghttp2 client session, hostile inputs
// as hand-built frames (hostile-inputs.md, HTTP/2). No sockets.
#include "proxy/http/http2/server_session.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/proxy/http/http2/session_test_support.h"

namespace baton::proxy::http2 {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

using testing::Bytes;

// ---- The server's owner, recorded; a rejected request is answered at once -------------------

struct Recorder : testing::RequestRecorder {
  void onRequestRejected(int32_t id, core::ErrorCode code, bool head_request) override {
    RequestRecorder::onRequestRejected(id, code, head_request);
    ASSERT_TRUE(session->submitResponse(id, 431, {}, 0, true));
  }
};

// ---- A real nghttp2 client ---------------------------------------------------------------------

struct Client {
  struct Resp {
    std::string status;
    std::string body;
    bool closed = false;
    uint32_t rst = 0xffffffff;  // RST_STREAM code received
  };
  nghttp2_session* s = nullptr;
  std::map<int32_t, Resp> resps;
  int goaway = -1;  // error code of the last GOAWAY received
  std::string upload;
  size_t upload_off = 0;

  Client() {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
               const uint8_t* v, size_t vl, uint8_t, void* u) {
          auto* c = static_cast<Client*>(u);
          if (std::string_view(reinterpret_cast<const char*>(n), nl) == ":status") {
            c->resps[f->hd.stream_id].status.assign(reinterpret_cast<const char*>(v), vl);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
          static_cast<Client*>(u)->resps[id].body.append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          auto* c = static_cast<Client*>(u);
          if (f->hd.type == NGHTTP2_GOAWAY) c->goaway = static_cast<int>(f->goaway.error_code);
          if (f->hd.type == NGHTTP2_RST_STREAM)
            c->resps[f->hd.stream_id].rst = f->rst_stream.error_code;
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session*, int32_t id, uint32_t, void* u) {
          static_cast<Client*>(u)->resps[id].closed = true;
          return 0;
        });
    nghttp2_session_client_new(&s, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(s); }

  int32_t request(const Headers& h, const std::string* body = nullptr) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : h) {
      nva.push_back(
          {(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider p{};
    if (body != nullptr) {
      upload = *body;
      upload_off = 0;
      p.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                           nghttp2_data_source*, void* u) -> ssize_t {
        auto* c = static_cast<Client*>(u);
        const size_t n = std::min(len, c->upload.size() - c->upload_off);
        memcpy(buf, c->upload.data() + c->upload_off, n);
        c->upload_off += n;
        if (c->upload_off == c->upload.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
      };
    }
    return nghttp2_submit_request(s, nullptr, nva.data(), nva.size(), body ? &p : nullptr, nullptr);
  }
  std::string out() {
    std::string o;
    const uint8_t* d;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(s, &d)) > 0) o.append(reinterpret_cast<const char*>(d), n);
    return o;
  }
  void in(const std::string& b) {
    nghttp2_session_mem_recv(s, reinterpret_cast<const uint8_t*>(b.data()), b.size());
  }
};

Headers get(std::string path = "/", std::string authority = "a.test") {
  return {{":method", "GET"}, {":scheme", "http"}, {":authority", authority}, {":path", path}};
}

// ---- Hand-built frames -------------------------------------------------------------------------

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  const size_t n = payload.size();
  f.push_back(static_cast<char>(n >> 16));
  f.push_back(static_cast<char>(n >> 8));
  f.push_back(static_cast<char>(n));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>(stream >> shift));
  return f + payload;
}

std::string hpackInt(uint8_t first, int prefix_bits, size_t v) {
  std::string out;
  const size_t max = (1u << prefix_bits) - 1;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return out;
  }
  out.push_back(static_cast<char>(first | max));
  v -= max;
  while (v >= 128) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// GET / for a.test: static-table indices and a literal authority (never indexed).
std::string minimalGetBlock() {
  return std::string("\x82\x84\x86", 3) + hpackInt(0x00, 4, 1) + hpackInt(0x00, 7, 6) + "a.test";
}

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Reads what the server sent to a hand-driven client: GOAWAY, RST_STREAM, response statuses.
struct FrameReader {
  nghttp2_hd_inflater* inflater = nullptr;
  std::string pending;
  int goaway = -1;
  std::map<uint32_t, uint32_t> rst;
  std::map<uint32_t, std::string> status;
  FrameReader() { nghttp2_hd_inflate_new(&inflater); }
  ~FrameReader() { nghttp2_hd_inflate_del(inflater); }
  void in(const std::string& bytes) {
    pending += bytes;
    while (pending.size() >= 9) {
      const auto* p = reinterpret_cast<const uint8_t*>(pending.data());
      const size_t len = (size_t{p[0]} << 16) | (size_t{p[1]} << 8) | p[2];
      if (pending.size() < 9 + len) return;
      const uint8_t type = p[3];
      const uint32_t stream = ((p[5] & 0x7fu) << 24) | (p[6] << 16) | (p[7] << 8) | p[8];
      const uint8_t* body = p + 9;
      if (type == NGHTTP2_GOAWAY && len >= 8) {
        goaway = static_cast<int>((uint32_t{body[4]} << 24) | (body[5] << 16) | (body[6] << 8) |
                                  body[7]);
      } else if (type == NGHTTP2_RST_STREAM && len == 4) {
        rst[stream] = (uint32_t{body[0]} << 24) | (body[1] << 16) | (body[2] << 8) | body[3];
      } else if (type == NGHTTP2_HEADERS) {
        inflate(stream, body, len);
      }
      pending.erase(0, 9 + len);
    }
  }
  void inflate(uint32_t stream, const uint8_t* in, size_t len) {
    for (;;) {
      nghttp2_nv nv;
      int flags = 0;
      const ssize_t n = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, len, 1);
      if (n < 0) return;
      in += n;
      len -= static_cast<size_t>(n);
      if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0 &&
          std::string_view((const char*)nv.name, nv.namelen) == ":status") {
        status[stream].assign((const char*)nv.value, nv.valuelen);
      }
      if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
        nghttp2_hd_inflate_end_headers(inflater);
        return;
      }
      if (n == 0 && len == 0) return;
    }
  }
};

class SessionTest : public ::testing::Test {
 protected:
  void make(SessionLimits limits = {}) {
    auto s = ServerSession::create(limits, rec);
    ASSERT_TRUE(s);
    server = std::move(*s);
    rec.session = server.get();
  }
  // Client -> server -> client, until nothing moves.
  void pump() {
    for (int i = 0; i < 20; ++i) {
      const std::string c = client.out();
      if (!c.empty()) feedResult = server->feed((const uint8_t*)c.data(), c.size());
      Bytes b;
      server->sendTo(b);
      if (!b.data.empty()) client.in(b.data);
      if (c.empty() && b.data.empty()) return;
    }
  }
  // Raw bytes -> server; what it answers -> `seen` (a hand-driven client; start with prime()).
  void raw(const std::string& bytes) {
    feedResult = server->feed((const uint8_t*)bytes.data(), bytes.size());
    Bytes b;
    server->sendTo(b);
    seen.in(b.data);
  }
  void prime() { raw(kPreface + frame(NGHTTP2_SETTINGS, 0, 0, "")); }

  Recorder rec;
  Client client;
  FrameReader seen;
  std::unique_ptr<ServerSession> server;
  core::Result<size_t> feedResult{0};
};

TEST_F(SessionTest, SimpleGet) {
  make();
  const int32_t id = client.request(get("/x?y=1"));
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  const auto& r = rec.reqs[id];
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.target, "/x?y=1");
  EXPECT_EQ(r.head.version_minor, 1);
  EXPECT_TRUE(r.end_stream);
  EXPECT_TRUE(r.ended);
  EXPECT_FALSE(r.head.chunked);
  ASSERT_NE(http1::findHeader(r.head.headers, "host"), nullptr);
  EXPECT_EQ(*http1::findHeader(r.head.headers, "host"), "a.test");

  ASSERT_TRUE(server->submitResponse(
      id, 200, {{"Content-Type", "text/plain"}, {"Connection", "keep-alive"}}, 5, false));
  server->appendBody(id, "hel", 3);
  server->appendBody(id, "lo", 2);
  server->endBody(id);
  pump();
  EXPECT_EQ(client.resps[id].status, "200");
  EXPECT_EQ(client.resps[id].body, "hello");
  EXPECT_TRUE(client.resps[id].closed);
  EXPECT_TRUE(rec.reqs[id].closed);
  EXPECT_EQ(rec.reqs[id].close_error, H2Error::NoError);
  EXPECT_EQ(server->openStreams(), 0u);
  EXPECT_EQ(server->stats().streams, 1u);
}

// sendTo() output that tells write() from writeAlone().
struct CountingOutput : SessionOutput {
  std::string data;
  int writes = 0;
  int alone = 0;
  void write(const uint8_t* p, size_t n) override {
    ++writes;
    data.append(reinterpret_cast<const char*>(p), n);
  }
  void writeAlone(const uint8_t* p, size_t n) override {
    ++alone;
    data.append(reinterpret_cast<const char*>(p), n);
  }
  bool full() const override { return false; }
};

// A send that produced one batch (a small response: HEADERS and DATA) hands it over as written
// alone, which the owner may send at once; a send of several batches never does, so they
// still leave in one flush.
TEST_F(SessionTest, OneBatchIsWrittenAloneSeveralAreNot) {
  make();
  // A response to a fresh request, sent in one pass; the client reads what was sent.
  const auto respond = [&](const char* path, const std::string& body, CountingOutput& out) {
    const int32_t id = client.request(get(path));
    pump();
    EXPECT_TRUE(server->submitResponse(id, 200, {}, body.size(), false));
    server->appendBody(id, body.data(), body.size());
    server->endBody(id);
    server->sendTo(out);
    client.in(out.data);
    return id;
  };
  CountingOutput small;
  const int32_t small_id = respond("/small", "hello", small);
  EXPECT_EQ(small.alone, 1);
  EXPECT_EQ(small.writes, 0);
  EXPECT_EQ(client.resps[small_id].body, "hello");

  const std::string body(12 * 1024, 'z');  // three DATA frames past the 4 KiB batch
  CountingOutput big;
  const int32_t big_id = respond("/big", body, big);
  EXPECT_EQ(big.alone, 0);
  EXPECT_GT(big.writes, 1);
  EXPECT_EQ(client.resps[big_id].body, body);
  EXPECT_TRUE(client.resps[big_id].closed);
}

// sendPending() is what lets the connection skip a flush pass after a read: false once a
// request's HEADERS only opened a stream, true while frames (our SETTINGS, a response, a
// reset) wait, false again once they are sent.
TEST_F(SessionTest, SendPendingOnlyWhileFramesWait) {
  make();
  EXPECT_TRUE(server->sendPending());  // our SETTINGS
  pump();
  EXPECT_FALSE(server->sendPending());
  const int32_t id = client.request(get("/x"));
  const std::string c = client.out();
  ASSERT_TRUE(server->feed(reinterpret_cast<const uint8_t*>(c.data()), c.size()));
  ASSERT_EQ(rec.reqs.count(id), 1u);
  EXPECT_FALSE(server->sendPending());
  ASSERT_TRUE(server->submitResponse(id, 204, {}, std::nullopt, true));
  EXPECT_TRUE(server->sendPending());
  pump();
  EXPECT_EQ(client.resps[id].status, "204");
  EXPECT_FALSE(server->sendPending());
  const int32_t id2 = client.request(get("/y"));
  pump();
  server->resetStream(id2, H2Error::InternalError);
  EXPECT_TRUE(server->sendPending());
}

TEST_F(SessionTest, PostBodyWindowOpensOnlyAfterConsume) {
  SessionLimits l;
  l.initial_window_bytes = 16384;
  make(l);
  rec.auto_consume = false;
  pump();  // the client has our SETTINGS (before them, RFC 9113 gives it 65,535 bytes)
  const std::string body(64 * 1024, 'b');
  Headers h = get("/up");
  h[0].second = "POST";
  const int32_t id = client.request(h, &body);
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  EXPECT_TRUE(rec.reqs[id].head.chunked);  // no content-length: unknown length
  EXPECT_EQ(rec.reqs[id].body.size(), 16384u);
  EXPECT_FALSE(rec.reqs[id].ended);
  for (int i = 0; i < 10 && !rec.reqs[id].ended; ++i) {
    server->consume(id, rec.reqs[id].body.size());
    rec.reqs[id].body.clear();
    pump();
  }
  EXPECT_TRUE(rec.reqs[id].ended);
}

TEST_F(SessionTest, ContentLengthAndTrailers) {
  make();
  prime();
  const std::string head = minimalGetBlock().replace(0, 1, "\x83") +         // POST
                           hpackInt(0x00, 4, 28) + hpackInt(0, 7, 1) + "4";  // content-length
  const std::string trailers =
      hpackInt(0x00, 4, 0) + hpackInt(0, 7, 5) + "x-sum" + hpackInt(0, 7, 1) + "7";
  raw(frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, head));
  ASSERT_EQ(rec.reqs.count(1), 1u);
  EXPECT_EQ(rec.reqs[1].head.method, "POST");
  EXPECT_EQ(rec.reqs[1].head.content_length, std::optional<uint64_t>(4));
  EXPECT_FALSE(rec.reqs[1].head.chunked);
  EXPECT_FALSE(rec.reqs[1].end_stream);
  EXPECT_EQ(http1::findHeader(rec.reqs[1].head.headers, "content-length"), nullptr);
  raw(frame(NGHTTP2_DATA, 0, 1, "abcd") +
      frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, trailers));
  EXPECT_EQ(rec.reqs[1].body, "abcd");
  ASSERT_EQ(rec.reqs[1].trailers.size(), 1u);
  EXPECT_EQ(rec.reqs[1].trailers[0].name, "x-sum");
  EXPECT_EQ(rec.reqs[1].trailers[0].value, "7");
  EXPECT_TRUE(rec.reqs[1].ended);
}

TEST_F(SessionTest, ContentLengthMismatchIsStreamError) {
  make();
  prime();
  const std::string head =
      minimalGetBlock().replace(0, 1, "\x83") + hpackInt(0x00, 4, 28) + hpackInt(0, 7, 1) + "4";
  raw(frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, head) +
      frame(NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 1, "abcdef"));
  EXPECT_EQ(seen.rst[1], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_TRUE(rec.reqs[1].closed);
  EXPECT_FALSE(rec.reqs[1].ended);
}

TEST_F(SessionTest, CookiesJoinedAndAuthorityBeatsHost) {
  make();
  Headers h = get("/", "right.test");
  h.push_back({"host", "wrong.test"});
  h.push_back({"cookie", "a=1"});
  h.push_back({"cookie", "b=2"});
  const int32_t id = client.request(h);
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  const auto& hs = rec.reqs[id].head.headers;
  EXPECT_EQ(http1::countHeader(hs, "host"), 1u);
  EXPECT_EQ(*http1::findHeader(hs, "host"), "right.test");
  EXPECT_EQ(http1::countHeader(hs, "cookie"), 1u);
  EXPECT_EQ(*http1::findHeader(hs, "cookie"), "a=1; b=2");
}

TEST_F(SessionTest, HostFieldUsedWithoutAuthority) {
  make();
  const int32_t id =
      client.request({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test"}});
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  EXPECT_EQ(*http1::findHeader(rec.reqs[id].head.headers, "host"), "h.test");
}

TEST_F(SessionTest, BadPseudoHeadersAreStreamErrors) {
  make();
  const int32_t dup = client.request({{":method", "GET"},
                                      {":scheme", "http"},
                                      {":path", "/"},
                                      {":path", "/again"},
                                      {":authority", "a.test"}});
  const int32_t missing = client.request({{":method", "GET"}, {":authority", "a.test"}});
  const int32_t space = client.request(get("/a b"));
  pump();
  for (const int32_t id : {dup, missing, space}) {
    EXPECT_EQ(rec.reqs.count(id), 0u) << id;
    EXPECT_EQ(client.resps[id].rst, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR)) << id;
  }
  EXPECT_EQ(server->stats().stream_errors_sent, 3u);
  EXPECT_EQ(client.goaway, -1);
}

TEST_F(SessionTest, CrLfNulInValuesNeverDelivered) {
  make();
  int32_t ids[3];
  const std::string bad[3] = {"a\r\nx-injected: 1", std::string("a\0b", 3), "a\nb"};
  for (int i = 0; i < 3; ++i) {
    Headers h = get();
    h.push_back({"x-v", bad[i]});
    ids[i] = client.request(h);
  }
  pump();
  for (const int32_t id : ids) {
    EXPECT_EQ(rec.reqs.count(id), 0u);
    EXPECT_EQ(client.resps[id].rst, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  }
}

TEST_F(SessionTest, ConnectIsRefusedWith405) {
  make();
  const int32_t id = client.request({{":method", "CONNECT"}, {":authority", "a.test:443"}});
  pump();
  ASSERT_EQ(rec.rejected.count(id), 1u);
  EXPECT_EQ(rec.rejected[id], core::ErrorCode::MethodNotAllowed);
}

// RFC 8441: our SETTINGS allow extended CONNECT; CONNECT :protocol websocket becomes the HTTP/1.1
// handshake's GET with Upgrade and a fresh 16-byte key, no body framing (the DATA is the tunnel).
TEST_F(SessionTest, WebSocketConnectBecomesTheHttp11Handshake) {
  make();
  pump();  // the client has our SETTINGS
  EXPECT_EQ(nghttp2_session_get_remote_settings(client.s, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL),
            1u);
  const int32_t id = client.request({{":method", "CONNECT"},
                                     {":protocol", "websocket"},
                                     {":scheme", "https"},
                                     {":path", "/chat?room=1"},
                                     {":authority", "a.test"},
                                     {"sec-websocket-version", "13"},
                                     {"sec-websocket-protocol", "chat"}});
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  const http1::RequestHead& head = rec.reqs[id].head;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/chat?room=1");
  EXPECT_TRUE(head.extended_connect);
  EXPECT_TRUE(head.upgrade);
  EXPECT_FALSE(head.chunked);
  EXPECT_FALSE(head.content_length.has_value());
  const std::string* upgrade = http1::findHeader(head.headers, "upgrade");
  ASSERT_NE(upgrade, nullptr);
  EXPECT_EQ(*upgrade, "websocket");
  const std::string* key = http1::findHeader(head.headers, "sec-websocket-key");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->size(), 24u);
  EXPECT_TRUE(key->ends_with("=="));
  EXPECT_NE(http1::findHeader(head.headers, "sec-websocket-protocol"), nullptr);
  EXPECT_EQ(*http1::findHeader(head.headers, "host"), "a.test");
}

TEST_F(SessionTest, ConnectWithAnotherProtocolIsRefused) {
  make();
  pump();
  const int32_t id = client.request({{":method", "CONNECT"},
                                     {":protocol", "connect-udp"},
                                     {":scheme", "https"},
                                     {":path", "/"},
                                     {":authority", "a.test"}});
  pump();
  ASSERT_EQ(rec.rejected.count(id), 1u);
  EXPECT_EQ(rec.rejected[id], core::ErrorCode::MethodNotAllowed);
}

TEST_F(SessionTest, TooManyStreamsRefused) {
  SessionLimits l;
  l.max_concurrent_streams = 2;
  make(l);
  // Before the client has seen our SETTINGS, and again after it acknowledged them.
  std::vector<int32_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(client.request(get()));
  pump();
  EXPECT_EQ(rec.reqs.count(ids[0]) + rec.reqs.count(ids[1]), 2u);
  EXPECT_EQ(rec.reqs.count(ids[2]), 0u);
  EXPECT_EQ(client.resps[ids[2]].rst, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(server->stats().refused_streams, 1u);
  EXPECT_EQ(client.goaway, -1);
}

TEST_F(SessionTest, TooManyStreamsAfterSettingsAckIsConnectionError) {
  SessionLimits l;
  l.max_concurrent_streams = 2;
  make(l);
  prime();
  raw(frame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, ""));  // our SETTINGS now apply
  std::string bytes;
  for (uint32_t id = 1; id <= 5; id += 2) {
    bytes += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, id, minimalGetBlock());
  }
  raw(bytes);
  // nghttp2 1.52 treats exceeding an acknowledged limit as a connection error (RFC 9113 asks
  // for at least a stream error): the client broke a limit it had acknowledged.
  EXPECT_EQ(rec.reqs.size(), 2u);
  EXPECT_EQ(seen.goaway, NGHTTP2_PROTOCOL_ERROR);
  EXPECT_FALSE(server->wantRead());
}

TEST_F(SessionTest, OverloadRefusesNewStreams) {
  make();
  server->setOverloaded(true);
  const int32_t id = client.request(get());
  pump();
  EXPECT_EQ(rec.reqs.count(id), 0u);
  EXPECT_EQ(client.resps[id].rst, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  server->setOverloaded(false);
  const int32_t ok = client.request(get());
  pump();
  EXPECT_EQ(rec.reqs.count(ok), 1u);
}

TEST_F(SessionTest, RapidResetGetsEnhanceYourCalm) {
  SessionLimits l;
  l.reset_burst = 20;
  l.reset_rate = 1;
  make(l);
  prime();
  const std::string block = minimalGetBlock();
  std::string flood;
  for (uint32_t id = 1; id < 2000; id += 2) {
    flood += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id, block);
    flood += frame(NGHTTP2_RST_STREAM, 0, id, std::string("\0\0\0\x08", 4));
  }
  raw(flood);
  EXPECT_EQ(seen.goaway, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(server->calmedDown());
  EXPECT_FALSE(server->wantRead());
  EXPECT_LE(rec.reqs.size(), 25u);  // the rest never reached the owner
  EXPECT_EQ(server->stats().goaway_enhance_your_calm, 1u);
  // Every stream but the one whose RST ran out the budget (never processed) was cancelled by
  // the client, and reported so; the connection closes the last one.
  size_t closed = 0;
  for (const auto& [id, r] : rec.reqs) {
    if (!r.closed) continue;
    ++closed;
    EXPECT_TRUE(r.reset_by_client) << id;
  }
  EXPECT_GE(closed + 1, rec.reqs.size());
}

TEST_F(SessionTest, StreamErrorsWeSendCountToo) {
  SessionLimits l;
  l.reset_burst = 10;
  l.reset_rate = 1;
  make(l);
  prime();
  // Each stream is malformed (upper-case name): we reset it. MadeYouReset.
  std::string flood;
  std::string block =
      minimalGetBlock() + hpackInt(0x00, 4, 0) + hpackInt(0, 7, 1) + "X" + hpackInt(0, 7, 1) + "1";
  for (uint32_t id = 1; id < 200; id += 2) {
    flood += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id, block);
  }
  raw(flood);
  EXPECT_EQ(seen.goaway, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(rec.reqs.empty());
}

TEST_F(SessionTest, ContinuationFloodIsConnectionError) {
  make();
  prime();
  std::string flood = frame(NGHTTP2_HEADERS, 0, 1, minimalGetBlock());
  for (int i = 0; i < 1000; ++i) flood += frame(NGHTTP2_CONTINUATION, 0, 1, "");
  raw(flood);
  EXPECT_FALSE(server->wantRead());
  EXPECT_TRUE(seen.goaway == NGHTTP2_ENHANCE_YOUR_CALM || seen.goaway == NGHTTP2_PROTOCOL_ERROR)
      << seen.goaway;
  EXPECT_TRUE(rec.reqs.empty());
}

TEST_F(SessionTest, BigHeaderBlockIsConnectionError) {
  SessionLimits l;
  l.max_header_list_bytes = 4096;
  make(l);
  prime();
  // Few frames, many bytes: the compressed block cap fires before nghttp2's frame count.
  std::string lit = hpackInt(0x00, 4, 0) + hpackInt(0, 7, 5) + "x-big" + hpackInt(0, 7, 16000) +
                    std::string(16000, 'v');
  std::string bytes = frame(NGHTTP2_HEADERS, 0, 1, minimalGetBlock()) +
                      frame(NGHTTP2_CONTINUATION, 0, 1, lit.substr(0, 5000)) +
                      frame(NGHTTP2_CONTINUATION, 0, 1, lit.substr(5000, 5000)) +
                      frame(NGHTTP2_CONTINUATION, 0, 1, lit.substr(10000, 5000));
  raw(bytes);
  EXPECT_EQ(seen.goaway, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(rec.reqs.empty());
}

TEST_F(SessionTest, HpackBombAnswered431) {
  make();
  prime();
  // One 4000-byte field inserted into the dynamic table, then referenced 100 times: 4 KiB on
  // the wire, 400 KiB decoded.
  std::string block = minimalGetBlock() + hpackInt(0x40, 6, 0) + hpackInt(0, 7, 6) + "x-bomb" +
                      hpackInt(0, 7, 4000) + std::string(4000, 'a');
  for (int i = 0; i < 100; ++i) block += hpackInt(0x80, 7, 62);
  raw(frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, block));
  EXPECT_TRUE(rec.reqs[1].head.method.empty());  // never delivered as a request
  ASSERT_EQ(rec.rejected.count(1), 1u);
  EXPECT_EQ(rec.rejected[1], core::ErrorCode::HeaderTooLarge);
  EXPECT_EQ(seen.status[1], "431");
  EXPECT_EQ(seen.goaway, -1);
  // The connection goes on: the HPACK state stayed in sync.
  block = std::string("\x82\x84\x86", 3) + hpackInt(0x00, 4, 1) + hpackInt(0, 7, 6) + "a.test";
  raw(frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 3, block));
  EXPECT_EQ(rec.reqs.count(3), 1u);
}

TEST_F(SessionTest, SettingsFloodGetsEnhanceYourCalm) {
  SessionLimits l;
  l.control_frame_burst = 50;
  l.control_frame_rate = 1;
  make(l);
  prime();
  std::string flood;
  for (int i = 0; i < 5000; ++i) flood += frame(NGHTTP2_SETTINGS, 0, 0, "");
  raw(flood);
  EXPECT_EQ(seen.goaway, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_FALSE(server->wantRead());
}

TEST_F(SessionTest, PingFloodGetsEnhanceYourCalm) {
  SessionLimits l;
  l.control_frame_burst = 50;
  l.control_frame_rate = 1;
  make(l);
  prime();
  std::string flood;
  for (int i = 0; i < 5000; ++i) flood += frame(NGHTTP2_PING, 0, 0, std::string(8, 'p'));
  raw(flood);
  EXPECT_EQ(seen.goaway, NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(SessionTest, EmptyDataAndPriorityFloodsGetEnhanceYourCalm) {
  SessionLimits l;
  l.control_frame_burst = 50;
  l.control_frame_rate = 1;
  for (const bool priority : {false, true}) {
    Recorder r2;
    auto s = ServerSession::create(l, r2);
    ASSERT_TRUE(s);
    std::string bytes = kPreface + frame(NGHTTP2_SETTINGS, 0, 0, "") +
                        frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, minimalGetBlock());
    for (int i = 0; i < 5000; ++i) {
      bytes += priority ? frame(NGHTTP2_PRIORITY, 0, 3, std::string("\0\0\0\0\x10", 5))
                        : frame(NGHTTP2_DATA, 0, 1, "");
    }
    (void)(*s)->feed((const uint8_t*)bytes.data(), bytes.size());
    Bytes out;
    (*s)->sendTo(out);
    FrameReader reader;
    reader.in(out.data);
    EXPECT_EQ(reader.goaway, NGHTTP2_ENHANCE_YOUR_CALM) << priority;
  }
}

TEST_F(SessionTest, SettingsWithTooManyEntriesIsConnectionError) {
  make();
  prime();
  std::string payload;
  for (int i = 0; i < 100; ++i) payload += std::string("\x00\x03\x00\x00\x00\x64", 6);
  raw(frame(NGHTTP2_SETTINGS, 0, 0, payload));
  EXPECT_FALSE(server->wantRead());
  EXPECT_NE(seen.goaway, -1);
}

TEST_F(SessionTest, ResponseBackpressureAndWritable) {
  SessionLimits l;
  l.stream_high_watermark = 32 * 1024;
  make(l);
  const int32_t id = client.request(get());
  pump();
  ASSERT_TRUE(server->submitResponse(id, 200, {}, std::nullopt, false));
  const std::string chunk(100 * 1024, 'z');
  server->appendBody(id, chunk.data(), chunk.size());
  EXPECT_EQ(server->bufferedBytes(id), chunk.size());
  // The client's window (64 KiB) lets part out; the client opens it again as it reads.
  pump();
  EXPECT_EQ(server->bufferedBytes(id), 0u);
  ASSERT_EQ(rec.writable.size(), 1u);
  EXPECT_EQ(rec.writable[0], id);
  server->endBody(id);
  pump();
  EXPECT_EQ(client.resps[id].body.size(), chunk.size());
  EXPECT_TRUE(client.resps[id].closed);
}

TEST_F(SessionTest, ConnectionWideQueueBoundPausesEveryStream) {
  SessionLimits l;
  l.stream_high_watermark = 32 * 1024;  // connection bound: 4 x 32 KiB
  make(l);
  // The client grants no stream window: nothing can leave the queues.
  const nghttp2_settings_entry zero{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0};
  nghttp2_submit_settings(client.s, NGHTTP2_FLAG_NONE, &zero, 1);
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(client.request(get()));
  pump();
  const std::string chunk(30 * 1024, 'c');  // each stream under its own watermark
  for (const int32_t id : ids) {
    ASSERT_TRUE(server->submitResponse(id, 200, {}, std::nullopt, false));
    server->appendBody(id, chunk.data(), chunk.size());
  }
  pump();
  for (const int32_t id : ids) EXPECT_EQ(server->bufferedBytes(id), 5 * chunk.size());
  // The client opens its windows: queues drain and every stream hears it may go on.
  for (const int32_t id : ids)
    nghttp2_submit_window_update(client.s, NGHTTP2_FLAG_NONE, id, 1 << 20);
  pump();
  for (const int32_t id : ids) EXPECT_EQ(server->bufferedBytes(id), 0u);
  EXPECT_EQ(rec.writable.size(), ids.size());
}

TEST_F(SessionTest, AbortResetsWithInternalError) {
  make();
  const int32_t id = client.request(get());
  pump();
  ASSERT_TRUE(server->submitResponse(id, 200, {}, 100, false));
  server->appendBody(id, "part", 4);
  pump();
  server->resetStream(id, H2Error::InternalError);
  pump();
  EXPECT_EQ(client.resps[id].rst, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_EQ(client.resps[id].body, "part");
  EXPECT_TRUE(rec.reqs[id].closed);
  EXPECT_EQ(rec.reqs[id].close_error, H2Error::InternalError);
  EXPECT_FALSE(rec.reqs[id].reset_by_client);
}

TEST_F(SessionTest, ClientCancelIsReported) {
  make();
  const int32_t id = client.request(get());
  pump();
  nghttp2_submit_rst_stream(client.s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  pump();
  EXPECT_TRUE(rec.reqs[id].closed);
  EXPECT_TRUE(rec.reqs[id].reset_by_client);
  EXPECT_EQ(rec.reqs[id].close_error, H2Error::Cancel);
  EXPECT_EQ(server->stats().resets_received, 1u);
}

TEST_F(SessionTest, EarlyResponseResetsRequestBodyWithNoError) {
  make();
  rec.auto_consume = true;
  Headers h = get();
  h[0].second = "POST";
  h.push_back({"content-length", "100000"});
  const std::string body(100000, 'q');
  const int32_t id = client.request(h, &body);
  pump();
  ASSERT_EQ(rec.reqs.count(id), 1u);
  // Still uploading when the answer is complete.
  ASSERT_TRUE(server->submitResponse(id, 413, {}, 0, true));
  pump();
  EXPECT_EQ(client.resps[id].status, "413");
  EXPECT_TRUE(client.resps[id].closed);
}

TEST_F(SessionTest, GracefulShutdown) {
  make();
  const int32_t id = client.request(get());
  pump();
  server->submitShutdownNotice();
  pump();
  server->submitFinalGoaway();
  pump();
  EXPECT_EQ(client.goaway, NGHTTP2_NO_ERROR);
  ASSERT_TRUE(server->submitResponse(id, 204, {}, std::nullopt, true));
  pump();
  EXPECT_EQ(client.resps[id].status, "204");
  EXPECT_FALSE(server->wantRead() && server->openStreams() > 0);
}

TEST_F(SessionTest, BadPrefaceIsFatal) {
  make();
  const std::string junk = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = server->feed((const uint8_t*)junk.data(), junk.size());
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace baton::proxy::http2
