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
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http1/message.h"

namespace baton::proxy::http2 {

// CR, LF or NUL: never valid in an HTTP/2 field we pass on.
bool hasForbiddenByte(std::string_view s);
// ASCII lowercase (HTTP/2 field names are lowercase on the wire).
std::string lowercase(std::string_view s);

// A direction's rule for fields that never go out (RFC 9113 §8.2.2); `lower_name` is already
// lowercased.
using DroppedField = bool (*)(std::string_view lower_name, std::string_view value);

// Owns the strings an nghttp2_nv array points at until the submit call copied them. Use: add()
// pseudo-headers, addFields() the rest, build(), then pass nva.data()/nva.size() to nghttp2.
struct NvList {
  std::vector<std::string> storage;  // name, value, name, value, ...
  std::vector<nghttp2_nv> nva;       // filled by build(); points into storage

  void reserve(size_t fields) { storage.reserve(fields * 2); }
  void add(std::string name, std::string value);
  // Every field of `headers` lowercased, except empty or pseudo names, fields `dropped` says
  // never go out, and fields with a forbidden byte (skipped, not an error: they came from a
  // peer that already got past our decoders).
  void addFields(const http1::HeaderList& headers, DroppedField dropped);
  // Points nva at storage; call after the last add.
  void build();
};

}  // namespace baton::proxy::http2
