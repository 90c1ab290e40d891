// The split's walk over the raw bytes of a Marathon app document (parse_apps.cc): JSON values
// skipped by their brackets and quotes, and each app's print, the hash that tells an unchanged
// app without parsing it (see "raw app prints" in app_print.cc).
//
// Pure functions of the bytes, used by AppsParser on the resync thread and its parse helper.
// Every function may read up to 64 bytes past doc's end: the caller's document is followed by
// that much readable padding (AppsParser::kPadding, zero-filled).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace baton::discovery {

// What the split's walk over one app's bytes found: a fingerprint of the bytes themselves,
// the first test of whether the app is unchanged (see scanApp).
struct SpanPrint {
  uint64_t value = 0;
  std::string_view id;  // the app's first "id" member, as written (no escapes)
  bool usable = false;  // an object with such an id, and nothing in it the scan cannot follow
};

// Inline: the walks call skipSpace around every key and value of every task's health results
// (Marathon writes no whitespace, so it usually returns at once).
inline bool isJsonSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
inline size_t skipSpace(std::string_view doc, size_t pos) {
  while (pos < doc.size() && isJsonSpace(doc[pos])) ++pos;
  return pos;
}
// `pos` at an opening quote: the index after the closing one (npos if unterminated).
size_t skipString(std::string_view doc, size_t pos);
// The end of the value starting at `pos` as far as its brackets and quotes tell (simdjson then
// says whether it is valid JSON); npos if it never ends.
size_t skipValue(std::string_view doc, size_t pos);

// skipValue for an app of the "apps" array, printing it on the way: 64 bytes a step (bit masks
// of quotes, backslashes and brackets), the strings and brackets visited in order from them.
size_t scanApp(std::string_view doc, size_t pos, SpanPrint& print);
// The same, visiting the quotes and brackets one find at a time: the reference scanApp must
// match on every valid document (tests compare the two).
size_t scanAppByteWalk(std::string_view doc, size_t pos, SpanPrint& print);

}  // namespace baton::discovery
