#include "proxy/forwarding.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace baton::proxy {
namespace {

using http1::HeaderField;
using http1::HeaderList;
using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs(const HeaderList& h) {
  Pairs p;
  for (const auto& f : h) p.emplace_back(f.name, f.value);
  return p;
}

ForwardContext context() {
  ForwardContext ctx;
  ctx.client_ip = "192.0.2.7";
  ctx.proto = "http";
  ctx.listener_port = 8080;
  ctx.host = "app.example.com";
  ctx.request_id = "rid-1";
  return ctx;
}

const Pairs kBatonTail = {
    {"Host", "app.example.com"},   {"X-Forwarded-For", "192.0.2.7"},
    {"X-Forwarded-Proto", "http"}, {"X-Forwarded-Host", "app.example.com"},
    {"X-Forwarded-Port", "8080"},  {"X-Real-IP", "192.0.2.7"},
    {"X-Request-Id", "rid-1"},
};

Pairs withTail(Pairs head) {
  head.insert(head.end(), kBatonTail.begin(), kBatonTail.end());
  return head;
}

TEST(ForwardingTest, PlainRequestKeepsOrderAndAppendsBatonFields) {
  const HeaderList in = {{"Host", "app.example.com"},
                         {"User-Agent", "curl/8"},
                         {"Accept", "*/*"},
                         {"Cookie", "a=1"},
                         {"Cookie", "b=2"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(
      pairs(out),
      withTail(
          {{"User-Agent", "curl/8"}, {"Accept", "*/*"}, {"Cookie", "a=1"}, {"Cookie", "b=2"}}));
}

TEST(ForwardingTest, StripsHopByHopFramingAndBatonOwnedFields) {
  const HeaderList in = {
      {"connection", "keep-alive"}, {"Keep-Alive", "timeout=5"},      {"Proxy-Connection", "close"},
      {"TE", "trailers"},           {"Transfer-Encoding", "chunked"}, {"CONTENT-LENGTH", "5"},
      {"Upgrade", "h2c"},           {"HTTP2-Settings", "AAA"},        {"host", "other"},
      {"Expect", "100-continue"},   {"X-Request-Id", "client-id"},    {"Accept", "x"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"Accept", "x"}}));
}

TEST(ForwardingTest, StripsNamesListedInConnection) {
  const HeaderList in = {{"X-Secret", "1"},
                         {"Accept", "x"},
                         {"Connection", " close ,X-Secret,, x-other\t"},
                         {"X-Other", "2"},
                         {"X-Kept", "3"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"Accept", "x"}, {"X-Kept", "3"}}));
}

TEST(ForwardingTest, ConnectionCannotRemoveBatonFields) {
  const HeaderList in = {
      {"Connection",
       "close, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, "
       "X-Real-IP, X-Request-Id, Host"},
      {"Accept", "x"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"Accept", "x"}}));
}

TEST(ForwardingTest, UntrustedPeerIdentityFieldsAreReplaced) {
  const HeaderList in = {
      {"X-Forwarded-For", "6.6.6.6"}, {"x-forwarded-proto", "https"}, {"X-Forwarded-Host", "evil"},
      {"X-Forwarded-Port", "443"},    {"X-Real-IP", "6.6.6.6"},       {"Forwarded", "for=6.6.6.6"},
      {"X_Forwarded_For", "6.6.6.6"}, {"x_real_ip", "6.6.6.6"},       {"Accept", "x"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"Accept", "x"}}));
}

TEST(ForwardingTest, TrustedPeerChainIsAppendedAndIdentityKept) {
  const HeaderList in = {{"X-Forwarded-For", "203.0.113.1, 198.51.100.2"},
                         {"X-Forwarded-Proto", "https"},
                         {"Forwarded", "for=203.0.113.1;proto=https"},
                         {"X-Forwarded-For", "198.51.100.3"},
                         {"X_Forwarded_For", "6.6.6.6"},
                         {"Accept", "x"}};
  ForwardContext ctx = context();
  ctx.peer_trusted = true;
  HeaderList out;
  buildUpstreamRequestHeaders(in, ctx, out);
  EXPECT_EQ(pairs(out),
            (Pairs{{"X-Forwarded-Proto", "https"},
                   {"Forwarded", "for=203.0.113.1;proto=https"},
                   {"Accept", "x"},
                   {"Host", "app.example.com"},
                   {"X-Forwarded-For", "203.0.113.1, 198.51.100.2, 198.51.100.3, 192.0.2.7"},
                   {"X-Forwarded-Host", "app.example.com"},
                   {"X-Forwarded-Port", "8080"},
                   {"X-Real-IP", "192.0.2.7"},
                   {"X-Request-Id", "rid-1"}}));
}

