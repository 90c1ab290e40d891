// ServerCodec: the same bytes get the same verdict however TCP splits them (whole, one byte at
// a time, fixed and random pieces), at and around every head limit: request line (414),
// one field line and the whole block (431), the field count (431). The fuzz target
// tests/fuzz/server_codec_fuzz.cc checks this on random inputs; these are the cases it found
// (tests/fuzz/README.md findings 1 and 3) and their neighbours, byte-exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http1/server_codec.h"

namespace baton::proxy::http1 {
namespace {

using core::ErrorCode;
using namespace std::string_view_literals;

struct Counter : ServerCodecCallbacks {
  void onRequestHead(RequestHead&&) override { ++heads; }
  void onRequestBody(const char*, size_t) override {}
  void onRequestComplete() override { ++completes; }
  size_t heads = 0;
  size_t completes = 0;
};

// The verdict of one run: the error code, or nullopt and the number of completed requests.
struct Verdict {
  std::optional<ErrorCode> error;
  size_t completes = 0;
  std::string detail;
};

// Feeds like a connection: unconsumed bytes stay buffered, a pause is resumed at once, the
// next piece size comes from `pieces` (cycled).
Verdict feedInPieces(std::string_view input, const ServerCodecLimits& limits,
                     const std::vector<size_t>& pieces) {
  Counter counter;
  ServerCodec codec(counter, limits);
  Verdict v;
  std::string pending;
  size_t offset = 0, k = 0;
  while (offset < input.size()) {
    const size_t n = std::min(pieces[k++ % pieces.size()], input.size() - offset);
    pending.append(input.substr(offset, n));
    offset += n;
    while (true) {
      auto r = codec.feed(pending.data(), pending.size());
      if (!r) {
        v.error = r.error().code;
        v.detail = r.error().detail;
        v.completes = counter.completes;
        return v;
      }
      pending.erase(0, *r);
      if (!codec.paused()) break;
      codec.resume();
    }
  }
  v.completes = counter.completes;
  return v;
}

std::string describe(const Verdict& v) {
  if (!v.error) return "ok, " + std::to_string(v.completes) + " requests";
  return std::string(core::errorCodeName(*v.error)) + " (" + v.detail + ")";
}

// Whole, byte by byte, a few fixed piece sizes and random splits (fixed seeds): every run
// must give `expected` (nullopt = accepted).
void expectSameVerdictForEverySplit(std::string_view input, const ServerCodecLimits& limits,
                                    std::optional<ErrorCode> expected) {
  std::vector<std::vector<size_t>> plans = {{input.size()}, {1}, {2}, {3}, {7}, {64}, {255, 1}};
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> size(1, seed % 2 == 0 ? 16 : 300);
    std::vector<size_t> plan;
    for (size_t total = 0; total < input.size();) {
      plan.push_back(size(rng));
      total += plan.back();
    }
    plans.push_back(std::move(plan));
  }
  for (size_t p = 0; p < plans.size(); ++p) {
    const Verdict v = feedInPieces(input, limits, plans[p]);
    EXPECT_EQ(v.error, expected) << "plan " << p << " (first piece " << plans[p][0]
                                 << "): " << describe(v);
  }
}

// The limits of the fuzz target (tests/fuzz/server_codec_fuzz.cc), so its reproducers behave
// here as they did there.
ServerCodecLimits fuzzLimits() {
  return ServerCodecLimits{256, 256, 1024, 16};
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// tests/fuzz/corpus/server_codec/crash-long-content-length-field-431-vs-400, byte for byte.
std::string longContentLengthReproducer() {
  std::string s;
  s += "POST "sv;
  s.append(108, '\xba');
  s += "/limited HTTP/1.1\r\nHost: example.com\r\nContent-Length: "sv;
  s.append(324, 'x');
  s += "GET /"sv;
  s.append(159, 'x');
  s += "!"sv;
  s.append(53, 'x');
  s.append(20, '\xf7');
  s.append(146, 'x');
  s += "\x01\x00\x00\x00\x00\x00\x00\x03"sv;
  s.append(230, 'x');
  s += "o"sv;
  s.append(32, 'x');
  s += "\x01\x00\x00\x00\x00\x00\x00\x03"sv;
  s.append(254, 'x');
  s.append(52, '\xf7');
  s.append(22, 'x');
  s += "h/s HTTP"sv;
  s.append(8, 'x');
  s += "/"sv;
  s.append(15, 'x');
  s += "5.0\r\nx\r\n"sv;
  return s;
}

TEST(ServerCodecSplitTest, ReproducerIsByteExact) {
  const std::string s = longContentLengthReproducer();
  EXPECT_EQ(s.size(), 1522u);
  EXPECT_EQ(fnv1a(s), 0xd40a9d4e20b3eeb5ULL);  // of the file, computed when it was embedded
}

// Finding 3: `Content-Length: xxx…` runs past header_field_bytes before its first bad byte.
// The limit is judged on the raw line as it accumulates (as HAProxy and nginx do), and llhttp
// sees a line only once baton's scanner accepted all of it, so 431 in every split (it was 400
// one byte at a time: llhttp refused the `x` first).
TEST(ServerCodecSplitTest, LongContentLengthFieldIs431InEverySplit) {
  expectSameVerdictForEverySplit(longContentLengthReproducer(), fuzzLimits(),
                                 ErrorCode::HeaderTooLarge);
}

// Finding 1 (accepted then as "same status"): a bad Content-Length line, then a NUL in the
// next field. Line by line the Content-Length line is judged first, in every split.
TEST(ServerCodecSplitTest, TwoFaultsGiveTheSameCodeInEverySplit) {
  std::string s;
  s += "POST /limited HTTP/1.1\r\nHost: example.com\r\nContent-Length:"
       "POST /limited HTTP/1.1\r\nHost:\x0b\x00xample.com\r\nContent-Length: "sv;
  s += "9999999999999 9999999999999999999: chu"sv;
  // tests/fuzz/corpus/server_codec/crash-two-faults-badheader-vs-badframing, byte for byte.
  ASSERT_EQ(s.size(), 155u);
  ASSERT_EQ(fnv1a(s), 0x4d36fec50b5d17f1ULL);
  expectSameVerdictForEverySplit(s, fuzzLimits(), ErrorCode::BadFraming);
}

// One field line over the limit whose start llhttp would refuse (not a Content-Length number),
// also when the line never ends in the input.
TEST(ServerCodecSplitTest, OverlongFieldBeatsItsOwnBadValue) {
  const ServerCodecLimits l = fuzzLimits();
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::string_view name : {"Content-Length"sv, "Transfer-Encoding"sv}) {
    const std::string line = std::string(name) + ": -" + std::string(300, 'z');
    expectSameVerdictForEverySplit(head + line + "\r\n\r\n", l, ErrorCode::HeaderTooLarge);
    expectSameVerdictForEverySplit(head + line, l, ErrorCode::HeaderTooLarge);
    // Bad byte past the limit, and at the last byte within it.
    expectSameVerdictForEverySplit(head + line + "\x01\r\n\r\n", l, ErrorCode::HeaderTooLarge);
  }
  // Exactly header_field_bytes ("name: value" without CRLF) is still judged on its value.
  const std::string at_limit = "Content-Length: " + std::string(256 - 16, '1');
  ASSERT_EQ(at_limit.size(), 256u);
  expectSameVerdictForEverySplit(head + at_limit + "\r\n\r\n", l, ErrorCode::BadFraming);
  expectSameVerdictForEverySplit(head + at_limit + "1\r\n\r\n", l, ErrorCode::HeaderTooLarge);
  expectSameVerdictForEverySplit(head + "Content-Length: 5\r\n\r\nhello", l, std::nullopt);
}

// A HTAB in a Transfer-Encoding value is BadFraming, but only if the line was not already over
// the limit before it: one byte at a time the limit fires first.
TEST(ServerCodecSplitTest, HtabInTransferEncodingAfterTheLimitIs431) {
  const ServerCodecLimits l = fuzzLimits();
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ";
  expectSameVerdictForEverySplit(head + std::string(300, 'a') + "\tchunked\r\n\r\n", l,
                                 ErrorCode::HeaderTooLarge);
  expectSameVerdictForEverySplit(head + "a\tchunked\r\n\r\n", l, ErrorCode::BadFraming);
  // The HTAB right after exactly header_field_bytes: refused as it arrives, before it counts.
  const std::string name = "Transfer-Encoding: ";
  expectSameVerdictForEverySplit(head + std::string(256 - name.size(), 'a') + "\t\r\n\r\n", l,
                                 ErrorCode::BadFraming);
  expectSameVerdictForEverySplit(head + std::string(257 - name.size(), 'a') + "\t\r\n\r\n", l,
                                 ErrorCode::HeaderTooLarge);
}

// The block total: a line that starts well and pushes the block over its limit mid-line.
TEST(ServerCodecSplitTest, HeaderBlockTotalIs431InEverySplit) {
  const ServerCodecLimits l = fuzzLimits();  // block 1024
  std::string s = "POST / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 4; ++i) s += "X-Pad: " + std::string(200, 'p') + "\r\n";
  // ~ 865 bytes so far; this line crosses 1024 and llhttp would refuse its value.
  expectSameVerdictForEverySplit(s + "Content-Length: " + std::string(200, 'y') + "\r\n\r\n", l,
                                 ErrorCode::HeaderTooLarge);
  expectSameVerdictForEverySplit(s + "Content-Length: y\r\n\r\n", l, ErrorCode::BadFraming);
  // The final empty line counts too: a block ending exactly at the limit passes, one byte more
  // does not.
  std::string exact = "GET / HTTP/1.1\r\nHost: h\r\n";  // block = 9 bytes so far
  const size_t pad = 1024 - 9 - 2 - 2 - 7;              // "X-Pad: " + value + CRLF, final CRLF
  exact += "X-Pad: " + std::string(pad, 'p') + "\r\n";
  ServerCodecLimits wide = l;
  wide.header_field_bytes = 2048;
  expectSameVerdictForEverySplit(exact + "\r\n", wide, std::nullopt);
  std::string over = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(pad + 1, 'p') + "\r\n";
  expectSameVerdictForEverySplit(over + "\r\n", wide, ErrorCode::HeaderTooLarge);
}

// The field count: the field past header_count is refused at its LF, before llhttp judges it.
TEST(ServerCodecSplitTest, HeaderCountIs431InEverySplit) {
  const ServerCodecLimits l = fuzzLimits();  // 16 fields
  std::string s = "POST / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 14; ++i) s += "A: " + std::to_string(i) + "\r\n";  // 15 fields
  expectSameVerdictForEverySplit(s + "Content-Length: 1\r\n\r\nx", l, std::nullopt);
  expectSameVerdictForEverySplit(s + "B: 1\r\nContent-Length: y\r\n\r\n", l,
                                 ErrorCode::HeaderTooLarge);
  // The 16th field itself bad: judged as a field (400), the count is not exceeded.
  expectSameVerdictForEverySplit(s + "Content-Length: y\r\n\r\n", l, ErrorCode::BadFraming);
}

// Chunked trailers have the header limits too: a trailer line over header_field_bytes whose
// start llhttp might refuse is 431 in every split.
TEST(ServerCodecSplitTest, TrailerLimitIs431InEverySplit) {
  const ServerCodecLimits l = fuzzLimits();
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::string_view name : {"Content-Length"sv, "X"sv}) {
    const std::string trailer = std::string(name) + ": x" + std::string(300, 'x');
    expectSameVerdictForEverySplit(head + "1\r\na\r\n0\r\n" + trailer + "\r\n\r\n", l,
                                   ErrorCode::HeaderTooLarge);
  }
  expectSameVerdictForEverySplit(head + "1\r\na\r\n0\r\nX: y\r\n\r\n", l, std::nullopt);
  // Framing fields in trailers: Transfer-Encoding is refused (as soon as its name is complete,
  // so before the limit), Content-Length dropped whatever its value.
  expectSameVerdictForEverySplit(head + "0\r\nTransfer-Encoding: chunked\r\n\r\n", l,
                                 ErrorCode::BadFraming);
  expectSameVerdictForEverySplit(
      head + "0\r\nTransfer-Encoding: " + std::string(300, 'x') + "\r\n\r\n", l,
      ErrorCode::BadFraming);
  expectSameVerdictForEverySplit(head + "0\r\nContent-Length: x\r\nContent-Length: 1\r\n\r\n", l,
                                 std::nullopt);
}

