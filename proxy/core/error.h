// Error values for every fallible operation in baton.
//
// Nothing on the data path throws: functions return Result<T> (std::expected<T, Error>).
// An Error carries a stable code (logged, counted, mapped to a local reply by
// proxy/local_reply.cc — the one table from code to HTTP status), the side it came from,
// whether retrying on another upstream host is safe (nothing was sent), and a detail string
// that is built only on the error path.
//
// Thread-safety: plain values; copy freely between threads.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace baton::core {

// Stable error codes. Append only: names are logged and counted.
enum class ErrorCode : uint16_t {
  Ok = 0,
  // Downstream request syntax and framing.
  BadRequest,                 // generic malformed request
  BadRequestLine,             // request line syntax (spaces, HTTP/0.9, bad method token)
  BadRequestTarget,           // target byte policy or form (url-policy.md)
  PathAboveRoot,              // dot segments climb above "/"
  BadHeader,                  // header syntax (name, value bytes, obs-fold, bare LF)
  BadHost,                    // Host missing/repeated/invalid
  BadFraming,                 // CL/TE conflicts, bad CL, bad chunked syntax
  UnsupportedTransferCoding,  // TE other than chunked -> 501
  MethodNotAllowed,           // CONNECT / TRACE -> 405
  UnsupportedVersion,         // HTTP version other than 1.0/1.1 -> 505
  RequestLineTooLong,         // -> 414
  HeaderTooLarge,             // one field, block or count over limit -> 431
  BodyTooLarge,               // over the route's limit -> 413
  ExpectationFailed,          // unknown Expect -> 417
  RequestHeadTimeout,         // slowloris deadline -> 408
  RequestBodyTimeout,         // body idle timer -> 408
  DownstreamClosed,           // client went away mid-request
  // Routing.
  NoRoute,  // no vhost/path matched -> 404
  // Upstream.
  NoHealthyHost,           // no host left to try -> 503
  UpstreamConnectFailed,   // connect refused/failed (retry-safe) -> 502/503
  UpstreamConnectTimeout,  // -> 504
  UpstreamTimeout,         // first byte / body idle -> 504
  UpstreamProtocolError,   // bad status line, bad header bytes, CL conflicts -> 502
  UpstreamReset,           // upstream closed mid-response -> 502 (or truncation)
  // Control plane.
  ConfigInvalid,
  ConfigIo,
  Internal,
  // Downstream, appended: the client stopped reading a response (logged; the reply is cut).
  DownstreamWriteTimeout,
  // Route actions, appended (marathon-lb labels): answered by baton, never forwarded.
  SourceNotAllowed,  // client address outside the route's allowed_sources -> 403
  AuthRequired,      // basic_auth missing or wrong -> 401 with WWW-Authenticate
  Redirect,          // redirect_to_https / redirect_root_to -> 301 with Location
  // Operator drain, appended: the request was still running on a drained host at
  // [timeouts] host_drain -> 503 (or a truncation once the response started).
  UpstreamDrainDeadline,
  // Overload, appended: the process is over its [limits] buffer_budget; a new request is shed
  // -> 503 and close (issue 5).
  Overloaded,
  // TLS, HTTP/2 and tunnels, appended (issue 6).
  TlsHandshakeFailed,    // bad ClientHello, no shared cipher/version, alert -> connection closed
  TlsHandshakeTimeout,   // [timeouts] tls_handshake passed -> connection closed
  Http2ProtocolError,    // connection error: GOAWAY PROTOCOL_ERROR (or the frame's own code)
  Http2StreamError,      // malformed request on one stream: RST_STREAM PROTOCOL_ERROR
  Http2StreamCancelled,  // the client reset its stream (RST_STREAM CANCEL): upstream cancelled
  Http2EnhanceYourCalm,  // flood limits (resets, SETTINGS, PING, errors we sent): GOAWAY
  TunnelIdleTimeout,     // an upgraded (WebSocket) or TCP tunnel saw no byte in either direction
  // Circuit breaking, appended (issue 8): the routed cluster is at its max_connections,
  // max_pending or max_requests -> 503 at once, nothing sent upstream.
  UpstreamOverflow,
};

// Which side an error came from; drives logging and retry decisions.
enum class ErrorSource : uint8_t { Downstream, Upstream, Internal, Config };

std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  ErrorSource source = ErrorSource::Internal;
  bool retryable = false;  // true only when nothing was sent upstream
  std::string detail;      // human-readable; may name file:line:key for config errors

  static Error downstream(ErrorCode c, std::string d = {}) {
    return Error{c, ErrorSource::Downstream, false, std::move(d)};
  }
  static Error upstream(ErrorCode c, bool retryable, std::string d = {}) {
    return Error{c, ErrorSource::Upstream, retryable, std::move(d)};
  }
  static Error config(std::string d) {
    return Error{ErrorCode::ConfigInvalid, ErrorSource::Config, false, std::move(d)};
  }
  static Error internal(std::string d) {
    return Error{ErrorCode::Internal, ErrorSource::Internal, false, std::move(d)};
  }
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline std::unexpected<Error> fail(Error e) {
  return std::unexpected<Error>(std::move(e));
}

}  // namespace baton::core
