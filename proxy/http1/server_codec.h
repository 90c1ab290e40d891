// HTTP/1 server-side codec: bytes from a downstream connection -> request callbacks.
//
// A translator only: it never touches a socket, so every edge case is a byte-level unit test.
// The request line is scanned by baton's own scanner (request_line_scanner.h, which applies
// the url-policy byte table and the strict request-line grammar); llhttp (wrapped in
// llhttp_parser.* — the only files that include llhttp) parses the header block and the body
// framing, and baton's own checks close llhttp 8.1's gaps (hostile-inputs.md).
//
// Used on one worker thread by one downstream connection. Pipelining: after onRequestComplete()
// the codec pauses itself and consumes nothing more until resume(), so responses go out in
// order and a later request never starts before the earlier response is done.
#pragma once

#include <cstddef>
#include <memory>

#include "conf/config_spec.h"
#include "proxy/core/error.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

class ServerCodecCallbacks {
 public:
  virtual ~ServerCodecCallbacks() = default;
  // A complete, validated request head. Body callbacks follow if head.hasBody().
  virtual void onRequestHead(RequestHead&& head) = 0;
  // Decoded body bytes (de-chunked). The pointer is valid only during the call.
  virtual void onRequestBody(const char* data, size_t len) = 0;
  // End of the request (after the body and any trailers; trailers are discarded: baton does not
  // forward request trailers to HTTP/1 upstreams).
  virtual void onRequestComplete() = 0;
};

struct ServerCodecLimits {
  uint32_t request_line_bytes = 8 * 1024;
  uint32_t header_field_bytes = 8 * 1024;
  uint32_t header_block_bytes = 32 * 1024;
  uint32_t header_count = 100;
  static ServerCodecLimits from(const conf::LimitsSpec& limits);
};

class ServerCodec {
 public:
  ServerCodec(ServerCodecCallbacks& callbacks, const ServerCodecLimits& limits);
  ~ServerCodec();

  // Parses as much of [data, data+len) as it can and returns how many bytes it consumed; the
  // caller drains that many from its input buffer and keeps the rest for the next call. Fewer
  // than `len` are consumed when paused (request complete, or pause() from a callback).
  // An error means the connection is unusable: answer per the error table with
  // Connection: close and read nothing more. Errors carry codes such as BadRequestLine,
  // BadRequestTarget, BadHeader, BadHost, BadFraming, UnsupportedTransferCoding,
  // MethodNotAllowed, UnsupportedVersion, RequestLineTooLong, HeaderTooLarge,
  // ExpectationFailed.
  core::Result<size_t> feed(const char* data, size_t len);

  // The downstream closed its write side. Returns an error if a request was mid-way
  // (DownstreamClosed); Ok if idle between requests.
  core::Result<void> onEof();

  // Flow control from callbacks: pause() stops consuming after the current callback;
  // resume() continues (also used after onRequestComplete to start the next request).
  // resume() itself never calls back: after it, call feed() again with whatever input is
  // buffered — even none (len == 0) — because an event held back by the pause (the end of a
  // request whose last body byte, or whose bodiless head, was delivered just before the
  // pause) is delivered from feed().
  void pause();
  void resume();

  // From onRequestHead (after routing): the current request's body limit (0 = none). A chunked
  // body whose declared chunk sizes pass it fails with BodyTooLarge before its data arrives.
  void setBodyLimit(uint64_t limit);
  bool paused() const;

  // True between the first byte of a request and onRequestComplete().
  bool midRequest() const;
  // True once the head is done and the body is still arriving.
  bool inBody() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::proxy::http1
