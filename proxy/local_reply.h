// LocalReply: THE one table from core::ErrorCode to the response baton generates itself
// (status, reason, short body, whether the connection must close), and the renderer that
// turns such a reply into HTTP/1.1 bytes.
//
// Called by the stream (proxy/) on a worker thread whenever a phase fails before or instead of
// an upstream response. The table is static and read-only: safe from any thread, no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/error.h"
#include "proxy/http1/message.h"

namespace baton::proxy {

struct LocalReply {
  uint16_t status;
  std::string_view reason;
  std::string_view body;  // short text/plain body, ends with '\n'
  bool close;             // the downstream connection must be closed after this reply
};

// Never fails: unknown codes (and Ok) map to 500 Internal Server Error.
const LocalReply& localReplyFor(core::ErrorCode code);

// Appends full HTTP/1.1 response bytes to `out`: status line, Content-Type: text/plain;
// charset=utf-8, Content-Length, Connection: close when `close` or `reply.close`, X-Request-Id
// when `request_id` is non-empty and acceptable (isAcceptableRequestId: never a header
// injection), Allow on 405. The body is omitted when `head_request` (Content-Length is still
// the body's).
void renderLocalReply(const LocalReply& reply, std::string_view request_id, bool close,
                      bool head_request, std::string& out);

// Same, plus `extra` fields after Connection (Location for 301, WWW-Authenticate for 401).
// A field whose name or value holds CR, LF or NUL is dropped: it could never split the head.
void renderLocalReply(const LocalReply& reply, std::string_view request_id, bool close,
                      bool head_request, const http1::HeaderList& extra, std::string& out);

}  // namespace baton::proxy
