// ClientCodec: upstream responses through our own status-line and header-block checks, then
// llhttp (HTTP_RESPONSE mode), like ServerCodec. Differences from the server side: the real
// status line goes to llhttp after our check; llhttp's lenient chunked-length flag is set so
// a response with CL and TE is framed by TE (RFC 9112 §6.3) and the connection is not reused;
// 1xx responses (not 101) are delivered and parsing starts over for the final response;
// read-until-close bodies end at onEof(); a 101 is delivered as the final head and the codec stops
// there for good (the connection is the caller's tunnel from the next byte on). See client_codec.h
// for the contract.
#include "proxy/http1/client_codec.h"

#include "proxy/http1/checked_execute.h"

#include <charconv>
#include <cstring>
#include <optional>

#include "proxy/http1/char_class.h"
#include "proxy/http1/chunked_body_scanner.h"
#include "proxy/http1/header_block_scanner.h"
#include "proxy/http1/llhttp_parser.h"

namespace baton::proxy::http1 {

namespace {

using core::Error;
using core::ErrorCode;

constexpr size_t kMaxStatusLineBytes = 8 * 1024;
constexpr HeaderBlockLimits kResponseHeadLimits{64 * 1024, 256 * 1024, 256};

Error protocolError(const char* detail) {
  return Error::upstream(ErrorCode::UpstreamProtocolError, false, detail);
}

// "HTTP/1.x SP 3DIGIT [SP reason]" without CRLF; the reason is HTAB / SP / VCHAR / obs-text.
core::Result<void> checkStatusLine(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
      line[9] == '0') {
    return core::fail(protocolError("bad status line"));
  }
  if (line.size() == 12) return {};
  if (line[12] != ' ') return core::fail(protocolError("bad status line"));
  for (char c : line.substr(13)) {
    if (!isFieldValueByte(c)) return core::fail(protocolError("control byte in reason phrase"));
  }
  return {};
}

bool hasCrLfNul(std::string_view s) {
  return http1::hasCrLfNul(s.data(), s.size());
}

// Why `f` may not be serialised, or nullptr: the name must be tchar only (so never CR, LF or
// NUL), the value free of CR, LF and NUL.
template <typename Field>
const char* unsafeField(const Field& f) {
  if (f.name.empty()) return "empty header name to serialise";
  if (tcharPrefix(f.name.data(), f.name.size()) != f.name.size()) {
    return "bad header name to serialise";
  }
  return hasCrLfNul(f.value) ? "CR, LF or NUL in a header to serialise" : nullptr;
}

// Appends "name: value\r\n" per field and the final "\r\n" in one pass that also checks each
// field (the last guard against header injection, whatever the source): the head is sized once
// and written in place. On a bad field `out` is left as it was.
template <typename List>
core::Result<void> appendCheckedFields(const List& headers, std::string& out) {
  size_t total = 2;
  for (const auto& f : headers) total += f.name.size() + f.value.size() + 4;
  const size_t start = out.size();
  const char* refused = nullptr;
  // The size is passed on, not read back from the second argument: libstdc++ 12 hands the
  // operation the grown capacity there instead of the size asked for.
  out.resize_and_overwrite(start + total, [&](char* p, size_t) {
    char* at = p + start;
    for (const auto& f : headers) {
      refused = unsafeField(f);
      if (refused != nullptr) return start;
      std::memcpy(at, f.name.data(), f.name.size());
      at += f.name.size();
      *at++ = ':';
      *at++ = ' ';
      std::memcpy(at, f.value.data(), f.value.size());
      at += f.value.size();
      *at++ = '\r';
      *at++ = '\n';
    }
    *at++ = '\r';
    *at++ = '\n';
    return start + total;
  });
  if (refused != nullptr) return core::fail(Error::internal(refused));
  return {};
}

}  // namespace

struct ClientCodec::Impl final : LlhttpHandler, FieldLineSink {
  enum class Phase : uint8_t { Idle, StatusLine, Head, Body, Upgraded };

