#include "proxy/local_reply.h"

#include <array>
#include <charconv>

#include "proxy/request_id.h"

namespace baton::proxy {
namespace {

using core::ErrorCode;

constexpr LocalReply k400{400, "Bad Request", "400 Bad Request: malformed request\n", true};
constexpr LocalReply k400Target{400, "Bad Request", "400 Bad Request: invalid request target\n",
                                true};
constexpr LocalReply k400Header{400, "Bad Request", "400 Bad Request: invalid header\n", true};
constexpr LocalReply k400Host{400, "Bad Request", "400 Bad Request: invalid or missing Host\n",
                              true};
constexpr LocalReply k400Framing{400, "Bad Request", "400 Bad Request: invalid message framing\n",
                                 true};
// Route actions: a refused or redirected request is answered completely (no body follows
// that baton would need to skip), so the connection stays usable.
constexpr LocalReply k301{301, "Moved Permanently", "301 Moved Permanently\n", false};
constexpr LocalReply k401{401, "Unauthorized", "401 Unauthorized\n", false};
constexpr LocalReply k403{403, "Forbidden", "403 Forbidden\n", false};
constexpr LocalReply k404{404, "Not Found", "404 Not Found: no route for this request\n", false};
constexpr LocalReply k405{405, "Method Not Allowed", "405 Method Not Allowed\n", true};
constexpr LocalReply k408{408, "Request Timeout", "408 Request Timeout\n", true};
constexpr LocalReply k413{413, "Content Too Large", "413 Content Too Large\n", true};
constexpr LocalReply k414{414, "URI Too Long", "414 URI Too Long\n", true};
constexpr LocalReply k417{417, "Expectation Failed", "417 Expectation Failed\n", true};
constexpr LocalReply k431{431, "Request Header Fields Too Large",
                          "431 Request Header Fields Too Large\n", true};
// Internal errors close: the connection's state can no longer be trusted.
constexpr LocalReply k500{500, "Internal Server Error", "500 Internal Server Error\n", true};
constexpr LocalReply k501{501, "Not Implemented",
                          "501 Not Implemented: unsupported transfer coding\n", true};
// Upstream failures leave the downstream connection usable; the stream closes it anyway when
// the request body was not fully read (it passes close=true to renderLocalReply).
constexpr LocalReply k502{502, "Bad Gateway", "502 Bad Gateway: upstream protocol error\n", false};
constexpr LocalReply k502Reset{502, "Bad Gateway", "502 Bad Gateway: upstream reset\n", false};
constexpr LocalReply k503{503, "Service Unavailable",
                          "503 Service Unavailable: no healthy upstream\n", false};
constexpr LocalReply k503Connect{503, "Service Unavailable",
                                 "503 Service Unavailable: upstream connect failed\n", false};
// The request body may not have been read: close.
constexpr LocalReply k503Drain{503, "Service Unavailable",
                               "503 Service Unavailable: upstream host drained\n", true};
// Shed under overload: closing frees the connection's buffers and descriptor too.
constexpr LocalReply k503Overload{503, "Service Unavailable",
                                  "503 Service Unavailable: overloaded, retry later\n", true};
// Circuit breaking: the cluster is at a configured limit; answered at once, nothing was sent.
constexpr LocalReply k503Overflow{
    503, "Service Unavailable", "503 Service Unavailable: upstream overflow, retry later\n", false};
constexpr LocalReply k504{504, "Gateway Timeout", "504 Gateway Timeout\n", false};
constexpr LocalReply k505{505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n",
                          true};

constexpr const LocalReply& replyFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadRequest:
    case ErrorCode::BadRequestLine:
    case ErrorCode::DownstreamClosed:
      return k400;
    case ErrorCode::BadRequestTarget:
    case ErrorCode::PathAboveRoot:
      return k400Target;
    case ErrorCode::BadHeader:
      return k400Header;
    case ErrorCode::BadHost:
      return k400Host;
    case ErrorCode::BadFraming:
      return k400Framing;
    case ErrorCode::UnsupportedTransferCoding:
      return k501;
    case ErrorCode::MethodNotAllowed:
      return k405;
    case ErrorCode::UnsupportedVersion:
      return k505;
    case ErrorCode::RequestLineTooLong:
      return k414;
    case ErrorCode::HeaderTooLarge:
      return k431;
    case ErrorCode::BodyTooLarge:
      return k413;
    case ErrorCode::ExpectationFailed:
      return k417;
    case ErrorCode::RequestHeadTimeout:
    case ErrorCode::RequestBodyTimeout:
    case ErrorCode::DownstreamWriteTimeout:
      return k408;
    case ErrorCode::NoRoute:
      return k404;
    case ErrorCode::SourceNotAllowed:
      return k403;
    case ErrorCode::AuthRequired:
      return k401;
    case ErrorCode::Redirect:
      return k301;
    case ErrorCode::UpstreamDrainDeadline:
      return k503Drain;
    case ErrorCode::Overloaded:
      return k503Overload;
    // Connection-level failures have no request to answer; the table still names a status for
    // the access log and counters: 400 for what the client got wrong, 408 for its slowness.
    case ErrorCode::TlsHandshakeFailed:
    case ErrorCode::Http2ProtocolError:
    case ErrorCode::Http2StreamError:
    case ErrorCode::Http2EnhanceYourCalm:
      return k400;
    case ErrorCode::TlsHandshakeTimeout:
      return k408;
    // The client cancelled: nginx's 499 is not a status a client ever sees; logged as 400.
    case ErrorCode::Http2StreamCancelled:
      return k400;
    case ErrorCode::TunnelIdleTimeout:
      return k504;
    case ErrorCode::UpstreamOverflow:
      return k503Overflow;
    case ErrorCode::NoHealthyHost:
      return k503;
    case ErrorCode::UpstreamConnectFailed:
      return k503Connect;
    case ErrorCode::UpstreamConnectTimeout:
    case ErrorCode::UpstreamTimeout:
      return k504;
    case ErrorCode::UpstreamProtocolError:
      return k502;
    case ErrorCode::UpstreamReset:
      return k502Reset;
    case ErrorCode::Ok:
    case ErrorCode::ConfigInvalid:
    case ErrorCode::ConfigIo:
    case ErrorCode::Internal:
      return k500;
  }
  return k500;
}

