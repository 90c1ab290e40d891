// HTTP/1 client-side codec: bytes from an upstream connection -> response callbacks, plus the
// serialiser for requests sent upstream. Never touches a socket. One instance per upstream
// connection, used on its worker thread.
//
// Upstream hostility (hostile-inputs.md "From the upstream"): CR/LF/NUL in a header value or a
// bad status line -> UpstreamProtocolError (502); CL+TE -> TE wins and keep_alive=false; two
// different Content-Lengths -> UpstreamProtocolError; bytes after a complete response ->
// reported via extraBytesAfterResponse() so the connection is never pooled.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proxy/core/error.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

class ClientCodecCallbacks {
 public:
  virtual ~ClientCodecCallbacks() = default;
  // 1xx responses (other than 101) arrive here; the codec then waits for the final response.
  virtual void onInformational(ResponseHead&& head) = 0;
  // A final response, or a 101: then no body and no onResponseComplete follow, the codec is
  // upgraded() and consumes nothing more (the bytes after the 101 head are the new protocol's).
  virtual void onResponseHead(ResponseHead&& head) = 0;
  virtual void onResponseBody(const char* data, size_t len) = 0;
  // A chunked response's trailer fields (forwardable ones, see trailerForwardable), just before
  // onResponseComplete; not called when there are none.
  virtual void onResponseTrailers(HeaderList&& trailers) { (void)trailers; }
  virtual void onResponseComplete() = 0;
};

class ClientCodec {
 public:
  explicit ClientCodec(ClientCodecCallbacks& callbacks);
  ~ClientCodec();

  // Arms the codec for the response to one request; `head_request` means no body follows.
  void expectResponse(bool head_request);

  // Same contract as ServerCodec::feed (pauses after onResponseComplete until the next
  // expectResponse()). Errors: UpstreamProtocolError.
  core::Result<size_t> feed(const char* data, size_t len);

  // The upstream closed. Completes a read-until-close body (onResponseComplete) and returns
  // Ok; returns UpstreamReset if a response was mid-way any other way.
  core::Result<void> onEof();

  void pause();
  void resume();

  // True if bytes arrived when no response was expected (never pool that connection).
  bool extraBytesAfterResponse() const;
  // True once a 101 head was delivered: feed() consumes nothing more, onEof() is Ok.
  bool upgraded() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serialises a request head for an upstream: "METHOD target HTTP/1.1\r\n", the fields as
// given, "\r\n". Refuses (Internal) a name or value containing CR, LF or NUL — the last guard
// against header injection whatever the source (HTTP/1 or HTTP/2).
core::Result<void> serializeRequestHead(std::string_view method, std::string_view target,
                                        const HeaderList& headers, std::string& out);
// Same, from fields whose bytes live elsewhere (Stream's HTTP/1 upstream path).
core::Result<void> serializeRequestHead(std::string_view method, std::string_view target,
                                        std::span<const FieldView> headers, std::string& out);
// Serialises a response head ("HTTP/1.1 status reason\r\n" + fields + "\r\n"), same guard.
core::Result<void> serializeResponseHead(uint16_t status, std::string_view reason,
                                         const HeaderList& headers, std::string& out);
// Chunked-encoding helpers for re-chunking bodies: "<hex>\r\n" and the last-chunk "0\r\n\r\n".
void appendChunkHeader(size_t len, std::string& out);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
// The last chunk with a trailer section: "0\r\n" + "name: value\r\n"... + "\r\n". Fields whose
// name is not a token, whose value holds CR, LF or NUL, or not forwardable as trailers, are
// left out (whatever the source).
void appendLastChunk(const HeaderList& trailers, std::string& out);

}  // namespace baton::proxy::http1
