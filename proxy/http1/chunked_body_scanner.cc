// See chunked_body_scanner.h.
#include "proxy/http1/chunked_body_scanner.h"

#include <cstring>

#include <algorithm>

#include "proxy/http1/char_class.h"

namespace baton::proxy::http1 {

namespace {

// qdtext of RFC 9110 §5.6.4: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. (0x5C, the
// quoted-pair backslash, is not qdtext.)
bool isQdtext(char ch) {
  const auto c = static_cast<uint8_t>(ch);
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

}  // namespace

ChunkedBodyScanner::ChunkedBodyScanner(const HeaderBlockLimits& trailer_limits,
                                       core::ErrorSource source)
    : source_(source), trailers_(trailer_limits, source) {
  trailers_.refuseTransferEncoding();  // llhttp refused it; it never sees trailers now
}

void ChunkedBodyScanner::reset() {
  trailers_.reset();
  releaseTrailerBytes();
  state_ = State::SizeStart;
  chunk_size_ = 0;
  remaining_ = 0;
  declared_total_ = 0;
  body_limit_ = 0;
  digits_ = 0;
  ext_bytes_ = 0;
}

core::Error ChunkedBodyScanner::error(const char* detail) const {
  if (source_ == core::ErrorSource::Upstream) {
    return core::Error::upstream(core::ErrorCode::UpstreamProtocolError, false, detail);
  }
  return core::Error::downstream(core::ErrorCode::BadFraming, detail);
}

bool ChunkedBodyScanner::isExtensionByte(char next) const {
  // A CR inside an extension either ends the line (SizeLf) or is refused by step(): in both
  // cases llhttp must see it (or nothing further happens).
  if (inExtension()) return next != '\r';
  if (state_ == State::Trailers) return trailers_.inFieldLine(next);
  return state_ == State::Size && next == ';';
}

core::Result<size_t> ChunkedBodyScanner::consume(const char* data, size_t len) {
  return consumeImpl(data, len, Run::All);
}

core::Result<size_t> ChunkedBodyScanner::consumeRun(const char* data, size_t len, bool extension) {
  return consumeImpl(data, len, extension ? Run::Extension : Run::Body);
}

core::Result<size_t> ChunkedBodyScanner::consumeImpl(const char* data, size_t len, Run run) {
  size_t i = 0;
  while (i < len && state_ != State::Done) {
    if (run != Run::All && isExtensionByte(data[i]) != (run == Run::Extension)) break;
    if (state_ == State::Data) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len - i));
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::DataCr;
      continue;
    }
    if (state_ == State::Trailers) {
      // A skipped run is whole trailer lines: stop after each LF so the loop re-checks.
      size_t n = len - i;
      if (run == Run::Extension) {
        const void* lf = std::memchr(data + i, '\n', n);
        if (lf != nullptr) n = static_cast<size_t>(static_cast<const char*>(lf) - (data + i)) + 1;
      }
      auto r = trailers_.consume(data + i, n);
      if (!r) return core::fail(std::move(r.error()));
      // The final CRLF alone is not worth keeping: a body without trailers allocates nothing.
      if (keep_trailers_ && (!trailer_bytes_.empty() || !trailers_.done())) {
        trailer_bytes_.append(data + i, *r);
      }
      i += *r;
      if (trailers_.done()) state_ = State::Done;
      continue;
    }
    auto r = step(data[i]);
    if (!r) return core::fail(std::move(r.error()));
    ++i;
  }
  return i;
}

// After an extension name, token or quoted value: another extension or the end of the line.
core::Result<void> ChunkedBodyScanner::afterExtension(char c) {
  if (c == ';') {
    state_ = State::ExtNameStart;
  } else if (c == '\r') {
    state_ = State::SizeLf;
  } else {
    return core::fail(error("bad chunk extension"));
  }
  return {};
}

