// A thin C++ wrapper around llhttp 8.1 (Debian's node-llhttp C sources): the ONLY files that
// include llhttp.h. It owns the llhttp_t, routes llhttp's C callbacks to an LlhttpHandler, turns
// llhttp_execute()'s result into a consumed count, and maps llhttp error numbers to
// core::Error at this boundary.
//
// No lenient flags are set unless a caller asks for one by name (ClientCodec asks for
// lenient chunked-length so a response with CL and TE is framed by TE, as RFC 9112 says).
// Owned by one codec; one worker thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy/core/error.h"

namespace baton::proxy::http1 {

// What a handler returns to llhttp.
inline constexpr int kParseOk = 0;
inline constexpr int kParseError = -1;    // stop; the handler keeps the reason
inline constexpr int kParseSkipBody = 1;  // from onHeadersComplete only: no body follows
inline constexpr int kParsePause = 21;    // HPE_PAUSED: stop after this callback

// Callbacks from llhttp, already in C++. Data pointers point into the buffer given to
// execute() and are valid only during the call; a field or value may arrive in pieces.
class LlhttpHandler {
 public:
  virtual ~LlhttpHandler() = default;
  virtual int onStatus(const char* /*at*/, size_t /*len*/) { return kParseOk; }
  // Only with Fields::Delivered.
  virtual int onHeaderField(const char* /*at*/, size_t /*len*/) { return kParseOk; }
  virtual int onHeaderValue(const char* /*at*/, size_t /*len*/) { return kParseOk; }
  virtual int onHeaderValueComplete() { return kParseOk; }
  virtual int onHeadersComplete() = 0;
  virtual int onBody(const char* at, size_t len) = 0;
  virtual int onMessageComplete() = 0;
};

class LlhttpParser {
 public:
  enum class Mode : uint8_t { Request, Response };
  enum class Status : uint8_t { Ok, Paused, Error };
  // Whether llhttp hands field names and values to the handler. A codec that takes its fields
  // from the lines baton's scanner accepted (ClientCodec, see checked_execute.h) skips three
  // calls per field.
  enum class Fields : uint8_t { Delivered, Skipped };
  struct Outcome {
    Status status = Status::Ok;
    size_t consumed = 0;  // bytes of the input llhttp consumed (up to the pause or error)
  };

  LlhttpParser(Mode mode, LlhttpHandler& handler, Fields fields = Fields::Delivered);
  ~LlhttpParser();
  LlhttpParser(const LlhttpParser&) = delete;
  LlhttpParser& operator=(const LlhttpParser&) = delete;

  // Parses [data, data+len); len may be 0 (lets llhttp finish steps that need no bytes).
  Outcome execute(const char* data, size_t len);
  // The peer closed: completes a read-until-close message, or reports a truncated one.
  Outcome finish();
  // Continues after Status::Paused.
  void resume();
  // Back to the start state for the next message (keeps mode, handler and lenient flags).
  void reset();

  void setLenientChunkedLength(bool enabled);

  // Valid from onHeadersComplete on.
  uint8_t httpMinor() const;
  uint16_t statusCode() const;
  bool chunked() const;
  bool hasContentLength() const;
  bool hasTransferEncoding() const;
  uint64_t contentLength() const;
  bool messageNeedsEof() const;

  // The last error as a baton error: downstream codes (BadHeader, BadFraming, ...) or, for
  // ErrorSource::Upstream, UpstreamProtocolError / UpstreamReset.
  core::Error error(core::ErrorSource source) const;

 private:
  // Storage for the llhttp_t, so this header need not include llhttp.h (checked in the .cc).
  static constexpr size_t kStateBytes = 128;
  alignas(8) unsigned char state_[kStateBytes];
  LlhttpHandler& handler_;
  int last_errno_ = 0;
};

}  // namespace baton::proxy::http1
