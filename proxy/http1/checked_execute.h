// The one rule both HTTP/1 codecs follow: baton's strict scanners run over the bytes first and
// llhttp only ever executes bytes they accepted (hostile-inputs.md: llhttp 8.1 alone accepts
// obs-fold, bare LF, chunk data without CRLF, ...). Shared by ServerCodec and ClientCodec; pure,
// no state of its own beyond what the caller passes in.
#pragma once

#include <cstddef>

#include "proxy/core/error.h"
#include "proxy/http1/chunked_body_scanner.h"
#include "proxy/http1/header_block_scanner.h"
#include "proxy/http1/llhttp_parser.h"

namespace baton::proxy::http1 {

// Head bytes: the header-block scanner accepts a prefix of [data, data+len) (up to the end of
// the head), llhttp executes exactly that prefix. Errors are the scanner's.
core::Result<LlhttpParser::Outcome> executeCheckedHead(HeaderBlockScanner& scanner,
                                                       LlhttpParser& parser, const char* data,
                                                       size_t len);

// Chunked body bytes. The chunk scanner may run ahead of llhttp when a callback pauses it;
// `validated_ahead` carries how many bytes at `data` were already accepted by an earlier call,
// so they are not scanned twice.
core::Result<LlhttpParser::Outcome> executeCheckedChunked(ChunkedBodyScanner& scanner,
                                                          LlhttpParser& parser,
                                                          size_t& validated_ahead, const char* data,
                                                          size_t len);

}  // namespace baton::proxy::http1
