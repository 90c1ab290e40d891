// Fuzz target: chunked decoding — the strict ChunkedBodyScanner
// (proxy/http1/chunked_body_scanner.h) and the body the ServerCodec delivers for a chunked
// request — against a small independent decoder written from RFC 9112 §7.1 and the scanner's
// documented policy (1-16 hex digits, extensions `;name[=token|"quoted"]` without BWS or
// quoted-pair, CRLF only).
//
// Oracles: no crash or sanitizer report; the scanner's verdict and end offset do not depend on
// the split; where the reference decoder is sure (no trailer fields, no extension near the
// length cap) scanner and codec agree with it: same accept/refuse, same end of message, and
// the codec delivers exactly the decoded bytes. A disagreement is a framing desync: the proxy
// and the upstream would see different messages in the same bytes.
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http1/chunked_body_scanner.h"
#include "proxy/http1/server_codec.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using baton::core::ErrorSource;
using baton::proxy::http1::ChunkedBodyScanner;
using baton::proxy::http1::HeaderBlockLimits;

enum class Verdict { Accept, Refuse, Incomplete, Unsure };

struct Reference {
  Verdict verdict = Verdict::Unsure;
  std::string body;
  size_t end = 0;  // Accept: bytes of the chunked body including the final CRLF
};

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

// Independent decoder. Reads one chunk-size line's extensions starting at `p` (just after the
// size); returns the position of the CR that ends the line, or nullopt (refused) /
// Incomplete via `incomplete`.
std::optional<size_t> skipExtensions(std::string_view in, size_t p, bool& incomplete) {
  auto need = [&](size_t at) {
    if (at >= in.size()) incomplete = true;
    return at < in.size();
  };
  while (true) {
    if (!need(p)) return std::nullopt;
    if (in[p] != ';') return p;
    ++p;
    size_t name = 0;
    while (need(p) && isTchar(in[p])) ++p, ++name;
    if (incomplete) return std::nullopt;
    if (name == 0) return std::nullopt;
    if (in[p] != '=') continue;
    ++p;
    if (!need(p)) return std::nullopt;
    if (in[p] == '"') {
      ++p;
      while (true) {
        if (!need(p)) return std::nullopt;
        const unsigned char c = in[p];
        if (c == '"') break;
        if (c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
        ++p;
      }
      ++p;
    } else {
      size_t value = 0;
      while (need(p) && isTchar(in[p])) ++p, ++value;
      if (incomplete) return std::nullopt;
      if (value == 0) return std::nullopt;
    }
  }
}

Reference decode(std::string_view in) {
  Reference ref;
  size_t p = 0;
  bool incomplete = false;
  auto crlf = [&](size_t at) -> std::optional<bool> {  // nullopt = incomplete
    if (at >= in.size()) return std::nullopt;
    if (in[at] != '\r') return false;
    if (at + 1 >= in.size()) return std::nullopt;
    return in[at + 1] == '\n';
  };
  while (true) {
    uint64_t size = 0;
    size_t digits = 0;
    while (p < in.size() && hexValue(in[p]) >= 0) {
      size = size * 16 + hexValue(in[p]);
      ++p;
      if (++digits > 16) return ref.verdict = Verdict::Refuse, ref;
    }
    if (p >= in.size()) return ref.verdict = Verdict::Incomplete, ref;
    if (digits == 0) return ref.verdict = Verdict::Refuse, ref;
    const size_t ext_start = p;
    auto cr = skipExtensions(in, p, incomplete);
    if (!cr) {
      if (in.size() - ext_start > 900) return ref;  // Unsure: maybe the extension cap
      return ref.verdict = incomplete ? Verdict::Incomplete : Verdict::Refuse, ref;
    }
    if (*cr - ext_start > 900) return ref;  // Unsure: the extension cap's exact accounting
    p = *cr;
    auto line_end = crlf(p);
    if (!line_end) return ref.verdict = Verdict::Incomplete, ref;
    if (!*line_end) return ref.verdict = Verdict::Refuse, ref;
    p += 2;
    if (size == 0) break;
    if (in.size() - p < size) return ref.verdict = Verdict::Incomplete, ref;
    ref.body.append(in.substr(p, size));
    p += size;
    auto data_end = crlf(p);
    if (!data_end) return ref.verdict = Verdict::Incomplete, ref;
    if (!*data_end) return ref.verdict = Verdict::Refuse, ref;
    p += 2;
  }
  // Trailer section: only an empty one is judged here (fields are the header scanner's job).
  auto end = crlf(p);
  if (!end) {
    if (p < in.size() && in[p] != '\r') return ref;  // a trailer field: Unsure
    return ref.verdict = Verdict::Incomplete, ref;
  }
  if (!*end) return ref;  // bare CR or a trailer field starting with CR: Unsure
  ref.verdict = Verdict::Accept;
  ref.end = p + 2;
  return ref;
}

struct ScanOutcome {
  std::optional<baton::core::ErrorCode> error;
  bool done = false;
  size_t consumed = 0;
  bool operator==(const ScanOutcome&) const = default;
};

template <typename Piece>
ScanOutcome scan(std::string_view in, Piece&& piece) {
  ChunkedBodyScanner scanner(HeaderBlockLimits{}, ErrorSource::Downstream);
  ScanOutcome out;
  size_t pos = 0;
  while (pos < in.size() && !scanner.done()) {
    const size_t n = std::min(piece(), in.size() - pos);
    auto r = scanner.consume(in.data() + pos, n);
    if (!r) {  // the verdict alone is compared: how far each split got differs
      return ScanOutcome{r.error().code};
    }
    BATON_FUZZ_CHECK(*r <= n && (*r == n || scanner.done()));
    out.consumed += *r;
    pos += n;
  }
  out.done = scanner.done();
  return out;
}

class BodyRecorder : public baton::proxy::http1::ServerCodecCallbacks {
 public:
  std::string body;
  bool complete = false;
  void onRequestHead(baton::proxy::http1::RequestHead&& head) override {
    BATON_FUZZ_CHECK(head.chunked);
  }
  void onRequestBody(const char* data, size_t len) override { body.append(data, len); }
  void onRequestComplete() override { complete = true; }
};

}  // namespace

