// RequestLineScanner: grammar, target byte table, limits, splits.
#include "proxy/http1/request_line_scanner.h"

#include <gtest/gtest.h>

namespace baton::proxy::http1 {
namespace {

using core::ErrorCode;

TEST(RequestLineScannerTest, ParsesParts) {
  auto r = RequestLineScanner::parse("GET /a?b=c HTTP/1.0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/a?b=c");
  EXPECT_EQ(r->version_minor, 0);
}

TEST(RequestLineScannerTest, EveryHighByteAndPrintableIsAccepted) {
  for (int c = 0x21; c <= 0xff; ++c) {
    if (c == 0x7f) continue;
    const std::string line = std::string("GET /") + static_cast<char>(c) + " HTTP/1.1";
    EXPECT_TRUE(RequestLineScanner::parse(line)) << c;
  }
}

TEST(RequestLineScannerTest, EveryControlByteIsRefused) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string line = std::string("GET /a") + static_cast<char>(c) + "b HTTP/1.1";
    auto r = RequestLineScanner::parse(line);
    ASSERT_FALSE(r) << c;
    EXPECT_EQ(r.error().code, ErrorCode::BadRequestTarget) << c;
  }
  auto del = RequestLineScanner::parse(
      "GET /a\x7f"
      "b HTTP/1.1");
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error().code, ErrorCode::BadRequestTarget);
}

TEST(RequestLineScannerTest, MethodsRefusedInAnyCase) {
  for (const char* m : {"CONNECT", "connect", "TRACE", "Trace"}) {
    auto r = RequestLineScanner::parse(std::string(m) + " / HTTP/1.1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::MethodNotAllowed);
  }
}

TEST(RequestLineScannerTest, GrammarErrors) {
  for (const char* line :
       {"", " / HTTP/1.1", "GET", "GET /", "GET / ", "GET / HTTP/1.1 ", "GET / HTTP/1",
        "GET / HTTP/1.1x", "GET\t/ HTTP/1.1", "GE T / HTTP/1.1", "GET / HTTP/a.b"}) {
    auto r = RequestLineScanner::parse(line);
    ASSERT_FALSE(r) << line;
    EXPECT_EQ(r.error().code, ErrorCode::BadRequestLine) << line;
  }
  auto v = RequestLineScanner::parse("GET / HTTP/0.9");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::UnsupportedVersion);
}

TEST(RequestLineScannerTest, SplitAnywhereAndLimit) {
  const std::string line = "POST /upload HTTP/1.1\r\nHost";
  for (size_t cut = 0; cut <= 23; ++cut) {
    RequestLineScanner s(100);
    auto a = s.consume(line.data(), cut);
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, cut);
    auto b = s.consume(line.data() + cut, line.size() - cut);
    ASSERT_TRUE(b);
    EXPECT_EQ(cut + *b, 23u);
    ASSERT_TRUE(s.done());
    EXPECT_EQ(s.line().target, "/upload");
  }
  RequestLineScanner exact(16);
  const std::string sixteen = "GET /23456789012 HTTP/1.1\r\n";  // 25 bytes > 16
  auto e = exact.consume(sixteen.data(), sixteen.size());
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::RequestLineTooLong);
  RequestLineScanner fits(25);
  EXPECT_TRUE(fits.consume(sixteen.data(), sixteen.size()));
  EXPECT_TRUE(fits.done());
}

}  // namespace
}  // namespace baton::proxy::http1