// Indexed by the enum's value so the lookup is one load; built at compile time from the switch
// above, which -Wswitch keeps complete when a code is appended.
constexpr size_t kTableSize = static_cast<size_t>(ErrorCode::UpstreamOverflow) + 1;
constexpr std::array<const LocalReply*, kTableSize> kTable = [] {
  std::array<const LocalReply*, kTableSize> t{};
  for (size_t i = 0; i < kTableSize; ++i) t[i] = &replyFor(static_cast<ErrorCode>(i));
  return t;
}();

void appendNumber(uint64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// A field baton adds to a local reply comes from config or from validated request bytes; still,
// a CR, LF or NUL would split the head, so such a field is dropped rather than written.
bool safeField(const http1::HeaderField& h) {
  for (std::string_view s : {std::string_view(h.name), std::string_view(h.value)}) {
    if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
  }
  return !h.name.empty();
}

void appendExtra(const http1::HeaderList& extra, std::string& out) {
  for (const http1::HeaderField& h : extra) {
    if (!safeField(h)) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
}

}  // namespace

const LocalReply& localReplyFor(core::ErrorCode code) {
  const auto i = static_cast<size_t>(code);
  return i < kTableSize ? *kTable[i] : k500;
}

void renderLocalReply(const LocalReply& reply, std::string_view request_id, bool close,
                      bool head_request, std::string& out) {
  renderLocalReply(reply, request_id, close, head_request, {}, out);
}

void renderLocalReply(const LocalReply& reply, std::string_view request_id, bool close,
                      bool head_request, const http1::HeaderList& extra, std::string& out) {
  out.append("HTTP/1.1 ");
  appendNumber(reply.status, out);
  out.push_back(' ');
  out.append(reply.reason);
  out.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  appendNumber(reply.body.size(), out);
  out.append("\r\n");
  if (reply.status == 405) out.append("Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n");
  if (close || reply.close) out.append("Connection: close\r\n");
  appendExtra(extra, out);
  if (!request_id.empty() && isAcceptableRequestId(request_id)) {
    out.append("X-Request-Id: ");
    out.append(request_id);
    out.append("\r\n");
  }
  out.append("\r\n");
  if (!head_request) out.append(reply.body);
}

}  // namespace baton::proxy