BATON_FUZZ_ENTRY(chunked) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const ScanOutcome whole = scan(in, [&] { return in.size(); });
  const ScanOutcome bytewise = scan(in, [] { return size_t{1}; });
  baton::fuzz::SplitPlan plan(data, size, 9);
  const ScanOutcome split = scan(in, [&] { return plan.next(); });
  BATON_FUZZ_CHECK(whole == bytewise && whole == split);

  // The codec, on a chunked POST carrying these bytes.
  const std::string request =
      "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(in);
  BodyRecorder rec;
  baton::proxy::http1::ServerCodec codec(rec, {});
  auto fed = codec.feed(request.data(), request.size());

  const Reference ref = decode(in);
  switch (ref.verdict) {
    case Verdict::Accept:
      BATON_FUZZ_CHECK(whole.done && !whole.error && whole.consumed == ref.end);
      BATON_FUZZ_CHECK(fed && rec.complete && rec.body == ref.body);
      break;
    case Verdict::Refuse:
      BATON_FUZZ_CHECK(whole.error.has_value());
      BATON_FUZZ_CHECK(!fed && !rec.complete);
      break;
    case Verdict::Incomplete:
      BATON_FUZZ_CHECK(!whole.error && !whole.done && whole.consumed == in.size());
      BATON_FUZZ_CHECK(fed && !rec.complete);
      break;
    case Verdict::Unsure:
      break;
  }
  // Whatever the reference says, what the scanner refuses the codec refuses (the codec may
  // refuse more: trailer fields it does not allow, such as Transfer-Encoding).
  if (whole.error) BATON_FUZZ_CHECK(!fed && !rec.complete);
  return 0;
}