TEST(ForwardingTest, TrustedPeerFieldsListedInConnectionAreHopByHop) {
  const HeaderList in = {{"X-Forwarded-Proto", "https"},
                         {"X-Forwarded-For", "203.0.113.1"},
                         {"Connection", "X-Forwarded-Proto, X-Forwarded-For"}};
  ForwardContext ctx = context();
  ctx.peer_trusted = true;
  HeaderList out;
  buildUpstreamRequestHeaders(in, ctx, out);
  EXPECT_EQ(pairs(out), kBatonTail);
}

TEST(ForwardingTest, TracingHeadersPassThroughUntouched) {
  const HeaderList in = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                         {"tracestate", "congo=t61rcWkgMzE"},
                         {"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"},
                         {"X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"},
                         {"X-B3-SpanId", "e457b5a2e4d86bd1"},
                         {"X-B3-Sampled", "1"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  Pairs expected;
  for (const auto& f : in) expected.emplace_back(f.name, f.value);
  EXPECT_EQ(pairs(out), withTail(expected));
}

TEST(ForwardingTest, EmptyHostAndRequestIdOmitOptionalFields) {
  ForwardContext ctx = context();
  ctx.host = "";
  ctx.request_id = "";
  ctx.proto = "https";
  ctx.listener_port = 443;
  ctx.client_ip = "::1";
  HeaderList out;
  buildUpstreamRequestHeaders({}, ctx, out);
  EXPECT_EQ(pairs(out), (Pairs{{"Host", ""},
                               {"X-Forwarded-For", "::1"},
                               {"X-Forwarded-Proto", "https"},
                               {"X-Forwarded-Port", "443"},
                               {"X-Real-IP", "::1"}}));
}

TEST(ForwardingTest, OutputIsClearedFirst) {
  HeaderList out = {{"Stale", "1"}};
  buildUpstreamRequestHeaders({}, context(), out);
  EXPECT_EQ(pairs(out), kBatonTail);
}

TEST(ForwardingTest, ManyConnectionTokensStillAllStripped) {
  HeaderList in;
  std::string list;
  for (int i = 0; i < 40; ++i) {
    const std::string name = "X-H" + std::to_string(i);
    in.push_back({name, "v"});
    list += (i ? ", " : "") + name;
  }
  in.push_back({"Connection", list});
  in.push_back({"X-Kept", "1"});
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"X-Kept", "1"}}));
}

