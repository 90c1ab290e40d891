// Strict syntax check of a chunked message body (RFC 9112 §7.1), run over the raw bytes BEFORE
// llhttp sees them, so a malformed body never produces a callback. Closes llhttp 8.1's gaps
// (hostile-inputs.md): chunk data not followed by CRLF (`3\r\nabcXX0\r\n\r\n`), more than 16
// hex digits, sign, space/TAB before CRLF, empty size line, bare LF or bare CR. Chunk
// extensions are syntax-checked with no BWS (`;name`, `;name=token`, `;name="quoted"`; no
// quoted-pair: no client needs one) and capped at kMaxExtensionBytes per line; they are never
// delivered (baton re-chunks). Trailers are checked by a HeaderBlockScanner with the header limits
// (Transfer-Encoding refused; the codecs discard them) and, like extensions, never shown to llhttp.
// It also finds where the message ends, so the codec hands llhttp exactly the checked bytes.
//
// Extension bytes (from the `;` to the CR ending the size line) are never shown to llhttp:
// llhttp 8.1 refuses the valid `5;a=b;c=d` (a token value followed by another extension), and
// baton drops extensions anyway. consumeRun() splits the input into runs of body bytes (for
// llhttp) and extension bytes (skipped), see checked_execute.cc.
//
// Byte-level state machine; chunk data is skipped, not copied. Owned by one codec; one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "proxy/core/error.h"
#include "proxy/http1/header_block_scanner.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

class ChunkedBodyScanner {
 public:
  static constexpr uint32_t kMaxExtensionBytes = 1024;
  static constexpr uint32_t kMaxSizeDigits = 16;

  // `source`: Downstream -> BadFraming (trailers: BadHeader / HeaderTooLarge),
  // Upstream -> UpstreamProtocolError.
  ChunkedBodyScanner(const HeaderBlockLimits& trailer_limits, core::ErrorSource source);

  // Consumes body bytes up to and including the end of the trailer section; returns the
  // count. Fewer than `len` only when the message ended (done()).
  core::Result<size_t> consume(const char* data, size_t len);

  // Whether `next`, the next input byte, is one llhttp must not see: a chunk-extension byte
  // (`;` after the size, the extensions themselves; not the CR that ends the line) or a byte of
  // a trailer field line (not of the final empty line). Trailer fields are checked here with
  // the header limits and discarded by both codecs; shown to llhttp, a partial trailer line
  // could be refused by llhttp (e.g. `Content-Length: x`, 400) before this scanner reached a
  // limit later in the line (431) — a verdict that would depend on the TCP split.
  bool isExtensionByte(char next) const;
  // consume() limited to one run: extension == false stops before the first extension byte,
  // extension == true stops at the first byte that is not one. May return 0.
  core::Result<size_t> consumeRun(const char* data, size_t len, bool extension);

  bool done() const { return state_ == State::Done; }
  // The trailer fields of the finished body, for forwarding (an upstream's to the client): names
  // lowercased, values trimmed, framing and hop-by-hop fields dropped (trailerForwardable).
  // Empty when there were none; the bytes are kept only from the first trailer line on, so a
  // body without trailers costs nothing. Cleared by reset().
  HeaderList takeTrailers();
  // Whether the trailer section is kept for takeTrailers (the client codec: an upstream's go to
  // the client); off, they are checked and dropped (the server codec).
  void keepTrailers(bool on) { keep_trailers_ = on; }
  // Refuse (BodyTooLarge) as soon as the declared chunk sizes add up past `limit` (0 = no
  // limit), before any of that data arrives. Cleared by reset().
  void setBodyLimit(uint64_t limit) { body_limit_ = limit; }
  void reset();

 private:
  enum class State : uint8_t {
    SizeStart,
    Size,
    ExtNameStart,
    ExtName,
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedEnd,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailers,
    Done,
  };

  enum class Run : uint8_t { All, Body, Extension };
  core::Result<size_t> consumeImpl(const char* data, size_t len, Run run);
  bool inExtension() const {
    return state_ >= State::ExtNameStart && state_ <= State::ExtQuotedEnd;
  }
  core::Result<void> step(char c);
  core::Result<void> afterExtension(char c);
  core::Error error(const char* detail) const;
  void releaseTrailerBytes();

  core::ErrorSource source_;
  HeaderBlockScanner trailers_;
  std::string trailer_bytes_;  // the trailer section as received (checked by trailers_)
  bool keep_trailers_ = false;
  State state_ = State::SizeStart;
  uint64_t chunk_size_ = 0;
  uint64_t remaining_ = 0;
  uint64_t declared_total_ = 0;
  uint64_t body_limit_ = 0;
  uint32_t digits_ = 0;
  uint32_t ext_bytes_ = 0;
};

// Whether a trailer field may be forwarded (RFC 9110 §6.5.1): not framing (Transfer-Encoding,
// Content-Length, Trailer), not hop-by-hop (Connection, Keep-Alive, TE, Upgrade, ...), not
// routing (Host). `name` lowercase.
bool trailerForwardable(std::string_view name);

}  // namespace baton::proxy::http1