  explicit Impl(ClientCodecCallbacks& callbacks)
      : cb(callbacks),
        head_scanner(kResponseHeadLimits, core::ErrorSource::Upstream),
        chunk_scanner(kResponseHeadLimits, core::ErrorSource::Upstream),
        parser(LlhttpParser::Mode::Response, *this, LlhttpParser::Fields::Skipped) {
    parser.setLenientChunkedLength(true);
    chunk_scanner.keepTrailers(true);  // an upstream's trailers go on to the client
  }

  core::Result<size_t> feed(const char* data, size_t len);
  void feedStatusLine(const char* data, size_t len, size_t& pos);
  void startMessage();
  void feedHead(const char* data, size_t len, size_t& pos);
  void feedBody(const char* data, size_t len, size_t& pos);
  void afterExecute(const LlhttpParser::Outcome& out);
  void completeResponse();
  ResponseHead buildHead();

  int onStatus(const char* at, size_t len) override;
  void onFieldLine(std::string_view line) override;
  int onHeadersComplete() override;
  int onBody(const char* at, size_t len) override;
  int onMessageComplete() override;

  ClientCodecCallbacks& cb;
  HeaderBlockScanner head_scanner;
  ChunkedBodyScanner chunk_scanner;
  LlhttpParser parser;

  Phase phase = Phase::Idle;
  bool head_request = false;
  bool chunked = false;
  bool paused = false;
  bool parser_paused = false;
  bool kick = false;
  bool extra_bytes = false;
  bool started = false;  // a byte of the current response arrived
  size_t validated_ahead = 0;
  std::string status_line;
  ResponseHead head;
  std::string held_line;  // a head line still open at the end of a read (checked_execute.h)
  std::optional<Error> error;
};

core::Result<size_t> ClientCodec::Impl::feed(const char* data, size_t len) {
  if (error) return core::fail(*error);
  size_t pos = 0;
  while (!paused && !error && phase != Phase::Idle && phase != Phase::Upgraded) {
    if (pos == len && !kick) break;
    switch (phase) {
      case Phase::StatusLine:
        if (pos == len) {
          kick = false;
          break;
        }
        feedStatusLine(data, len, pos);
        break;
      case Phase::Head:
        feedHead(data, len, pos);
        break;
      case Phase::Body:
        feedBody(data, len, pos);
        break;
      case Phase::Idle:
      case Phase::Upgraded:
        break;
    }
  }
  if (error) return core::fail(*error);
  // Upstreams get one request at a time: anything after the response (or before a request)
  // is garbage or a desync attempt, and the connection must not be pooled.
  if (phase == Phase::Idle && pos < len) extra_bytes = true;
  return pos;
}

void ClientCodec::Impl::feedStatusLine(const char* data, size_t len, size_t& pos) {
  started = true;
  const size_t avail = len - pos;
  const char* lf = static_cast<const char*>(std::memchr(data + pos, '\n', avail));
  const size_t take = lf ? static_cast<size_t>(lf - (data + pos)) + 1 : avail;
  if (status_line.size() + take > kMaxStatusLineBytes) {
    error = protocolError("status line too long");
    return;
  }
  if (lf == nullptr) {
    status_line.append(data + pos, avail);
    pos = len;
    return;
  }
  std::string_view line(data + pos, take);
  if (!status_line.empty()) {
    status_line.append(data + pos, take);
    line = status_line;
  }
  pos += take;
  if (line.size() < 2 || line[line.size() - 2] != '\r') {
    error = protocolError("bare LF in status line");
    return;
  }
  if (auto r = checkStatusLine(line.substr(0, line.size() - 2)); !r) {
    error = std::move(r.error());
    return;
  }
  startMessage();
  const auto out = parser.execute(line.data(), line.size());
  status_line.clear();
  if (out.status != LlhttpParser::Status::Ok) {
    error = parser.error(core::ErrorSource::Upstream);
    return;
  }
  phase = Phase::Head;
}

void ClientCodec::Impl::startMessage() {
  head = ResponseHead{};
  head.headers = takeHeaderList(16);  // the delivered head took the last list with it
  head_scanner.reset();
  held_line.clear();
  parser.reset();
  parser_paused = false;
}

