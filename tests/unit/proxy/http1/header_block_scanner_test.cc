// HeaderBlockScanner: field values are scanned eight bytes at a time, so every byte class must
// be judged the same wherever it sits in a word, and however the input is split.
#include "proxy/http1/header_block_scanner.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::proxy::http1 {
namespace {

struct Verdict {
  bool ok = false;
  size_t consumed = 0;
  bool done = false;
  core::ErrorCode code = core::ErrorCode::Internal;
  std::string detail;
  bool operator==(const Verdict&) const = default;
};

// Feeds `block` in pieces of `piece` bytes (0 = whole).
Verdict scan(const std::string& block, size_t piece, HeaderBlockLimits limits = {}) {
  HeaderBlockScanner s(limits, core::ErrorSource::Downstream);
  Verdict v;
  size_t pos = 0;
  while (pos < block.size() && !s.done()) {
    const size_t n = piece == 0 ? block.size() - pos : std::min(piece, block.size() - pos);
    auto r = s.consume(block.data() + pos, n);
    if (!r) {
      v.code = r.error().code;
      v.detail = r.error().detail;
      return v;
    }
    pos += *r;
    if (*r < n) break;
  }
  v.ok = true;
  v.consumed = pos;
  v.done = s.done();
  return v;
}

// Reference: the rule of header_block_scanner.h for one value byte (no Transfer-Encoding).
bool valueByteAllowed(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// Every byte value at every offset of the first 24 value bytes: accepted exactly when the rule
// allows it, refused with the same error whether fed whole or one byte at a time.
TEST(HeaderBlockScannerTest, EveryValueByteAtEveryOffsetOfAWord) {
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 24; ++at) {
      std::string value(40, 'v');
      value[at] = static_cast<char>(c);
      const std::string block = "X-Test: " + value + "\r\n\r\n";
      const Verdict whole = scan(block, 0);
      const Verdict bytewise = scan(block, 1);
      const bool allowed = valueByteAllowed(static_cast<unsigned char>(c));
      if (c == '\r') {
        // a CR in the middle: a bare CR (the next byte is 'v', not LF)
        EXPECT_FALSE(whole.ok) << "at " << at;
        EXPECT_EQ(whole.detail, "bare CR");
      } else if (allowed) {
        EXPECT_TRUE(whole.ok && whole.done) << "byte " << c << " at " << at << ": " << whole.detail;
        EXPECT_EQ(whole.consumed, block.size());
      } else {
        EXPECT_FALSE(whole.ok) << "byte " << c << " at " << at;
        EXPECT_EQ(whole.code, core::ErrorCode::BadHeader);
        EXPECT_EQ(whole.detail, c == '\n' ? "bare LF" : "control byte in header value");
      }
      EXPECT_EQ(whole, bytewise) << "byte " << c << " at " << at;
    }
  }
}

TEST(HeaderBlockScannerTest, ObsTextAndLongValuesPass) {
  std::string value;
  for (int i = 0; i < 300; ++i) value += static_cast<char>(0x20 + (i * 7) % 0x5f);
  value += "\x80\xff\xc3\xa9\t end";
  const std::string block = "A: " + value + "\r\nB: x\r\n\r\nNEXT";
  for (size_t piece : {0, 1, 3, 7, 8, 9, 64}) {
    const Verdict v = scan(block, piece);
    EXPECT_TRUE(v.ok && v.done) << "piece " << piece << ": " << v.detail;
    EXPECT_EQ(v.consumed, block.size() - 4) << "piece " << piece;
  }
}

// The value limit counts the bytes skipped a word at a time.
TEST(HeaderBlockScannerTest, FieldLimitCountsEveryValueByte) {
  HeaderBlockLimits limits;
  limits.field_bytes = 64;
  const std::string fits = "Name: " + std::string(64 - 6, 'a') + "\r\n\r\n";
  const std::string over = "Name: " + std::string(64 - 5, 'a') + "\r\n\r\n";
  for (size_t piece : {0, 1, 8}) {
    EXPECT_TRUE(scan(fits, piece, limits).ok) << piece;
    const Verdict v = scan(over, piece, limits);
    EXPECT_FALSE(v.ok) << piece;
    EXPECT_EQ(v.code, core::ErrorCode::HeaderTooLarge) << piece;
  }
}

