// ChunkedBodyScanner and HeaderBlockScanner on their own: end detection and limits.
#include "proxy/http1/chunked_body_scanner.h"

#include <gtest/gtest.h>

#include "proxy/http1/header_block_scanner.h"

namespace baton::proxy::http1 {
namespace {

TEST(ChunkedBodyScannerTest, StopsAtEndOfMessage) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  const std::string body = "3\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n";
  auto r = s.consume(body.data(), body.size());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, body.find("GET"));
  EXPECT_TRUE(s.done());
}

// consumeRun() splits the body into runs llhttp sees and extension runs it never sees.
TEST(ChunkedBodyScannerTest, RunsSeparateExtensionBytes) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  const std::string body = "5;a=b;c=\"d\"\r\nhello\r\n0;e\r\n\r\n";
  std::string seen, skipped;
  size_t pos = 0;
  while (!s.done()) {
    const bool ext = s.isExtensionByte(body[pos]);
    auto r = s.consumeRun(body.data() + pos, body.size() - pos, ext);
    ASSERT_TRUE(r);
    ASSERT_GT(*r, 0u) << "no progress at " << pos;
    (ext ? skipped : seen) += body.substr(pos, *r);
    pos += *r;
  }
  EXPECT_EQ(pos, body.size());
  EXPECT_EQ(seen, "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(skipped, ";a=b;c=\"d\";e");
}

TEST(ChunkedBodyScannerTest, BodyRunStopsBeforeAnExtension) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  const std::string body = "5;x\r\n";
  auto r = s.consumeRun(body.data(), body.size(), false);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  EXPECT_TRUE(s.isExtensionByte(';'));
  EXPECT_FALSE(s.isExtensionByte('\r'));
  auto e = s.consumeRun(body.data() + 1, body.size() - 1, true);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, 2u);  // ";x", not the CR
  EXPECT_FALSE(s.isExtensionByte('\r'));
}

TEST(ChunkedBodyScannerTest, SixteenHexDigitsAccepted) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  const std::string line = "FFFFFFFFFFFFFFFF\r\n";
  auto r = s.consume(line.data(), line.size());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, line.size());
  EXPECT_FALSE(s.done());
}

TEST(ChunkedBodyScannerTest, DeclaredSizesPastTheBodyLimitAreRefusedBeforeTheData) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  s.setBodyLimit(10);
  const std::string ok = "5\r\nabcde\r\n";
  ASSERT_TRUE(s.consume(ok.data(), ok.size()));
  const std::string over = "6\r\n";  // 5 + 6 > 10: refused at the size line
  auto r = s.consume(over.data(), over.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::BodyTooLarge);
}

TEST(ChunkedBodyScannerTest, HugeDeclaredChunkDoesNotOverflowTheLimitCheck) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  s.setBodyLimit(1 << 30);
  const std::string line = "FFFFFFFFFFFFFFFF\r\n";
  auto r = s.consume(line.data(), line.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::BodyTooLarge);
}

TEST(ChunkedBodyScannerTest, ResetClearsTheBodyLimit) {
  ChunkedBodyScanner s({}, core::ErrorSource::Downstream);
  s.setBodyLimit(1);
  s.reset();
  const std::string body = "5\r\nabcde\r\n0\r\n\r\n";
  ASSERT_TRUE(s.consume(body.data(), body.size()));
  EXPECT_TRUE(s.done());
}

TEST(ChunkedBodyScannerTest, UpstreamErrorsAreProtocolErrors) {
  ChunkedBodyScanner s({}, core::ErrorSource::Upstream);
  const std::string bad = "3\r\nabcX";
  auto r = s.consume(bad.data(), bad.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::UpstreamProtocolError);
}

TEST(HeaderBlockScannerTest, ByteAtATimeFindsEnd) {
  HeaderBlockScanner s({}, core::ErrorSource::Downstream);
  const std::string head = "Host: h\r\nX: \t a b\t\r\n\r\nBODY";
  size_t consumed = 0;
  for (size_t i = 0; i < head.size() && !s.done(); ++i) {
    auto r = s.consume(head.data() + i, 1);
    ASSERT_TRUE(r);
    consumed += *r;
  }
  EXPECT_TRUE(s.done());
  EXPECT_EQ(consumed, head.find("BODY"));
  EXPECT_EQ(s.fieldCount(), 2u);
}

TEST(HeaderBlockScannerTest, TransferEncodingHtabOnlyForThatName) {
  HeaderBlockScanner s({}, core::ErrorSource::Downstream);
  const std::string ok = "Transfer-Encodinx:\tchunked\r\nTransfer-Encoding-X:\ta\r\n\r\n";
  EXPECT_TRUE(s.consume(ok.data(), ok.size()));
  s.reset();
  const std::string bad = "transfer-ENCODING: chunked\t\r\n\r\n";
  auto r = s.consume(bad.data(), bad.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::BadFraming);
}

}  // namespace
}  // namespace baton::proxy::http1
