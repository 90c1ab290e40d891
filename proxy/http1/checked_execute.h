// The one rule both HTTP/1 codecs follow: baton's strict scanners run over the bytes first and
// llhttp only ever executes bytes they accepted (hostile-inputs.md: llhttp 8.1 alone accepts
// obs-fold, bare LF, chunk data without CRLF, ...). Shared by ServerCodec and ClientCodec; pure,
// no state of its own beyond what the caller passes in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proxy/core/error.h"
#include "proxy/http1/chunked_body_scanner.h"
#include "proxy/http1/header_block_scanner.h"
#include "proxy/http1/llhttp_parser.h"

namespace baton::proxy::http1 {

// Receives the field lines of a head (without CRLF; never the empty line that ends it) in
// order, each after baton's scanner accepted it and before llhttp executes it. ClientCodec
// collects its fields here instead of through llhttp's per-span callbacks.
class FieldLineSink {
 public:
  virtual void onFieldLine(std::string_view line) = 0;

 protected:
  ~FieldLineSink() = default;
};

// Head bytes: the header-block scanner accepts line N before llhttp executes line N, and llhttp
// judges line N before the scanner's verdict on line N+1 can decide the outcome. A line still
// open at the end of [data, data+len) is scanned (so its limits fire as it grows) and copied into
// `held_line`, and llhttp gets it only once its LF arrives. So the outcome never depends on how
// TCP split the head: all of line N passes baton's scanner (syntax and the 431 limits) before
// llhttp judges line N (e.g. its Content-Length digits), and an llhttp error on line N wins over
// a scanner error on a later line — otherwise one byte at a time llhttp would refuse
// `Content-Length: x` (400) before an over-long line reached header_field_bytes, while fed whole
// the scanner reaches the limit first (431): tests/fuzz/README.md finding 3.
// The common case costs one scanner pass and one llhttp call for all complete lines: when the
// scanner accepts every byte, llhttp's first error over those lines is exactly what the
// line-by-line order gives. When the scanner refuses a byte, the scanner is put back and the
// input is taken one line at a time (llhttp sees the lines before the refused one first).
// All bytes the scanner accepted are reported consumed (the caller drops them); `held_line` is
// bounded by the field limit and must be cleared when a new head starts. `sink` (may be null)
// gets each field line; with a sink, llhttp is shown only the lines it acts on (the framing and
// connection fields, the empty line): it keeps nothing from any other accepted line and could
// not refuse one, so its outcome is the same. Errors are the scanner's; llhttp's come back as
// Status::Error.
core::Result<LlhttpParser::Outcome> executeCheckedHead(HeaderBlockScanner& scanner,
                                                       LlhttpParser& parser, std::string& held_line,
                                                       const char* data, size_t len,
                                                       FieldLineSink* sink = nullptr);

// Chunked body bytes. The chunk scanner may run ahead of llhttp when a callback pauses it;
// `validated_ahead` carries how many bytes at `data` were already accepted by an earlier call,
// so they are not scanned twice.
core::Result<LlhttpParser::Outcome> executeCheckedChunked(ChunkedBodyScanner& scanner,
                                                          LlhttpParser& parser,
                                                          size_t& validated_ahead, const char* data,
                                                          size_t len);

}  // namespace baton::proxy::http1
