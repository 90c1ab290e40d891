// See llhttp_parser.h. The only translation unit that includes llhttp.h.
#include "proxy/http1/llhttp_parser.h"

#include <llhttp.h>

#include <new>
#include <string>

namespace baton::proxy::http1 {

static_assert(sizeof(llhttp_t) <= 128, "grow LlhttpParser::kStateBytes");
static_assert(kParsePause == HPE_PAUSED);

namespace {

LlhttpHandler& handlerOf(llhttp_t* p) {
  return *static_cast<LlhttpHandler*>(p->data);
}

int onStatus(llhttp_t* p, const char* at, size_t n) {
  return handlerOf(p).onStatus(at, n);
}
int onHeaderField(llhttp_t* p, const char* at, size_t n) {
  return handlerOf(p).onHeaderField(at, n);
}
int onHeaderValue(llhttp_t* p, const char* at, size_t n) {
  return handlerOf(p).onHeaderValue(at, n);
}
int onHeaderValueComplete(llhttp_t* p) {
  return handlerOf(p).onHeaderValueComplete();
}
int onHeadersComplete(llhttp_t* p) {
  return handlerOf(p).onHeadersComplete();
}
int onBody(llhttp_t* p, const char* at, size_t n) {
  return handlerOf(p).onBody(at, n);
}
int onMessageComplete(llhttp_t* p) {
  return handlerOf(p).onMessageComplete();
}

llhttp_settings_t makeSettings(LlhttpParser::Fields fields) {
  llhttp_settings_t t;
  llhttp_settings_init(&t);
  t.on_status = onStatus;
  if (fields == LlhttpParser::Fields::Delivered) {
    t.on_header_field = onHeaderField;
    t.on_header_value = onHeaderValue;
    t.on_header_value_complete = onHeaderValueComplete;
  }
  t.on_headers_complete = onHeadersComplete;
  t.on_body = onBody;
  t.on_message_complete = onMessageComplete;
  return t;
}

const llhttp_settings_t& settings(LlhttpParser::Fields fields) {
  static const llhttp_settings_t delivered = makeSettings(LlhttpParser::Fields::Delivered);
  static const llhttp_settings_t skipped = makeSettings(LlhttpParser::Fields::Skipped);
  return fields == LlhttpParser::Fields::Delivered ? delivered : skipped;
}

core::ErrorCode downstreamCode(int e) {
  using core::ErrorCode;
  switch (e) {
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
    case HPE_INVALID_TRANSFER_ENCODING:
    case HPE_INVALID_CHUNK_SIZE:
      return ErrorCode::BadFraming;
    case HPE_INVALID_HEADER_TOKEN:
    case HPE_INVALID_CONSTANT:
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
    case HPE_UNEXPECTED_SPACE:
      return ErrorCode::BadHeader;
    case HPE_INVALID_METHOD:
    case HPE_INVALID_URL:
      return ErrorCode::BadRequestLine;
    case HPE_INVALID_VERSION:
      return ErrorCode::UnsupportedVersion;
    case HPE_INVALID_EOF_STATE:
      return ErrorCode::DownstreamClosed;
    default:
      return ErrorCode::BadRequest;
  }
}

}  // namespace

#define BATON_LLHTTP std::launder(reinterpret_cast<llhttp_t*>(state_))
#define BATON_LLHTTP_CONST std::launder(reinterpret_cast<const llhttp_t*>(state_))

LlhttpParser::LlhttpParser(Mode mode, LlhttpHandler& handler, Fields fields) : handler_(handler) {
  new (state_) llhttp_t;  // a C struct; llhttp_init() fills it
  llhttp_init(BATON_LLHTTP, mode == Mode::Request ? HTTP_REQUEST : HTTP_RESPONSE,
              &settings(fields));
  BATON_LLHTTP->data = &handler_;
}

LlhttpParser::~LlhttpParser() = default;

LlhttpParser::Outcome LlhttpParser::execute(const char* data, size_t len) {
  static const char kEmpty[1] = {0};
  if (data == nullptr) data = kEmpty;
  const llhttp_errno_t e = llhttp_execute(BATON_LLHTTP, data, len);
  last_errno_ = e;
  if (e == HPE_OK) return {Status::Ok, len};
  const char* pos = llhttp_get_error_pos(BATON_LLHTTP);
  const size_t consumed = (pos != nullptr && pos >= data) ? static_cast<size_t>(pos - data) : 0;
  if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) return {Status::Paused, consumed};
  return {Status::Error, consumed};
}

LlhttpParser::Outcome LlhttpParser::finish() {
  const llhttp_errno_t e = llhttp_finish(BATON_LLHTTP);
  if (e == HPE_OK || e == HPE_PAUSED) return {Status::Ok, 0};
  last_errno_ = e;
  return {Status::Error, 0};
}

void LlhttpParser::resume() {
  if (last_errno_ == HPE_PAUSED) llhttp_resume(BATON_LLHTTP);
  if (last_errno_ == HPE_PAUSED_UPGRADE) llhttp_resume_after_upgrade(BATON_LLHTTP);
  last_errno_ = HPE_OK;
}

void LlhttpParser::reset() {
  llhttp_reset(BATON_LLHTTP);
  last_errno_ = HPE_OK;
}

void LlhttpParser::setLenientChunkedLength(bool enabled) {
  llhttp_set_lenient_chunked_length(BATON_LLHTTP, enabled ? 1 : 0);
}

uint8_t LlhttpParser::httpMinor() const {
  return BATON_LLHTTP_CONST->http_minor;
}
uint16_t LlhttpParser::statusCode() const {
  return BATON_LLHTTP_CONST->status_code;
}
bool LlhttpParser::chunked() const {
  return (BATON_LLHTTP_CONST->flags & F_CHUNKED) != 0;
}
bool LlhttpParser::hasContentLength() const {
  return (BATON_LLHTTP_CONST->flags & F_CONTENT_LENGTH) != 0;
}
bool LlhttpParser::hasTransferEncoding() const {
  return (BATON_LLHTTP_CONST->flags & F_TRANSFER_ENCODING) != 0;
}
uint64_t LlhttpParser::contentLength() const {
  return BATON_LLHTTP_CONST->content_length;
}
bool LlhttpParser::messageNeedsEof() const {
  return llhttp_message_needs_eof(BATON_LLHTTP_CONST) != 0;
}

core::Error LlhttpParser::error(core::ErrorSource source) const {
  const char* reason = llhttp_get_error_reason(BATON_LLHTTP_CONST);
  std::string detail = std::string("llhttp: ") +
                       llhttp_errno_name(static_cast<llhttp_errno_t>(last_errno_)) +
                       (reason != nullptr ? std::string(" ") + reason : std::string());
  if (source == core::ErrorSource::Upstream) {
    const auto code = last_errno_ == HPE_INVALID_EOF_STATE ? core::ErrorCode::UpstreamReset
                                                           : core::ErrorCode::UpstreamProtocolError;
    return core::Error::upstream(code, false, std::move(detail));
  }
  return core::Error::downstream(downstreamCode(last_errno_), std::move(detail));
}

#undef BATON_LLHTTP
#undef BATON_LLHTTP_CONST

}  // namespace baton::proxy::http1
