// Strict syntax check of an HTTP/1 header block (request or response head, or chunked
// trailers), run over the raw bytes BEFORE llhttp sees them. It closes llhttp 8.1's gaps
// (hostile-inputs.md): empty field name, obs-fold (a line starting with SP/HTAB), whitespace
// before the colon, name bytes outside tchar, CR/NUL/other CTL/DEL in a value, bare LF or bare
// CR as a line end, HTAB in a Transfer-Encoding value; and it enforces the size limits (one
// field line, the whole block, the field count). It also finds where the block ends, so the
// codec hands llhttp exactly the bytes that were checked.
//
// A byte-level state machine: any split of the input gives the same result, nothing is copied.
// Owned by one codec; one worker thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy/core/error.h"

namespace baton::proxy::http1 {

struct HeaderBlockLimits {
  uint32_t field_bytes = 8 * 1024;   // one "name: value" line, without CRLF
  uint32_t block_bytes = 32 * 1024;  // all lines including CRLFs and the final empty line
  uint32_t count = 100;              // number of fields
};

class HeaderBlockScanner {
 public:
  // `source` picks the error codes: Downstream -> BadHeader / HeaderTooLarge / BadFraming,
  // Upstream -> UpstreamProtocolError for everything.
  HeaderBlockScanner(const HeaderBlockLimits& limits, core::ErrorSource source);

  // Consumes bytes up to and including the LF of the empty line that ends the block; returns
  // the count. Fewer than `len` only when the block ended (done()).
  core::Result<size_t> consume(const char* data, size_t len);

  // For chunked trailers: a Transfer-Encoding field is refused (BadFraming) once its name is
  // complete (llhttp is never shown trailer fields, see chunked_body_scanner.h). Kept by reset().
  void refuseTransferEncoding() { refuse_te_ = true; }

  bool done() const { return state_ == State::Done; }
  // Whether `next`, the next input byte, belongs to a field line (or is refused as one), as
  // opposed to the final empty line.
  bool inFieldLine(char next) const {
    if (state_ == State::LineStart) return next != '\r';
    return state_ != State::EndCr && state_ != State::Done;
  }
  uint32_t fieldCount() const { return count_; }
  uint32_t blockBytes() const { return block_bytes_; }
  void reset();

 private:
  enum class State : uint8_t { LineStart, Name, Value, ValueCr, EndCr, Done };

  core::Error error(core::ErrorCode downstream_code, const char* detail) const;
  size_t wholeLine(const char* p, size_t n) const;
  void matchTransferEncoding(const char* p, size_t n);

  HeaderBlockLimits limits_;
  core::ErrorSource source_;
  State state_ = State::LineStart;
  uint32_t line_bytes_ = 0;
  uint32_t block_bytes_ = 0;
  uint32_t count_ = 0;
  uint8_t te_match_ = 0;     // bytes of "transfer-encoding" matched so far in this name
  bool te_possible_ = true;  // this name may still be Transfer-Encoding
  bool is_te_ = false;       // the current value belongs to Transfer-Encoding
  bool refuse_te_ = false;   // trailers: Transfer-Encoding is a framing error
};

}  // namespace baton::proxy::http1
