// Request-line grammar and the url-policy.md target byte table. See the header for the rules.
#include "proxy/http1/request_line_scanner.h"

#include <algorithm>
#include <cstring>

#include "proxy/http1/char_class.h"
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

namespace {

using core::Error;
using core::ErrorCode;

core::Result<RequestLine> badLine(std::string_view why) {
  return core::fail(Error::downstream(ErrorCode::BadRequestLine, std::string(why)));
}

// Forbidden in the target: every C0 control (HTAB, VT, FF, CR, LF, NUL, ...) and DEL.
bool forbiddenTargetByte(char c) {
  return isCtl(static_cast<uint8_t>(c));
}

core::Result<uint8_t> parseVersion(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' ||
      !isDigit(v[7])) {
    return core::fail(Error::downstream(ErrorCode::BadRequestLine, "malformed HTTP version"));
  }
  if (v[5] == '1' && (v[7] == '0' || v[7] == '1')) return static_cast<uint8_t>(v[7] - '0');
  return core::fail(Error::downstream(ErrorCode::UnsupportedVersion, std::string(v)));
}

}  // namespace

core::Result<RequestLine> RequestLineScanner::parse(std::string_view line) {
  RequestLine out;
  size_t i = 0;
  while (i < line.size() && isTchar(line[i])) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return badLine("bad method token");
  out.method = line.substr(0, i);
  const size_t target_begin = ++i;
  while (i < line.size() && line[i] != ' ') {
    if (forbiddenTargetByte(line[i])) {
      return core::fail(
          Error::downstream(ErrorCode::BadRequestTarget, "control byte in request target"));
    }
    ++i;
  }
  if (i == target_begin) return badLine("empty target or two spaces");
  if (i == line.size()) return badLine("missing HTTP version (HTTP/0.9)");
  out.target = line.substr(target_begin, i - target_begin);
  auto version = parseVersion(line.substr(i + 1));
  if (!version) return core::fail(std::move(version.error()));
  out.version_minor = *version;
  if (equalsIgnoreCase(out.method, "CONNECT") || equalsIgnoreCase(out.method, "TRACE")) {
    return core::fail(Error::downstream(ErrorCode::MethodNotAllowed, std::string(out.method)));
  }
  return out;
}

void RequestLineScanner::reset() {
  buffer_.clear();
  line_ = RequestLine{};
  done_ = false;
}

core::Result<void> RequestLineScanner::finishLine(std::string_view line, bool& skipped_empty) {
  skipped_empty = false;
  if (line.empty() || line.back() != '\r') {
    return core::fail(Error::downstream(ErrorCode::BadRequestLine, "bare LF in request line"));
  }
  line.remove_suffix(1);
  if (line.empty()) {  // an empty line before the request (RFC 9112 §2.2): skip it
    skipped_empty = true;
    buffer_.clear();
    return {};
  }
  if (line.size() > max_line_bytes_) {
    return core::fail(Error::downstream(ErrorCode::RequestLineTooLong));
  }
  auto parsed = parse(line);
  if (!parsed) return core::fail(std::move(parsed.error()));
  line_ = *parsed;
  done_ = true;
  return {};
}

core::Result<size_t> RequestLineScanner::consume(const char* data, size_t len) {
  // A line may be max_line_bytes_ long plus CR LF.
  const size_t max_total = static_cast<size_t>(max_line_bytes_) + 2;
  size_t pos = 0;
  while (!done_ && pos < len) {
    const size_t room = max_total - std::min(buffer_.size(), max_total);
    const size_t window = std::min(len - pos, room);
    const char* start = data + pos;
    const char* lf = static_cast<const char*>(std::memchr(start, '\n', window));
    if (lf == nullptr) {
      if (buffer_.size() + (len - pos) >= max_total) {
        return core::fail(Error::downstream(ErrorCode::RequestLineTooLong));
      }
      buffer_.append(start, len - pos);
      return len;
    }
    const size_t n = static_cast<size_t>(lf - start);
    pos += n + 1;
    bool skipped = false;
    core::Result<void> r;
    if (buffer_.empty()) {
      r = finishLine(std::string_view(start, n), skipped);  // fast path: no copy
    } else {
      buffer_.append(start, n);
      r = finishLine(buffer_, skipped);
    }
    if (!r) return core::fail(std::move(r.error()));
  }
  return pos;
}

}  // namespace baton::proxy::http1
