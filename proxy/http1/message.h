// HTTP/1 message heads as the codecs deliver them. Header fields keep their order, their
// duplicates and their names as sent (lookups are case-insensitive); values are materialised
// once when the head is complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baton::proxy::http1 {

struct HeaderField {
  std::string name;
  std::string value;
};

using HeaderList = std::vector<HeaderField>;

// Emptied header lists kept per thread with their capacity, for the lists made per request by
// the thousand under HTTP/2 (a request's fields, a response's): reserving a fresh one per
// request went past jemalloc's small per-thread cache in every burst (~700 instructions per
// allocation by callgrind; core/recycled_blocks.h). takeHeaderList() returns an empty list with
// room for at least `fields`; recycleHeaderList() takes `list`'s vector into the stock (emptied,
// its strings freed; `list` is left empty) when the stock has room and the vector is not
// oversized, else leaves `list` as it is. Threading: a stock per thread.
HeaderList takeHeaderList(size_t fields);
void recycleHeaderList(HeaderList& list);

// A field whose bytes live elsewhere (the request's own fields, the forwarding context): the
// upstream HTTP/1 request head is written from these without copying each field into a string.
struct FieldView {
  std::string_view name;
  std::string_view value;
};
using FieldViewList = std::vector<FieldView>;

// Case-insensitive ASCII comparison of two strings of the same length.
bool equalsIgnoreCaseSameSize(std::string_view a, std::string_view b);
// Case-insensitive ASCII comparison for header names and tokens. The length test is inline:
// most callers scan every field of a head for one name, and most lengths differ.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && equalsIgnoreCaseSameSize(a, b);
}
// First value of `name`, or nullptr.
const std::string* findHeader(const HeaderList& headers, std::string_view name);
size_t countHeader(const HeaderList& headers, std::string_view name);

// Strips optional whitespace (SP, HTAB) from both ends of a field value or list element.
inline std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls f(element) for each element of a comma-separated field value (RFC 9110 §5.6.1), OWS
// trimmed, empty elements skipped. f returns false to stop early.
template <typename F>
void forEachListElement(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = trimOws(list.substr(0, comma));
    if (!element.empty() && !f(element)) return;
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

struct RequestHead {
  std::string method;         // a validated token, as sent (case-sensitive per RFC 9110)
  std::string target;         // raw request target exactly as sent (before the URL policy)
  uint8_t version_minor = 1;  // HTTP/1.0 or HTTP/1.1 only; anything else was refused
  HeaderList headers;
  // Framing, already validated by the codec (hostile-inputs.md):
  bool chunked = false;                    // Transfer-Encoding: chunked (the only TE accepted)
  std::optional<uint64_t> content_length;  // a single valid Content-Length
  bool keep_alive = true;                  // from version + Connection tokens
  bool expect_continue = false;            // "Expect: 100-continue" (other expectations -> 417)
  bool upgrade = false;                    // Connection: upgrade + Upgrade present
  // An HTTP/2 WebSocket (RFC 8441: CONNECT with :protocol websocket), translated by the HTTP/2
  // codec into the HTTP/1.1 handshake's GET (Upgrade: websocket, a fresh Sec-WebSocket-Key).
  // The stream answers it with the upstream's 101 as a 200, then tunnels DATA frames.
  bool extended_connect = false;
  bool hasBody() const { return chunked || (content_length && *content_length > 0); }
};

struct ResponseHead {
  uint16_t status = 0;
  uint8_t version_minor = 1;
  std::string reason;
  HeaderList headers;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  bool keep_alive = true;  // false: the upstream connection must not be reused
  // No body by definition (HEAD request, 1xx, 204, 304) — set by the client codec.
  bool no_body = false;
};

}  // namespace baton::proxy::http1