// The request line: the limit (414) wins over what the over-long line contains, and a line of
// exactly the limit is judged on its grammar.
TEST(ServerCodecSplitTest, RequestLineLimitIs414InEverySplit) {
  const ServerCodecLimits l = fuzzLimits();  // 256
  const std::string tail = " HTTP/1.1\r\nHost: h\r\n\r\n";
  expectSameVerdictForEverySplit("GET /" + std::string(300, 'a') + tail, l,
                                 ErrorCode::RequestLineTooLong);
  expectSameVerdictForEverySplit("GET /\x01" + std::string(300, 'a') + tail, l,
                                 ErrorCode::RequestLineTooLong);
  expectSameVerdictForEverySplit("GET /" + std::string(300, 'a'), l, ErrorCode::RequestLineTooLong);
  expectSameVerdictForEverySplit("GET /" + std::string(300, 'a') + "\n", l,
                                 ErrorCode::RequestLineTooLong);
  // "GET /" + n + " HTTP/1.1" = n + 14 bytes.
  expectSameVerdictForEverySplit("GET /" + std::string(256 - 14, 'a') + tail, l, std::nullopt);
  expectSameVerdictForEverySplit("GET /" + std::string(257 - 14, 'a') + tail, l,
                                 ErrorCode::RequestLineTooLong);
  expectSameVerdictForEverySplit("GET /\x01" + std::string(255 - 14, 'a') + tail, l,
                                 ErrorCode::BadRequestTarget);
  // Bare LF right at the limit (+1, +2): the line end is judged once it is within reach.
  expectSameVerdictForEverySplit("GET /" + std::string(256 - 5, 'a') + "\nHost: h\r\n\r\n", l,
                                 ErrorCode::BadRequestLine);
  expectSameVerdictForEverySplit("GET /" + std::string(257 - 5, 'a') + "\nHost: h\r\n\r\n", l,
                                 ErrorCode::BadRequestLine);
  expectSameVerdictForEverySplit("GET /" + std::string(258 - 5, 'a') + "\nHost: h\r\n\r\n", l,
                                 ErrorCode::RequestLineTooLong);
}

}  // namespace
}  // namespace baton::proxy::http1