void ClientCodec::Impl::afterExecute(const LlhttpParser::Outcome& out) {
  if (out.status == LlhttpParser::Status::Paused) parser_paused = true;
  if (out.status == LlhttpParser::Status::Error) error = parser.error(core::ErrorSource::Upstream);
}

void ClientCodec::Impl::feedHead(const char* data, size_t len, size_t& pos) {
  auto out = executeCheckedHead(head_scanner, parser, held_line, data + pos, len - pos, this);
  if (!out) {
    error = std::move(out.error());
    return;
  }
  pos += out->consumed;
  afterExecute(*out);
  if (!error && head_scanner.done() && phase == Phase::Head) {
    error = protocolError("llhttp disagrees on the end of the head");
  }
}

void ClientCodec::Impl::feedBody(const char* data, size_t len, size_t& pos) {
  const size_t avail = len - pos;
  kick = false;  // set again by onBody if it pauses
  if (!chunked) {
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
    error = protocolError("llhttp disagrees on the end of the body");
  }
}

int ClientCodec::Impl::onStatus(const char* at, size_t len) {
  head.reason.append(at, len);
  return kParseOk;
}

// A field line the scanner accepted: a tchar name, ':', a value of field-value bytes (no CR,
// LF or NUL). Split as llhttp would: OWS around the value dropped.
void ClientCodec::Impl::onFieldLine(std::string_view line) {
  // The strings are built in place (cheaper than assigning into empty ones).
  const size_t colon = line.find(':');
  head.headers.emplace_back(std::string(line.data(), colon),
                            std::string(trimOws(line.substr(colon + 1))));
}

ResponseHead ClientCodec::Impl::buildHead() {
  ResponseHead h = std::move(head);
  h.status = parser.statusCode();
  h.version_minor = parser.httpMinor();
  const bool informational = h.status >= 100 && h.status < 200;
  h.no_body = head_request || informational || h.status == 204 || h.status == 304;
  const bool te = parser.hasTransferEncoding();
  h.chunked = !h.no_body && parser.chunked();
  if (parser.hasContentLength() && !te) h.content_length = parser.contentLength();
  bool close = false, keep_alive = false;
  for (const HeaderField& f : h.headers) {
    if (!equalsIgnoreCase(f.name, "connection")) continue;
    forEachListElement(f.value, [&](std::string_view token) {
      if (equalsIgnoreCase(token, "close")) close = true;
      if (equalsIgnoreCase(token, "keep-alive")) keep_alive = true;
      return true;
    });
  }
  const bool read_until_close = !h.no_body && !h.chunked && !h.content_length;
  h.keep_alive = !close && (h.version_minor == 1 || keep_alive) &&
                 !(te && parser.hasContentLength()) && !read_until_close && h.status != 101;
  return h;
}

int ClientCodec::Impl::onHeadersComplete() {
  if (phase != Phase::Head) return kParseOk;
  ResponseHead h = buildHead();
  if (h.status >= 100 && h.status < 200 && h.status != 101) {
    // Start over for the final response; llhttp is reset at the next status line.
    phase = Phase::StatusLine;
    cb.onInformational(std::move(h));
    return kParsePause;
  }
  if (h.status == 101) {
    // Switching protocols: no body, no end; what follows the head is not HTTP.
    phase = Phase::Upgraded;
    paused = true;
    cb.onResponseHead(std::move(h));
    return kParsePause;
  }
  const bool no_body = h.no_body;
  chunked = h.chunked;
  if (chunked) {
    chunk_scanner.reset();
    validated_ahead = 0;
  }
  phase = Phase::Body;
  cb.onResponseHead(std::move(h));
  if (no_body) {
    completeResponse();
    return kParsePause;
  }
  return paused ? kParsePause : kParseOk;
}

int ClientCodec::Impl::onBody(const char* at, size_t len) {
  if (len == 0) return kParseOk;  // llhttp flushes an open span at the end of execute()
  cb.onResponseBody(at, len);
  if (!paused) return kParseOk;
  kick = true;
  return kParsePause;
}

int ClientCodec::Impl::onMessageComplete() {
  if (phase == Phase::Body) completeResponse();
  return kParsePause;
}