TEST(ForwardingTest, NamesAreNotMatchedByPrefixOrSimilarity) {
  const HeaderList in = {{"Hosts", "1"},       {"X-Forwarded-Fo", "2"},
                         {"Connections", "3"}, {"Content-Lengthy", "4"},
                         {"T", "5"},           {"Te-", "6"},
                         {"Content-Type", "7"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  Pairs expected;
  for (const auto& f : in) expected.emplace_back(f.name, f.value);
  EXPECT_EQ(pairs(out), withTail(expected));
}

// A response with every hop-by-hop kind among end-to-end fields.
HeaderList hopByHopResponse(const std::string& second_cookie) {
  return {{"Content-Type", "text/html"},
          {"Connection", "keep-alive, X-Internal"},
          {"Keep-Alive", "timeout=5"},
          {"Transfer-Encoding", "chunked"},
          {"Content-Length", "10"},
          {"X-Internal", "secret"},
          {"Upgrade", "websocket"},
          {"Proxy-Connection", "x"},
          {"TE", "x"},
          {"HTTP2-Settings", "x"},
          {"Set-Cookie", "a=1"},
          {"Set-Cookie", second_cookie},
          {"X-Forwarded-For", "1.2.3.4"},
          {"X-Request-Id", "abc"}};
}

TEST(ForwardingTest, ResponseHopByHopStripped) {
  const HeaderList in = hopByHopResponse("b=2");
  HeaderList out = {{"Stale", "1"}};
  buildDownstreamResponseHeaders(in, out);
  EXPECT_EQ(pairs(out), (Pairs{{"Content-Type", "text/html"},
                               {"Set-Cookie", "a=1"},
                               {"Set-Cookie", "b=2"},
                               {"X-Forwarded-For", "1.2.3.4"},
                               {"X-Request-Id", "abc"}}));
}

// The in-place filter gives what the copying builder gives, field for field, for lists that
// exercise each of its rules: hop-by-hop names, '_' spellings, tokens listed in Connection
// (few, many, repeated fields), long values that must move intact, and a list past its 64-field
// fast path.
TEST(ForwardingTest, InPlaceResponseFilterMatchesTheBuilder) {
  const std::string long_value(100, 'v');
  std::vector<HeaderList> cases = {
      {},
      {{"Content-Type", "text/plain"}, {"Date", "Thu, 26 Nov 2026 17:10:53 GMT"}},
      hopByHopResponse(long_value),
      {{"Keep_Alive", "1"}, {"Transfer_Encoding", "x"}, {"connection", "close"}, {"A", "b"}},
      {{"X-A", long_value},
       {"Connection", "x-a"},
       {"Connection", "X-B, keep-alive"},
       {"x-b", "2"},
       {"X-C", long_value}},
      {{"Connection", "close"}, {"Server", "nginx"}, {"ETag", "\"6b0867fa-d\""}},
  };
  HeaderList many_tokens = {{"Keep", long_value}};
  std::string list;
  for (int i = 0; i < 40; ++i) list += "X-Drop-" + std::to_string(i) + ", ";
  many_tokens.push_back({"Connection", list});
  for (int i = 0; i < 40; ++i) many_tokens.push_back({"X-Drop-" + std::to_string(i), "d"});
  many_tokens.push_back({"Last", "1"});
  cases.push_back(many_tokens);
  HeaderList huge;
  for (int i = 0; i < 70; ++i) {
    huge.push_back({i % 7 == 0 ? "Keep-Alive" : "X-F" + std::to_string(i), std::to_string(i)});
  }
  cases.push_back(huge);
  for (size_t c = 0; c < cases.size(); ++c) {
    HeaderList want;
    buildDownstreamResponseHeaders(cases[c], want);
    HeaderList got = cases[c];
    filterDownstreamResponseHeaders(got);
    EXPECT_EQ(pairs(got), pairs(want)) << "case " << c;
  }
}

TEST(ForwardingTest, UpstreamHostReplacesHostButNotForwardedHost) {
  ForwardContext ctx = context();
  ctx.upstream_host = "backend.internal";
  HeaderList out;
  buildUpstreamRequestHeaders({{"Host", "app.example.com"}, {"Accept", "*/*"}}, ctx, out);
  Pairs expected = withTail({{"Accept", "*/*"}});
  expected[1].second = "backend.internal";
  EXPECT_EQ(pairs(out), expected);
}

TEST(ForwardingTest, RequestsWebSocketOnlyForTheSingleToken) {
  EXPECT_TRUE(requestsWebSocket({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}));
  EXPECT_TRUE(requestsWebSocket({{"connection", "keep-alive, UPGRADE"}, {"upgrade", "WebSocket"}}));
  EXPECT_FALSE(requestsWebSocket({{"Upgrade", "websocket"}}));  // Connection must list upgrade
  EXPECT_FALSE(requestsWebSocket({{"Connection", "Upgrade"}, {"Upgrade", "h2c"}}));
  EXPECT_FALSE(requestsWebSocket({{"Connection", "Upgrade"}, {"Upgrade", "websocket, h2c"}}));
  EXPECT_FALSE(
      requestsWebSocket({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Upgrade", "h2c"}}));
  EXPECT_FALSE(requestsWebSocket({{"Connection", "Upgrade"}, {"Up_grade", "websocket"}}));
  EXPECT_FALSE(requestsWebSocket({{"Connection", "Upgradex"}, {"Upgrade", "websocket"}}));
}

TEST(ForwardingTest, UpgradesToWebSocketReadsTheResponseUpgrade) {
  EXPECT_TRUE(upgradesToWebSocket({{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}));
  EXPECT_TRUE(upgradesToWebSocket({{"upgrade", "WEBSOCKET"}}));
  EXPECT_FALSE(upgradesToWebSocket({{"Upgrade", "h2c"}}));
  EXPECT_FALSE(upgradesToWebSocket({{"Connection", "Upgrade"}}));
}

TEST(ForwardingTest, WebSocketRequestKeepsUpgradeAndSecFields) {
  const HeaderList in = {{"Host", "app.example.com"},
                         {"Connection", "keep-alive, Upgrade"},
                         {"Upgrade", "websocket"},
                         {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                         {"Sec-WebSocket-Version", "13"},
                         {"Sec-WebSocket-Protocol", "chat"},
                         {"HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"}};
  ForwardContext ctx = context();
  ctx.websocket = true;
  HeaderList out;
  buildUpstreamRequestHeaders(in, ctx, out);
  Pairs expected = withTail({{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                             {"Sec-WebSocket-Version", "13"},
                             {"Sec-WebSocket-Protocol", "chat"}});
  expected.emplace_back("Connection", "Upgrade");
  expected.emplace_back("Upgrade", "websocket");
  EXPECT_EQ(pairs(out), expected);
}

TEST(ForwardingTest, UpgradeStrippedWhenNotForwardedAsWebSocket) {
  // A route with websocket = false, or an h2c upgrade: plain HTTP, no Upgrade, no Connection.
  const HeaderList in = {{"Connection", "Upgrade, HTTP2-Settings"},
                         {"Upgrade", "h2c"},
                         {"HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"},
                         {"Sec-WebSocket-Version", "13"}};
  HeaderList out;
  buildUpstreamRequestHeaders(in, context(), out);
  EXPECT_EQ(pairs(out), withTail({{"Sec-WebSocket-Version", "13"}}));
}

TEST(ForwardingTest, WebSocketUpgradeCannotBeUsedToDropBatonFields) {
  // Connection may name fields to strip; baton's own (and its Connection/Upgrade) come after.
  const HeaderList in = {{"Connection", "Upgrade, X-Forwarded-For, X-Request-Id"},
                         {"Upgrade", "websocket"},
                         {"X-Forwarded-For", "6.6.6.6"}};
  ForwardContext ctx = context();
  ctx.websocket = true;
  HeaderList out;
  buildUpstreamRequestHeaders(in, ctx, out);
  Pairs expected = kBatonTail;
  expected.emplace_back("Connection", "Upgrade");
  expected.emplace_back("Upgrade", "websocket");
  EXPECT_EQ(pairs(out), expected);
}

TEST(ForwardingTest, Relayed101CarriesUpgradeAndKeepsAccept) {
  const HeaderList in = {{"Upgrade", "WebSocket"},
                         {"Connection", "Upgrade, X-Internal"},
                         {"X-Internal", "secret"},
                         {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                         {"Keep-Alive", "timeout=5"}};
  HeaderList out;
  buildDownstreamResponseHeaders(in, out, /*websocket=*/true);
  EXPECT_EQ(pairs(out), (Pairs{{"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                               {"Connection", "Upgrade"},
                               {"Upgrade", "websocket"}}));
  buildDownstreamResponseHeaders(in, out);
  EXPECT_EQ(pairs(out), (Pairs{{"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}));
}

// The view builder (Stream's HTTP/1 path) yields exactly the string builder's fields, for every
// kind of input: plain, stripped, Connection-listed, trusted chains (computed X-Forwarded-For in
// the storage), upstream_host, WebSocket. The same out/storage are reused from one call to the
// next, a longer chain after a shorter one, as Stream's per-thread scratch is.
TEST(ForwardingTest, FieldViewsMatchTheStringBuilderAcrossReuse) {
  struct Case {
    HeaderList in;
    bool trusted;
    bool websocket;
    std::string_view upstream_host;
  };
  const std::string long_chain(300, '1');
  const std::vector<Case> cases = {
      {{{"Host", "h"}, {"Accept", "*/*"}, {"Cookie", "a=1"}}, false, false, ""},
      {{{"X-Forwarded-For", "203.0.113.1"}, {"X-Forwarded-Port", "443"}, {"Accept", "x"}},
       true,
       false,
       ""},
      {{{"Connection", "X-Gone, keep-alive"}, {"X-Gone", "1"}, {"Keep-Alive", "5"}, {"A", "b"}},
       false,
       false,
       "backend.internal"},
      {{{"X-Forwarded-For", long_chain}, {"X-Forwarded-For", "198.51.100.3"}, {"B", "c"}},
       true,
       false,
       ""},
      {{{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Key", "k"}},
       false,
       true,
       ""},
      {{}, true, false, ""},
  };
  http1::FieldViewList views;
  std::string storage;
  for (size_t i = 0; i < cases.size(); ++i) {
    ForwardContext ctx = context();
    ctx.peer_trusted = cases[i].trusted;
    ctx.websocket = cases[i].websocket;
    ctx.upstream_host = cases[i].upstream_host;
    ctx.listener_port = static_cast<uint16_t>(8000 + i);
    HeaderList strings;
    buildUpstreamRequestHeaders(cases[i].in, ctx, strings);
    buildUpstreamRequestFields(cases[i].in, ctx, views, storage);
    Pairs from_views;
    for (const http1::FieldView& f : views) from_views.emplace_back(f.name, f.value);
    EXPECT_EQ(from_views, pairs(strings)) << "case " << i;
  }
}

}  // namespace
}  // namespace baton::proxy
