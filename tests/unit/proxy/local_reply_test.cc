#include "proxy/local_reply.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::proxy {
namespace {

using core::ErrorCode;

struct Row {
  ErrorCode code;
  uint16_t status;
  bool close;
};

TEST(LocalReplyTest, EveryCodeMapsAsSpecified) {
  const Row rows[] = {
      {ErrorCode::BadRequest, 400, true},
      {ErrorCode::BadRequestLine, 400, true},
      {ErrorCode::BadRequestTarget, 400, true},
      {ErrorCode::PathAboveRoot, 400, true},
      {ErrorCode::BadHeader, 400, true},
      {ErrorCode::BadHost, 400, true},
      {ErrorCode::BadFraming, 400, true},
      {ErrorCode::DownstreamClosed, 400, true},
      {ErrorCode::UnsupportedTransferCoding, 501, true},
      {ErrorCode::MethodNotAllowed, 405, true},
      {ErrorCode::UnsupportedVersion, 505, true},
      {ErrorCode::RequestLineTooLong, 414, true},
      {ErrorCode::HeaderTooLarge, 431, true},
      {ErrorCode::BodyTooLarge, 413, true},
      {ErrorCode::ExpectationFailed, 417, true},
      {ErrorCode::RequestHeadTimeout, 408, true},
      {ErrorCode::RequestBodyTimeout, 408, true},
      {ErrorCode::NoRoute, 404, false},
      {ErrorCode::SourceNotAllowed, 403, false},
      {ErrorCode::AuthRequired, 401, false},
      {ErrorCode::Redirect, 301, false},
      {ErrorCode::UpstreamDrainDeadline, 503, true},
      {ErrorCode::Overloaded, 503, true},
      {ErrorCode::NoHealthyHost, 503, false},
      {ErrorCode::UpstreamConnectFailed, 503, false},
      {ErrorCode::UpstreamConnectTimeout, 504, false},
      {ErrorCode::UpstreamTimeout, 504, false},
      {ErrorCode::UpstreamProtocolError, 502, false},
      {ErrorCode::UpstreamReset, 502, false},
      {ErrorCode::Internal, 500, true},
      {ErrorCode::ConfigInvalid, 500, true},
      {ErrorCode::ConfigIo, 500, true},
      {ErrorCode::TlsHandshakeFailed, 400, true},
      {ErrorCode::TlsHandshakeTimeout, 408, true},
      {ErrorCode::Http2ProtocolError, 400, true},
      {ErrorCode::Http2StreamError, 400, true},
      {ErrorCode::Http2StreamCancelled, 400, true},
      {ErrorCode::Http2EnhanceYourCalm, 400, true},
      {ErrorCode::TunnelIdleTimeout, 504, false},
      {ErrorCode::UpstreamOverflow, 503, false},
  };
  for (const Row& r : rows) {
    const LocalReply& reply = localReplyFor(r.code);
    EXPECT_EQ(reply.status, r.status) << core::errorCodeName(r.code);
    EXPECT_EQ(reply.close, r.close) << core::errorCodeName(r.code);
    EXPECT_FALSE(reply.reason.empty());
    ASSERT_FALSE(reply.body.empty());
    EXPECT_EQ(reply.body.back(), '\n');
    EXPECT_EQ(reply.body.substr(0, 3), std::to_string(r.status));
  }
}

TEST(LocalReplyTest, SameCodeSameObject) {
  EXPECT_EQ(&localReplyFor(ErrorCode::NoRoute), &localReplyFor(ErrorCode::NoRoute));
}

TEST(LocalReplyTest, OutOfRangeCodeIs500) {
  EXPECT_EQ(localReplyFor(static_cast<ErrorCode>(9999)).status, 500);
  EXPECT_EQ(localReplyFor(ErrorCode::Ok).status, 500);
}

TEST(LocalReplyTest, RendersKeepAliveReplyWithRequestId) {
  std::string out;
  renderLocalReply(localReplyFor(ErrorCode::NoRoute), "abc123", false, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 41\r\n"
            "X-Request-Id: abc123\r\n"
            "\r\n"
            "404 Not Found: no route for this request\n");
}

TEST(LocalReplyTest, CloseFromReplyOrCaller) {
  std::string out;
  renderLocalReply(localReplyFor(ErrorCode::BadHeader), "", false, false, out);
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.find("X-Request-Id"), std::string::npos);
  out.clear();
  renderLocalReply(localReplyFor(ErrorCode::UpstreamTimeout), "", true, false, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0), 0u);
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
  out.clear();
  renderLocalReply(localReplyFor(ErrorCode::UpstreamTimeout), "", false, false, out);
  EXPECT_EQ(out.find("Connection:"), std::string::npos);
}

TEST(LocalReplyTest, HeadOmitsBodyButKeepsLength) {
  const LocalReply& reply = localReplyFor(ErrorCode::NoHealthyHost);
  std::string out;
  renderLocalReply(reply, "", false, true, out);
  EXPECT_NE(out.find("Content-Length: " + std::to_string(reply.body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(LocalReplyTest, AppendsToOutput) {
  std::string out = "prefix";
  renderLocalReply(localReplyFor(ErrorCode::BadRequest), "", false, false, out);
  EXPECT_EQ(out.rfind("prefixHTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_TRUE(out.ends_with(localReplyFor(ErrorCode::BadRequest).body));
}

TEST(LocalReplyTest, UnsafeRequestIdIsNotEchoed) {
  std::string out;
  renderLocalReply(localReplyFor(ErrorCode::BadRequest), "x\r\nSet-Cookie: a=b", false, false, out);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("X-Request-Id"), std::string::npos);
}

TEST(LocalReplyTest, MethodNotAllowedCarriesAllow) {
  std::string out;
  renderLocalReply(localReplyFor(ErrorCode::MethodNotAllowed), "", false, false, out);
  EXPECT_NE(out.find("\r\nAllow: "), std::string::npos);
}

TEST(LocalReplyTest, ExtraFieldsFollowConnection) {
  std::string out;
  const http1::HeaderList extra = {{"Location", "https://h/x"}};
  renderLocalReply(localReplyFor(ErrorCode::Redirect), "", true, false, extra, out);
  EXPECT_EQ(out,
            "HTTP/1.1 301 Moved Permanently\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 22\r\nConnection: close\r\nLocation: https://h/x\r\n\r\n"
            "301 Moved Permanently\n");
}

TEST(LocalReplyTest, ExtraFieldWithLineBreakIsDropped) {
  std::string out;
  const http1::HeaderList extra = {{"Location", "/x\r\nSet-Cookie: a=b"},
                                   {"WWW-Authenticate", "Basic realm=\"r\""}};
  renderLocalReply(localReplyFor(ErrorCode::AuthRequired), "", false, false, extra, out);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("Location"), std::string::npos);
  EXPECT_NE(out.find("\r\nWWW-Authenticate: Basic realm=\"r\"\r\n"), std::string::npos);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
}

}  // namespace
}  // namespace baton::proxy
