// Header fields on their way out to nghttp2, shared by the two codecs: ServerSession (response
// heads, 1xx, response trailers) and ClientSession (request heads, request trailers) both turn
// an http1::HeaderList into an nghttp2_nv array here. Included only by server_session.cc,
// client_session.cc and outbound_stream.cc (nghttp2 stays inside proxy/http/http2/).
//
// Why one place: what may leave on HTTP/2 must be the same both ways — names lowercased
// (RFC 9113 §8.2.1), no pseudo-header smuggled in from an HTTP/1 list, and no CR/LF/NUL in a
// name or value (hasForbiddenByte also guards what the sessions decode, so those bytes never
// reach an HTTP/1 peer). Which connection-specific fields are dropped differs per direction: the
// caller passes its own rule.
//
// Threading: plain functions and values, used on the session's thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http1/message.h"

namespace baton::proxy::http2 {

// CR, LF or NUL: never valid in an HTTP/2 field we pass on.
bool hasForbiddenByte(std::string_view s);
// The lowercase copy at static storage of a common field name (`name` in any case), or an empty
// view for any other name. Exposed for tests.
std::string_view staticName(std::string_view name);
// ASCII lowercase (HTTP/2 field names are lowercase on the wire).
std::string lowercase(std::string_view s);
// True when `s` has an ASCII capital letter (needs lowercase() before going out).
bool hasUppercase(std::string_view s);

// A direction's rule for fields that never go out (RFC 9113 §8.2.2); `lower_name` is already
// lowercased.
using DroppedField = bool (*)(std::string_view lower_name, std::string_view value);

// An nghttp2_nv array for one submit call, built without a string per field: values and names
// that are already lowercase point at the caller's bytes, lowercased names go into one inline
// buffer, numbers (:status, content-length) into another. nghttp2 copies the array and its bytes
// inside the submit call, so everything added need only outlive that call — except the names
// marked NGHTTP2_NV_FLAG_NO_COPY_NAME, which nghttp2 keeps pointing at until the frame is sent:
// those are string literals (add()/addNumber() names, and the static lowercase copy of a known
// name such as "content-type" that addFields() puts out instead of the field's own), so nghttp2
// need not copy and lowercase them per field. Not copyable or movable (the array points into the
// list itself). Use: add()/addNumber() pseudo-headers, addFields() the rest, then pass
// data()/size() to nghttp2.
// The name add()/addNumber() take: a string literal (nghttp2 keeps a pointer to it, flagged
// NGHTTP2_NV_FLAG_NO_COPY_NAME), lowercase (checked at compile time): only a literal converts.
class LiteralName {
 public:
  template <size_t N>
  consteval LiteralName(const char (&name)[N])  // NOLINT: implicit, from the literal
      : name_(name, N - 1) {
    for (size_t i = 0; i + 1 < N; ++i) {
      if (name[i] >= 'A' && name[i] <= 'Z') throw "an HTTP/2 field name must be lowercase";
    }
  }
  std::string_view view() const { return name_; }

 private:
  std::string_view name_;
};

class NvList {
 public:
  NvList() = default;
  NvList(const NvList&) = delete;
  NvList& operator=(const NvList&) = delete;

  // Up to kInlineFields entries live inside the list (no allocation for a usual head).
  void reserve(size_t fields);
  // `name`: pseudo-headers and fixed names (nghttp2 keeps it, see LiteralName).
  void add(LiteralName name, std::string_view value);
  // `value` in decimal.
  void addNumber(LiteralName name, uint64_t value);
  // Every field of `headers` with its name lowercased, except empty or pseudo names, fields
  // `dropped` says never go out, and fields with a forbidden byte (skipped, not an error: they
  // came from a peer that already got past our decoders).
  void addFields(const http1::HeaderList& headers, DroppedField dropped);

  nghttp2_nv* data() { return spilled_ ? heap_.data() : inline_; }
  size_t size() const { return spilled_ ? heap_.size() : count_; }

 private:
  void push(const nghttp2_nv& nv);
  // A lowercase copy of `name` that stays put until the list dies.
  std::string_view lowered(std::string_view name);
  // `name` as it goes out: lowercased into names_ when it has a capital, else as is; false
  // when it holds CR, LF or NUL. One pass over the bytes.
  bool outgoingName(std::string_view name, std::string_view& out);
  void spill(size_t capacity);

  static constexpr size_t kInlineFields = 32;
  nghttp2_nv inline_[kInlineFields];
  size_t count_ = 0;
  bool spilled_ = false;  // past kInlineFields: every entry is in heap_
  std::vector<nghttp2_nv> heap_;
  // Lowercased names: response heads from HTTP/1 upstreams are mostly "Content-Type" style.
  // Names past the inline buffer (a huge head) go to `spill_`, whose strings never move.
  static constexpr size_t kInlineNameBytes = 512;
  static constexpr size_t kWordSlack = 8;  // outgoingName writes whole eight-byte words
  char names_[kInlineNameBytes + kWordSlack];
  size_t names_used_ = 0;
  std::forward_list<std::string> spill_;
  static constexpr size_t kMaxNumbers = 2;  // :status and content-length
  char numbers_[kMaxNumbers][24];
  size_t numbers_used_ = 0;
  std::forward_list<std::string> spill_numbers_;
};

}  // namespace baton::proxy::http2
