// ServerCodec: the request-line scanner, then llhttp behind our own byte-level checks.
//
// Per request: RequestLineScanner accepts the real request line; llhttp is reset and fed a
// SYNTHETIC "GET / HTTP/1.x\r\n" (so its URL and method rules never matter — its method table
// is closed, baton accepts any token, and for requests llhttp's framing does not depend on
// the method once CONNECT is refused); then HeaderBlockScanner checks the head bytes and finds
// their end, and only those checked bytes go to llhttp, which collects the fields. Framing and
// field rules are checked in onHeadersComplete before the head is delivered. A chunked body
// goes through ChunkedBodyScanner first (it may run ahead of llhttp when a callback pauses:
// `validated_ahead_` counts checked bytes that the caller will present again). A
// Content-Length body goes straight to llhttp.
#include "proxy/http1/server_codec.h"

#include "proxy/http1/checked_execute.h"

#include <optional>
#include <string>
#include <string_view>

#include "proxy/http1/char_class.h"
#include "proxy/http1/chunked_body_scanner.h"
#include "proxy/http1/header_block_scanner.h"
#include "proxy/http1/llhttp_parser.h"
#include "proxy/http1/request_line_scanner.h"

namespace baton::proxy::http1 {

namespace {

using core::Error;
using core::ErrorCode;

constexpr std::string_view kSyntheticLine11 = "GET / HTTP/1.1\r\n";
constexpr std::string_view kSyntheticLine10 = "GET / HTTP/1.0\r\n";
constexpr size_t kMaxContentLengthDigits = 19;
constexpr size_t kExpectedFields = 16;  // one allocation for typical heads

core::Result<void> refuse(ErrorCode code, std::string detail) {
  return core::fail(Error::downstream(code, std::move(detail)));
}

bool containsIgnoreCase(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (equalsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool isToken(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!isTchar(c)) return false;
  }
  return true;
}

// Transfer-Encoding: exactly one `chunked` is accepted. A single other token is an unknown
// coding (501) unless it looks like chunked (`xchunked`); lists, quotes, parameters -> 400.
core::Result<void> checkTransferEncoding(std::string_view v) {
  if (equalsIgnoreCase(v, "chunked")) return {};
  if (isToken(v) && !containsIgnoreCase(v, "chunked")) {
    return refuse(ErrorCode::UnsupportedTransferCoding, std::string(v));
  }
  return refuse(ErrorCode::BadFraming, "Transfer-Encoding other than a single chunked");
}

core::Result<uint64_t> parseContentLength(std::string_view v) {
  if (v.empty() || v.size() > kMaxContentLengthDigits) {
    return core::fail(Error::downstream(ErrorCode::BadFraming, "bad Content-Length"));
  }
  uint64_t n = 0;
  for (char c : v) {
    if (!isDigit(c)) {
      return core::fail(Error::downstream(ErrorCode::BadFraming, "bad Content-Length"));
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

core::Result<void> checkHost(std::string_view v) {
  if (v.empty()) return refuse(ErrorCode::BadHost, "empty Host");
  for (char ch : v) {
    const auto c = static_cast<uint8_t>(ch);
    if (isCtl(c) || c == ' ' || c == '@' || c == '/' || c == '\\' || c == ',') {
      return refuse(ErrorCode::BadHost, "bad byte in Host");
    }
  }
  return {};
}

}  // namespace

ServerCodecLimits ServerCodecLimits::from(const conf::LimitsSpec& limits) {
  return ServerCodecLimits{limits.request_line_bytes, limits.header_field_bytes,
                           limits.header_block_bytes, limits.header_count};
}

struct ServerCodec::Impl final : LlhttpHandler {
  enum class Phase : uint8_t { RequestLine, Head, Body };

  Impl(ServerCodecCallbacks& callbacks, const ServerCodecLimits& limits)
      : cb(callbacks),
        line(limits.request_line_bytes),
        head_scanner(headerLimits(limits), core::ErrorSource::Downstream),
        chunk_scanner(headerLimits(limits), core::ErrorSource::Downstream),
        parser(LlhttpParser::Mode::Request, *this) {}

  static HeaderBlockLimits headerLimits(const ServerCodecLimits& l) {
    return HeaderBlockLimits{l.header_field_bytes, l.header_block_bytes, l.header_count};
  }

  core::Result<size_t> feed(const char* data, size_t len);
  void feedRequestLine(const char* data, size_t len, size_t& pos);
  void feedHead(const char* data, size_t len, size_t& pos);
  void feedBody(const char* data, size_t len, size_t& pos);
  void startHead();
  void afterExecute(const LlhttpParser::Outcome& out);
  core::Result<void> validateHead();
  void completeRequest();

  // LlhttpHandler.
  int onHeaderField(const char* at, size_t len) override;
  int onHeaderValue(const char* at, size_t len) override;
  int onHeaderValueComplete() override;
  int onHeadersComplete() override;
  int onBody(const char* at, size_t len) override;
  int onMessageComplete() override;

  ServerCodecCallbacks& cb;
  RequestLineScanner line;
  HeaderBlockScanner head_scanner;
  ChunkedBodyScanner chunk_scanner;
  LlhttpParser parser;

  Phase phase = Phase::RequestLine;
  RequestHead head;
  std::string field_name;
  std::string field_value;
  std::string held_line;          // a head line still open at the end of a read (checked_execute.h)
  bool paused = false;            // by the caller, or at the end of a request
  bool parser_paused = false;     // llhttp stopped with HPE_PAUSED and needs resume
  bool kick = false;              // llhttp may have work left that needs no bytes (see feed)
  bool complete_pending = false;  // a bodiless request's end held back by a pause
  bool mid_request = false;
  size_t validated_ahead = 0;  // chunked bytes checked but not yet consumed by llhttp
  std::optional<Error> error;
  std::optional<Error> callback_error;
};

core::Result<size_t> ServerCodec::Impl::feed(const char* data, size_t len) {
  if (error) return core::fail(*error);
  size_t pos = 0;
  if (complete_pending && !paused) {
    complete_pending = false;
    completeRequest();
  }
  while (!paused && !error) {
    if (pos == len && !kick) break;
    switch (phase) {
      case Phase::RequestLine:
        if (pos == len) {
          kick = false;
          break;
        }
        feedRequestLine(data, len, pos);
        break;
      case Phase::Head:
        feedHead(data, len, pos);
        break;
      case Phase::Body:
        feedBody(data, len, pos);
        break;
    }
  }
  if (error) return core::fail(*error);
  return pos;
}

void ServerCodec::Impl::feedRequestLine(const char* data, size_t len, size_t& pos) {
  auto r = line.consume(data + pos, len - pos);
  if (!r) {
    error = std::move(r.error());
    return;
  }
  pos += *r;
  // Only the line decides while it is being read: a lone CR of a skipped empty line between
  // requests (its LF in the next read) must not leave an idle connection "mid-request".
  mid_request = line.started();
  if (line.done()) startHead();
}

void ServerCodec::Impl::startHead() {
  head = RequestHead{};
  head.headers.reserve(kExpectedFields);
  head.method.assign(line.line().method);
  head.target.assign(line.line().target);
  head.version_minor = line.line().version_minor;
  head.keep_alive = head.version_minor == 1;
  line.reset();
  field_name.clear();
  field_value.clear();
  head_scanner.reset();
  held_line.clear();
  parser.reset();
  parser_paused = false;
  const std::string_view synthetic = head.version_minor == 1 ? kSyntheticLine11 : kSyntheticLine10;
  const auto out = parser.execute(synthetic.data(), synthetic.size());
  if (out.status != LlhttpParser::Status::Ok) {
    error = Error::internal("llhttp refused the synthetic request line");
    return;
  }
  phase = Phase::Head;
}

void ServerCodec::Impl::afterExecute(const LlhttpParser::Outcome& out) {
  if (out.status == LlhttpParser::Status::Paused) parser_paused = true;
  if (out.status == LlhttpParser::Status::Error) {
    error =
        callback_error ? std::move(*callback_error) : parser.error(core::ErrorSource::Downstream);
  }
}

void ServerCodec::Impl::feedHead(const char* data, size_t len, size_t& pos) {
  auto out = executeCheckedHead(head_scanner, parser, held_line, data + pos, len - pos);
  if (!out) {
    error = std::move(out.error());
    return;
  }
  pos += out->consumed;
  afterExecute(*out);
  if (!error && head_scanner.done() && phase == Phase::Head) {
    error = Error::downstream(ErrorCode::BadHeader, "llhttp disagrees on the end of the head");
  }
}

void ServerCodec::Impl::feedBody(const char* data, size_t len, size_t& pos) {
  const size_t avail = len - pos;
  kick = false;  // set again by onBody if it pauses
  if (!head.chunked) {
    const auto out = parser.execute(data + pos, avail);
    pos += out.consumed;
    afterExecute(out);
    return;
  }
  auto out = executeCheckedChunked(chunk_scanner, parser, validated_ahead, data + pos, avail);
  if (!out) {
    error = std::move(out.error());
    return;
  }
  pos += out->consumed;
  afterExecute(*out);
  if (!error && out->status == LlhttpParser::Status::Ok && phase == Phase::Body &&
      chunk_scanner.done() && validated_ahead == 0) {
    error = Error::downstream(ErrorCode::BadFraming, "llhttp disagrees on the end of the body");
  }
}

int ServerCodec::Impl::onHeaderField(const char* at, size_t len) {
  if (phase == Phase::Head) field_name.append(at, len);
  return kParseOk;
}

int ServerCodec::Impl::onHeaderValue(const char* at, size_t len) {
  if (phase == Phase::Head) field_value.append(at, len);
  return kParseOk;
}

int ServerCodec::Impl::onHeaderValueComplete() {
  if (phase != Phase::Head) return kParseOk;  // trailers: checked, then discarded
  // Backends map `_` and `-` alike, so a name with `_` could smuggle a header past the
  // forwarding rules: drop it (hostile-inputs.md).
  if (field_name.find('_') == std::string::npos) {
    std::string_view v = field_value;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    // Copies of exact size; the scratch strings keep their capacity for the next field.
    head.headers.push_back(HeaderField{field_name, std::string(v)});
  }
  field_name.clear();
  field_value.clear();
  return kParseOk;
}

core::Result<void> ServerCodec::Impl::validateHead() {
  const bool http11 = head.version_minor == 1;
  size_t cl_count = 0, te_count = 0, host_count = 0;
  const std::string* cl = nullptr;
  const std::string* te = nullptr;
  bool connection_close = false, connection_keep_alive = false, connection_upgrade = false;
  bool has_upgrade = false;
  for (const HeaderField& f : head.headers) {
    const std::string_view name = f.name;
    if (equalsIgnoreCase(name, "content-length")) {
      ++cl_count;
      cl = &f.value;
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      ++te_count;
      te = &f.value;
    } else if (equalsIgnoreCase(name, "host")) {
      ++host_count;
      if (auto r = checkHost(f.value); !r) return r;
    } else if (equalsIgnoreCase(name, "expect")) {
      if (!http11) continue;  // RFC 9110 §10.1.1: ignore Expect in HTTP/1.0
      if (!equalsIgnoreCase(trimOws(f.value), "100-continue")) {
        return refuse(ErrorCode::ExpectationFailed, f.value);
      }
      head.expect_continue = true;
    } else if (equalsIgnoreCase(name, "connection")) {
      forEachListElement(f.value, [&](std::string_view token) {
        if (equalsIgnoreCase(token, "close")) connection_close = true;
        if (equalsIgnoreCase(token, "keep-alive")) connection_keep_alive = true;
        if (equalsIgnoreCase(token, "upgrade")) connection_upgrade = true;
        return true;
      });
    } else if (equalsIgnoreCase(name, "upgrade")) {
      has_upgrade = true;
    }
  }
  if (te_count > 0) {
    if (!http11) return refuse(ErrorCode::BadFraming, "Transfer-Encoding in HTTP/1.0");
    if (cl_count > 0) return refuse(ErrorCode::BadFraming, "Content-Length with Transfer-Encoding");
    if (te_count > 1) return refuse(ErrorCode::BadFraming, "repeated Transfer-Encoding");
    if (auto r = checkTransferEncoding(*te); !r) return r;
    head.chunked = true;
  }
  if (cl_count > 1) return refuse(ErrorCode::BadFraming, "repeated Content-Length");
  if (cl_count == 1) {
    auto n = parseContentLength(*cl);
    if (!n) return core::fail(std::move(n.error()));
    head.content_length = *n;
  }
  if (host_count > 1) return refuse(ErrorCode::BadHost, "repeated Host");
  if (host_count == 0 && http11) return refuse(ErrorCode::BadHost, "missing Host");
  head.keep_alive = !connection_close && (http11 || connection_keep_alive);
  head.upgrade = connection_upgrade && has_upgrade;
  return {};
}

int ServerCodec::Impl::onHeadersComplete() {
  if (phase != Phase::Head) return kParseOk;
  if (auto r = validateHead(); !r) {
    callback_error = std::move(r.error());
    return kParseError;
  }
  const bool has_body = head.hasBody();
  phase = has_body ? Phase::Body : Phase::RequestLine;
  if (head.chunked) {
    chunk_scanner.reset();
    validated_ahead = 0;
  }
  cb.onRequestHead(std::move(head));
  if (!has_body) {
    // llhttp is stopped here and reset for the next request; we end the request ourselves.
    if (paused) {
      complete_pending = true;
    } else {
      completeRequest();
    }
    return kParsePause;
  }
  return paused ? kParsePause : kParseOk;
}

int ServerCodec::Impl::onBody(const char* at, size_t len) {
  if (len == 0) return kParseOk;  // llhttp flushes an open span at the end of execute()
  cb.onRequestBody(at, len);
  if (!paused) return kParseOk;
  kick = true;  // after resume, llhttp may complete the message without further bytes
  return kParsePause;
}

int ServerCodec::Impl::onMessageComplete() {
  if (phase == Phase::Body) completeRequest();
  return kParsePause;
}

void ServerCodec::Impl::completeRequest() {
  phase = Phase::RequestLine;
  mid_request = false;
  paused = true;
  kick = false;
  cb.onRequestComplete();
}

ServerCodec::ServerCodec(ServerCodecCallbacks& callbacks, const ServerCodecLimits& limits)
    : impl_(std::make_unique<Impl>(callbacks, limits)) {}

ServerCodec::~ServerCodec() = default;

core::Result<size_t> ServerCodec::feed(const char* data, size_t len) {
  return impl_->feed(data, len);
}

core::Result<void> ServerCodec::onEof() {
  if (impl_->mid_request) {
    return core::fail(Error::downstream(ErrorCode::DownstreamClosed, "EOF mid-request"));
  }
  return {};
}

void ServerCodec::pause() {
  impl_->paused = true;
}

void ServerCodec::resume() {
  impl_->paused = false;
  if (impl_->parser_paused) {
    impl_->parser.resume();
    impl_->parser_paused = false;
  }
}

void ServerCodec::setBodyLimit(uint64_t limit) {
  impl_->chunk_scanner.setBodyLimit(limit);
}

bool ServerCodec::paused() const {
  return impl_->paused;
}
bool ServerCodec::midRequest() const {
  return impl_->mid_request;
}
bool ServerCodec::inBody() const {
  return impl_->phase == Impl::Phase::Body;
}

}  // namespace baton::proxy::http1