// Transfer-Encoding is recognised in any case and in any split of its name; HTAB in its value
// is a framing error, in any other value it is fine.
TEST(HeaderBlockScannerTest, TransferEncodingNameInPieces) {
  const std::string te = "tRANSFER-eNCODING: chunked,\tgzip\r\n\r\n";
  const std::string other = "Transfer-Encodings: chunked,\tgzip\r\n\r\n";
  const std::string shorter = "Transfer-Encodin: chunked,\tgzip\r\n\r\n";
  for (size_t piece : {0, 1, 2, 5, 16, 17, 18}) {
    const Verdict v = scan(te, piece);
    EXPECT_FALSE(v.ok) << piece;
    EXPECT_EQ(v.code, core::ErrorCode::BadFraming) << piece;
    EXPECT_TRUE(scan(other, piece).ok) << piece;
    EXPECT_TRUE(scan(shorter, piece).ok) << piece;
  }
}

// A whole line is judged in one pass unless it reaches a limit; at each limit's edge the verdict
// is the byte-wise one, fed whole or in pieces: a line of exactly field_bytes, exactly `count`
// fields and a block of exactly block_bytes pass, one byte or field more is 431.
TEST(HeaderBlockScannerTest, WholeLinesAtEveryLimitEdge) {
  HeaderBlockLimits limits;
  limits.field_bytes = 40;
  limits.count = 3;
  limits.block_bytes = 3 * 42 + 2;  // three 40-byte lines with CRLF, the empty line
  const std::string line40 = "Name: " + std::string(34, 'v') + "\r\n";
  const std::string line41 = "Name: " + std::string(35, 'v') + "\r\n";
  const std::string line39 = "Name: " + std::string(33, 'v') + "\r\n";
  for (size_t piece : {0, 1, 7, 8, 41, 42, 43}) {
    EXPECT_TRUE(scan(line40 + line40 + line40 + "\r\n", piece, limits).ok) << piece;
    for (const std::string& over :
         {line41 + "\r\n", line40 + line40 + line40 + "A: b\r\n\r\n",
          line40 + line40 + line40 + "\n\r\n", line39 + line39 + line40 + "A\r\n"}) {
      const Verdict whole = scan(over, 0, limits);
      EXPECT_EQ(scan(over, piece, limits), whole) << piece;
      EXPECT_FALSE(whole.ok);
    }
    // One byte short of the block limit in its last field: the empty line then crosses it.
    const Verdict v = scan(line40 + line40 + line40 + "\r\n", piece, [&] {
      HeaderBlockLimits l = limits;
      --l.block_bytes;
      return l;
    }());
    EXPECT_FALSE(v.ok) << piece;
    EXPECT_EQ(v.code, core::ErrorCode::HeaderTooLarge) << piece;
  }
  EXPECT_EQ(scan(line40 + line40 + line40 + "A: b\r\n\r\n", 0, limits).code,
            core::ErrorCode::HeaderTooLarge);
  EXPECT_EQ(scan(line41 + "\r\n", 0, limits).code, core::ErrorCode::HeaderTooLarge);
}

// The one-pass line judge hands back to the byte states for anything unusual; each of these
// must be refused (or accepted) exactly as byte by byte.
TEST(HeaderBlockScannerTest, UnusualWholeLinesMatchByteByByte) {
  const std::string cases[] = {
      "A: b\r\nTransfer-Encoding: chunked\r\n\r\n",  // TE: the byte states' rules
      "A: b\r\nTRANSFER-ENCODING: a\tb\r\n\r\n",
      "A: b\r\nTransfer-Encodinx: a\tb\r\n\r\n",  // 17 bytes, not TE: HTAB fine
      "A: b\r\nB : c\r\n\r\n",
      "A: b\r\n C: d\r\n\r\n",
      "A: b\r\nC: d\rx\n\r\n",
      "A: b\r\nC: d\n\r\n",
      "A: b\x7f\r\n\r\n",
      "A: b\r\n:c\r\n\r\n",
      "A: \tb \t\r\nC:\r\n\r\n",
  };
  for (const std::string& c : cases) {
    const Verdict whole = scan(c, 0);
    for (size_t piece : {1, 2, 5}) EXPECT_EQ(scan(c, piece), whole) << c << " piece " << piece;
  }
}

TEST(HeaderBlockScannerTest, TrailersRefuseTransferEncoding) {
  HeaderBlockScanner s({}, core::ErrorSource::Downstream);
  s.refuseTransferEncoding();
  const std::string block = "Transfer-Encoding: chunked\r\n\r\n";
  auto r = s.consume(block.data(), block.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::BadFraming);
}

}  // namespace
}  // namespace baton::proxy::http1