void ClientCodec::Impl::completeResponse() {
  phase = Phase::Idle;
  started = false;
  paused = true;
  kick = false;
  if (HeaderList trailers = chunk_scanner.takeTrailers(); !trailers.empty()) {
    cb.onResponseTrailers(std::move(trailers));
  }
  cb.onResponseComplete();
}

ClientCodec::ClientCodec(ClientCodecCallbacks& callbacks)
    : impl_(std::make_unique<Impl>(callbacks)) {}

ClientCodec::~ClientCodec() = default;

void ClientCodec::expectResponse(bool head_request) {
  impl_->head_request = head_request;
  impl_->phase = Impl::Phase::StatusLine;
  impl_->paused = false;
  impl_->started = false;
  impl_->status_line.clear();
}

core::Result<size_t> ClientCodec::feed(const char* data, size_t len) {
  return impl_->feed(data, len);
}

core::Result<void> ClientCodec::onEof() {
  Impl& s = *impl_;
  if (s.error) return core::fail(*s.error);
  if (s.phase == Impl::Phase::Idle || s.phase == Impl::Phase::Upgraded) return {};
  if (s.phase == Impl::Phase::Body && !s.chunked && s.parser.messageNeedsEof()) {
    const auto out = s.parser.finish();
    if (out.status == LlhttpParser::Status::Ok && s.phase == Impl::Phase::Idle) return {};
  }
  s.error = Error::upstream(ErrorCode::UpstreamReset, false, "upstream closed mid-response");
  return core::fail(*s.error);
}

void ClientCodec::pause() {
  impl_->paused = true;
}

void ClientCodec::resume() {
  impl_->paused = false;
  if (impl_->parser_paused) {
    impl_->parser.resume();
    impl_->parser_paused = false;
  }
}

bool ClientCodec::extraBytesAfterResponse() const {
  return impl_->extra_bytes;
}

bool ClientCodec::upgraded() const {
  return impl_->phase == Impl::Phase::Upgraded;
}

namespace {

template <typename List>
core::Result<void> serializeRequestHeadOf(std::string_view method, std::string_view target,
                                          const List& headers, std::string& out) {
  if (method.empty() || target.empty() || hasCrLfNul(method) || hasCrLfNul(target) ||
      method.find(' ') != method.npos || target.find(' ') != target.npos) {
    return core::fail(Error::internal("bad method or target to serialise"));
  }
  const size_t start = out.size();
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (auto r = appendCheckedFields(headers, out); !r) {
    out.resize(start);
    return r;
  }
  return {};
}

}  // namespace

core::Result<void> serializeRequestHead(std::string_view method, std::string_view target,
                                        const HeaderList& headers, std::string& out) {
  return serializeRequestHeadOf(method, target, headers, out);
}

core::Result<void> serializeRequestHead(std::string_view method, std::string_view target,
                                        std::span<const FieldView> headers, std::string& out) {
  return serializeRequestHeadOf(method, target, headers, out);
}

core::Result<void> serializeResponseHead(uint16_t status, std::string_view reason,
                                         const HeaderList& headers, std::string& out) {
  if (status < 100 || status > 999 || hasCrLfNul(reason)) {
    return core::fail(Error::internal("bad status or reason to serialise"));
  }
  const size_t start = out.size();
  char buf[4];
  std::to_chars(buf, buf + 3, status);
  out.append("HTTP/1.1 ").append(buf, 3).append(" ").append(reason).append("\r\n");
  if (auto r = appendCheckedFields(headers, out); !r) {
    out.resize(start);
    return r;
  }
  return {};
}

void appendChunkHeader(size_t len, std::string& out) {
  char buf[20];
  const auto r = std::to_chars(buf, buf + sizeof buf, len, 16);
  out.append(buf, r.ptr).append("\r\n");
}

void appendLastChunk(const HeaderList& trailers, std::string& out) {
  out.append("0\r\n");
  const auto clean = [](std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == s.npos;
  };
  for (const HeaderField& t : trailers) {
    const bool token =
        !t.name.empty() && tcharPrefix(t.name.data(), t.name.size()) == t.name.size();
    if (!token || !clean(t.value) || !trailerForwardable(t.name)) continue;
    out.append(t.name).append(": ").append(t.value).append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace baton::proxy::http1
