// Byte classes of RFC 9110/9112 shared by the HTTP/1 scanners (request line, header block,
// chunked body, status line). Constexpr tables, no state; usable from any thread.
#pragma once

#include <array>
#include <cstdint>

namespace baton::proxy::http1 {

namespace char_class_detail {

constexpr std::array<bool, 256> makeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'}) {
    t[static_cast<uint8_t>(c)] = true;
  }
  return t;
}

// Field-value bytes: HTAB, SP, VCHAR, obs-text. Everything else (CR, LF, NUL, other C0, DEL)
// is refused, which is stricter than llhttp 8.1.
constexpr std::array<bool, 256> makeFieldValueTable() {
  std::array<bool, 256> t{};
  t['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c) t[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = true;
  return t;
}

inline constexpr std::array<bool, 256> kTchar = makeTcharTable();
inline constexpr std::array<bool, 256> kFieldValue = makeFieldValueTable();

}  // namespace char_class_detail

// RFC 9110 tchar: the bytes of a token (method, header name, coding name).
constexpr bool isTchar(uint8_t c) {
  return char_class_detail::kTchar[c];
}
constexpr bool isTchar(char c) {
  return isTchar(static_cast<uint8_t>(c));
}

constexpr bool isFieldValueByte(uint8_t c) {
  return char_class_detail::kFieldValue[c];
}
constexpr bool isFieldValueByte(char c) {
  return isFieldValueByte(static_cast<uint8_t>(c));
}

// Control bytes (C0 and DEL).
constexpr bool isCtl(uint8_t c) {
  return c < 0x20 || c == 0x7f;
}

constexpr bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Value of a hex digit, or -1.
constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace baton::proxy::http1
