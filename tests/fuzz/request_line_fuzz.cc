// Fuzz target: the strict request-line scanner (proxy/http1/request_line_scanner.h).
//
// Oracles: no crash or sanitizer report; the same bytes give the same verdict, the same line
// and the same consumed count whether fed whole, one byte at a time or in random pieces (the
// scanner buffers a split line itself); an accepted line obeys the grammar the header promises
// (tchar method, target without SP/CTL/DEL, HTTP/1.0 or 1.1) and parse() agrees with consume().
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http1/request_line_scanner.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using baton::proxy::http1::RequestLineScanner;

constexpr uint32_t kLimit = 256;

struct Outcome {
  std::optional<baton::core::ErrorCode> error;
  bool done = false;
  size_t consumed = 0;
  std::string method, target;
  uint8_t minor = 0;
  bool operator==(const Outcome&) const = default;
};

bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Feeds `input` in pieces of the lengths `piece()` returns, until done or an error.
template <typename Piece>
Outcome scan(std::string_view input, Piece&& piece) {
  RequestLineScanner scanner(kLimit);
  Outcome out;
  size_t pos = 0;
  while (pos < input.size() && !scanner.done()) {
    const size_t n = std::min(piece(), input.size() - pos);
    auto r = scanner.consume(input.data() + pos, n);
    if (!r) {  // the verdict alone is compared: how far each split got differs
      return Outcome{r.error().code};
    }
    BATON_FUZZ_CHECK(*r <= n);
    BATON_FUZZ_CHECK(*r == n || scanner.done());  // short only when the line ended
    out.consumed += *r;
    pos += n;
  }
  out.done = scanner.done();
  if (out.done) {
    out.method = std::string(scanner.line().method);
    out.target = std::string(scanner.line().target);
    out.minor = scanner.line().version_minor;
  }
  return out;
}

void checkGrammar(const Outcome& o) {
  BATON_FUZZ_CHECK(!o.method.empty() && !o.target.empty());
  for (unsigned char c : o.method) BATON_FUZZ_CHECK(isTchar(c));
  for (unsigned char c : o.target) BATON_FUZZ_CHECK(c > 0x20 && c != 0x7f);
  BATON_FUZZ_CHECK(o.minor <= 1);
  BATON_FUZZ_CHECK(o.method.size() + o.target.size() + 10 <= o.consumed);
}

}  // namespace

BATON_FUZZ_ENTRY(request_line) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Outcome whole = scan(input, [&] { return input.size(); });
  const Outcome bytewise = scan(input, [] { return size_t{1}; });
  baton::fuzz::SplitPlan plan(data, size, 7);
  const Outcome split = scan(input, [&] { return plan.next(); });
  BATON_FUZZ_CHECK(whole == bytewise);
  BATON_FUZZ_CHECK(whole == split);
  if (whole.done) {
    checkGrammar(whole);
    // parse() on the line itself (skipped empty lines and CRLF removed) agrees.
    std::string_view line = input.substr(0, whole.consumed);
    while (line.starts_with("\r\n")) line.remove_prefix(2);
    BATON_FUZZ_CHECK(line.ends_with("\r\n"));
    line.remove_suffix(2);
    auto parsed = RequestLineScanner::parse(line);
    BATON_FUZZ_CHECK(parsed.has_value());
    BATON_FUZZ_CHECK(parsed->method == whole.method && parsed->target == whole.target);
    BATON_FUZZ_CHECK(parsed->version_minor == whole.minor);
  }
  return 0;
}
