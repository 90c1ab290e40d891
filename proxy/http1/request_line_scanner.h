// baton's own HTTP/1 request-line scanner: `method SP target SP HTTP/1.x CRLF`, strict.
//
// Why our own: llhttp 8.1 accepts two spaces, TAB in the target, HTTP/0.9 and `#`, and
// llhttp >= 9 refuses raw bytes >= 0x80 with no option to allow them. The url-policy.md byte
// table must not depend on the parser version, so ServerCodec runs this scanner first and
// hands llhttp only a synthetic request line.
//
// Rules: exactly one SP between the parts; method is a tchar token (CONNECT and TRACE, in any
// case, -> MethodNotAllowed); target is any byte except C0 controls (HTAB, VT, FF, CR, NUL, ...)
// and DEL (-> BadRequestTarget) — 0x80-0xFF, `#`, `"`, `{` ... are accepted opaque; a SP inside
// the target is a grammar error (-> BadRequestLine); version HTTP/1.0 or HTTP/1.1, another
// HTTP/d.d -> UnsupportedVersion, a missing version (HTTP/0.9) -> BadRequestLine; bare LF ->
// BadRequestLine; longer than the limit -> RequestLineTooLong. Empty lines (CRLF) before a
// request line are skipped (RFC 9112 §2.2). The target is returned raw; the URL policy
// (routing::parseRequestTarget) is applied later by the proxy stream.
//
// Owned by one ServerCodec; one worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/error.h"

namespace baton::proxy::http1 {

struct RequestLine {
  std::string_view method;
  std::string_view target;
  uint8_t version_minor = 1;
};

class RequestLineScanner {
 public:
  explicit RequestLineScanner(uint32_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Consumes bytes up to and including the LF that ends the request line. Returns how many
  // bytes it consumed; when done() the line is complete and line() describes it. Bytes of a
  // line split across calls are buffered here (at most the limit), so any split works.
  core::Result<size_t> consume(const char* data, size_t len);

  bool done() const { return done_; }
  // True once a byte of a request line (not a skipped empty line) has been seen.
  bool started() const { return done_ || !buffer_.empty(); }
  // Valid after done() until reset() or the next consume(); views point into the caller's
  // buffer (whole line in one call) or into this scanner.
  const RequestLine& line() const { return line_; }
  void reset();

  // Parses one complete line without its CRLF. Pure; used by consume() and by tests.
  static core::Result<RequestLine> parse(std::string_view line);

 private:
  core::Result<void> finishLine(std::string_view line_with_cr, bool& skipped_empty);

  uint32_t max_line_bytes_;
  std::string buffer_;
  RequestLine line_;
  bool done_ = false;
};

}  // namespace baton::proxy::http1
