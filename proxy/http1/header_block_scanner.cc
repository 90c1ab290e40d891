// See header_block_scanner.h. One switch per byte; the common states (name, value) run tight
// inner loops (names over a byte table, values eight bytes at a time). A field line that is
// whole in the input and plainly fine is judged in one pass first (wholeLine): a head is almost
// always read whole, and the per-state bookkeeping was most of the scanner's cost per line.
#include "proxy/http1/header_block_scanner.h"

#include <string_view>

#include "proxy/http1/char_class.h"

namespace baton::proxy::http1 {

namespace {

constexpr std::string_view kTransferEncoding = "transfer-encoding";

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

// Advances the Transfer-Encoding match over a run of name bytes (a name may come in pieces).
void HeaderBlockScanner::matchTransferEncoding(const char* p, size_t n) {
  if (!te_possible_ || n == 0) return;
  if (n > kTransferEncoding.size() - te_match_) {
    te_possible_ = false;
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    if (lower(p[k]) != kTransferEncoding[te_match_ + k]) {
      te_possible_ = false;
      return;
    }
  }
  te_match_ = static_cast<uint8_t>(te_match_ + n);
}

// The length of the field line at `p` including its CRLF when the line is complete in
// [p, p+n), breaks no rule and stays within every limit, else 0. A Transfer-Encoding line is
// left to the byte states (its HTAB and trailer rules). On 0 the byte states judge the line from
// its first byte, so the outcome and any error are the same as without this shortcut: the
// counters only grow, so a line whose totals are within the limits never crossed one midway.
size_t HeaderBlockScanner::wholeLine(const char* p, size_t n) const {
  size_t i = tcharPrefix(p, n);
  if (i == 0 || i == n || p[i] != ':') return 0;
  if (i == kTransferEncoding.size()) {
    size_t k = 0;
    while (k < i && lower(p[k]) == kTransferEncoding[k]) ++k;
    if (k == i) return 0;
  }
  ++i;
  i += plainTextPrefix(p + i, n - i);
  // unsigned, not bool: `&` keeps it branch-free (clang's -Wbitwise-instead-of-logical).
  const auto v = [p](size_t at) { return static_cast<unsigned>(isFieldValueByte(p[at])); };
  while (n - i >= 4 && (v(i) & v(i + 1) & v(i + 2) & v(i + 3))) {
    i += 4;
  }
  while (i < n && isFieldValueByte(p[i])) ++i;
  if (n - i < 2 || p[i] != '\r' || p[i + 1] != '\n') return 0;
  if (i > limits_.field_bytes || count_ >= limits_.count ||
      block_bytes_ + i + 2 > limits_.block_bytes) {
    return 0;
  }
  return i + 2;
}

HeaderBlockScanner::HeaderBlockScanner(const HeaderBlockLimits& limits, core::ErrorSource source)
    : limits_(limits), source_(source) {}

void HeaderBlockScanner::reset() {
  state_ = State::LineStart;
  line_bytes_ = 0;
  block_bytes_ = 0;
  count_ = 0;
  te_match_ = 0;
  te_possible_ = true;
  is_te_ = false;
}

core::Error HeaderBlockScanner::error(core::ErrorCode downstream_code, const char* detail) const {
  if (source_ == core::ErrorSource::Upstream) {
    return core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false, detail);
  }
  return core::Error::downstream(downstream_code, detail);
}

core::Result<size_t> HeaderBlockScanner::consume(const char* data, size_t len) {
  using core::ErrorCode;
  size_t i = 0;
  while (i < len && state_ != State::Done) {
    const char c = data[i];
    switch (state_) {
      case State::LineStart:
        if (const size_t whole = wholeLine(data + i, len - i); whole != 0) {
          i += whole;
          block_bytes_ += static_cast<uint32_t>(whole);
          line_bytes_ = static_cast<uint32_t>(whole - 2);
          ++count_;
          is_te_ = false;
          continue;  // still at a line start
        }
        if (c == '\r') {
          state_ = State::EndCr;
        } else if (c == ' ' || c == '\t') {
          return core::fail(error(ErrorCode::BadHeader, "obs-fold"));
        } else if (c == ':') {
          return core::fail(error(ErrorCode::BadHeader, "empty header name"));
        } else if (c == '\n') {
          return core::fail(error(ErrorCode::BadHeader, "bare LF"));
        } else if (!isTchar(c)) {
          return core::fail(error(ErrorCode::BadHeader, "bad header name byte"));
        } else {
          state_ = State::Name;
          line_bytes_ = 0;
          te_match_ = 0;
          te_possible_ = true;
          continue;  // the Name state consumes this byte
        }
        break;
      case State::Name: {
        const size_t start = i;
        while (i < len && isTchar(data[i])) ++i;
        matchTransferEncoding(data + start, i - start);
        line_bytes_ += static_cast<uint32_t>(i - start);
        block_bytes_ += static_cast<uint32_t>(i - start);
        if (line_bytes_ > limits_.field_bytes || block_bytes_ > limits_.block_bytes) {
          return core::fail(error(ErrorCode::HeaderTooLarge, "header field too large"));
        }
        if (i == len) continue;
        if (data[i] != ':') {
          return core::fail(error(ErrorCode::BadHeader, data[i] == ' ' || data[i] == '\t'
                                                            ? "whitespace before colon"
                                                            : "bad header name byte"));
        }
        is_te_ = te_possible_ && te_match_ == kTransferEncoding.size();
        if (is_te_ && refuse_te_) {
          return core::fail(error(ErrorCode::BadFraming, "Transfer-Encoding in trailers"));
        }
        state_ = State::Value;
        break;
      }
      case State::Value: {
        const size_t start = i;
        i += plainTextPrefix(data + i, len - i);  // the common bytes, eight at a time
        while (i < len && isFieldValueByte(data[i])) {
          if (data[i] == '\t' && is_te_) {
            // The bytes before the HTAB count first: fed one at a time they would have hit a
            // limit (431) before the HTAB arrived, so fed whole they must too.
            if (line_bytes_ + (i - start) > limits_.field_bytes ||
                block_bytes_ + (i - start) > limits_.block_bytes) {
              return core::fail(error(ErrorCode::HeaderTooLarge, "header field too large"));
            }
            return core::fail(error(ErrorCode::BadFraming, "HTAB in Transfer-Encoding"));
          }
          ++i;
        }
        line_bytes_ += static_cast<uint32_t>(i - start);
        block_bytes_ += static_cast<uint32_t>(i - start);
        if (line_bytes_ > limits_.field_bytes || block_bytes_ > limits_.block_bytes) {
          return core::fail(error(ErrorCode::HeaderTooLarge, "header field too large"));
        }
        if (i == len) continue;
        if (data[i] == '\r') {
          state_ = State::ValueCr;
        } else {
          return core::fail(error(ErrorCode::BadHeader,
                                  data[i] == '\n' ? "bare LF" : "control byte in header value"));
        }
        break;
      }
      case State::ValueCr:
        if (c != '\n') return core::fail(error(ErrorCode::BadHeader, "bare CR"));
        if (++count_ > limits_.count) {
          return core::fail(error(ErrorCode::HeaderTooLarge, "too many header fields"));
        }
        state_ = State::LineStart;
        break;
      case State::EndCr:
        if (c != '\n') return core::fail(error(ErrorCode::BadHeader, "bare CR"));
        state_ = State::Done;
        break;
      case State::Done:
        break;
    }
    ++i;
    ++block_bytes_;
    if (state_ == State::Value) ++line_bytes_;  // the colon
    if (line_bytes_ > limits_.field_bytes || block_bytes_ > limits_.block_bytes) {
      return core::fail(error(ErrorCode::HeaderTooLarge, "header too large"));
    }
  }
  return i;
}

}  // namespace baton::proxy::http1