core::Result<void> ChunkedBodyScanner::step(char c) {
  if (state_ >= State::ExtNameStart && state_ <= State::ExtQuotedEnd &&
      ++ext_bytes_ > kMaxExtensionBytes) {
    return core::fail(error("chunk extension too long"));
  }
  switch (state_) {
    case State::SizeStart:
    case State::Size: {
      const int v = hexValue(c);
      if (v >= 0) {
        if (++digits_ > kMaxSizeDigits) return core::fail(error("chunk size too long"));
        chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(v);
        state_ = State::Size;
      } else if (state_ == State::SizeStart) {
        return core::fail(error("bad chunk size"));
      } else if (c == ';') {
        state_ = State::ExtNameStart;
      } else if (c == '\r') {
        state_ = State::SizeLf;
      } else {
        return core::fail(error("bad byte after chunk size"));
      }
      return {};
    }
    case State::ExtNameStart:
      if (!isTchar(c)) return core::fail(error("bad chunk extension name"));
      state_ = State::ExtName;
      return {};
    case State::ExtName:
      if (isTchar(c)) return {};
      if (c == '=') {
        state_ = State::ExtValueStart;
        return {};
      }
      return afterExtension(c);
    case State::ExtValueStart:
      if (c == '"') {
        state_ = State::ExtQuoted;
      } else if (isTchar(c)) {
        state_ = State::ExtToken;
      } else {
        return core::fail(error("bad chunk extension value"));
      }
      return {};
    case State::ExtToken:
      if (isTchar(c)) return {};
      return afterExtension(c);
    case State::ExtQuoted:
      if (c == '"') {
        state_ = State::ExtQuotedEnd;
      } else if (!isQdtext(c)) {  // also refuses quoted-pair, which llhttp 8.1 does not parse
        return core::fail(error("bad byte in quoted chunk extension"));
      }
      return {};
    case State::ExtQuotedEnd:
      return afterExtension(c);
    case State::SizeLf:
      if (c != '\n') return core::fail(error("bare CR in chunk size line"));
      if (body_limit_ != 0 &&
          (chunk_size_ > body_limit_ || declared_total_ > body_limit_ - chunk_size_)) {
        return core::fail(core::Error{core::ErrorCode::BodyTooLarge, source_, false,
                                      "declared chunk sizes exceed the body limit"});
      }
      declared_total_ += chunk_size_;
      remaining_ = chunk_size_;
      state_ = chunk_size_ == 0 ? State::Trailers : State::Data;
      chunk_size_ = 0;
      digits_ = 0;
      ext_bytes_ = 0;
      return {};
    case State::DataCr:
      if (c != '\r') return core::fail(error("chunk data not followed by CRLF"));
      state_ = State::DataLf;
      return {};
    case State::DataLf:
      if (c != '\n') return core::fail(error("chunk data not followed by CRLF"));
      state_ = State::SizeStart;
      return {};
    case State::Data:
    case State::Trailers:
    case State::Done:
      break;
  }
  return {};
}

HeaderList ChunkedBodyScanner::takeTrailers() {
  HeaderList out;
  std::string_view rest = trailer_bytes_;
  // Lines as trailers_ checked them: "name:" OWS value OWS CRLF (a bare LF ends one too), then
  // the empty line.
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (line.empty() || colon == std::string_view::npos || colon == 0) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (!trailerForwardable(name)) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    out.push_back({std::move(name), std::string(value)});
  }
  releaseTrailerBytes();
  return out;
}

// A large section is not kept at its capacity on a pooled connection.
void ChunkedBodyScanner::releaseTrailerBytes() {
  if (trailer_bytes_.capacity() > 1024) {
    std::string().swap(trailer_bytes_);
  } else {
    trailer_bytes_.clear();
  }
}

bool trailerForwardable(std::string_view name) {
  static constexpr std::string_view kNever[] = {
      "transfer-encoding",   "content-length",   "trailer", "host",    "connection",
      "keep-alive",          "proxy-connection", "te",      "upgrade", "proxy-authenticate",
      "proxy-authorization",
  };
  for (std::string_view n : kNever) {
    if (n == name) return false;
  }
  return true;
}

}  // namespace baton::proxy::http1
