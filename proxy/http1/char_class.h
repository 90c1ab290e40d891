// Byte classes of RFC 9110/9112 shared by the HTTP/1 scanners (request line, header block,
// chunked body, status line). Constexpr tables, no state; usable from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

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

// How many leading bytes of [p, p+len) are plain text: SP, VCHAR or obs-text (0x20-0x7e,
// 0x80-0xff), looked at eight at a time; a multiple of 8. Stops before the first word holding
// anything else (a control byte, HTAB, DEL) or fewer than 8 bytes: the caller's byte loop judges
// the rest. Header values are almost all plain text, and a byte loop per value was the largest
// cost of the header checks on both codecs' paths.
inline size_t plainTextPrefix(const char* p, size_t len) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t n = 0;
  while (len - n >= 8) {
    uint64_t w;
    std::memcpy(&w, p + n, 8);
    // A byte below 0x20 (high bit clear): subtracting 0x20 borrows into its high bit. Exact as a
    // yes/no answer (a borrow reaches a higher byte only past a byte that is itself below 0x20).
    const uint64_t below_space = (w - 0x20 * kOnes) & ~w & kHigh;
    const uint64_t x = w ^ (0x7f * kOnes);  // DEL becomes zero
    const uint64_t del = (x - kOnes) & ~x & kHigh;
    if ((below_space | del) != 0) break;
    n += 8;
  }
  return n;
}

// How many leading bytes of [p, p+len) are tchar. Four table lookups per branch: names are
// short, and a byte-at-a-time loop was most of what judging one cost.
inline size_t tcharPrefix(const char* p, size_t len) {
  size_t i = 0;
  // unsigned, not bool: `&` keeps it branch-free (clang's -Wbitwise-instead-of-logical).
  const auto t = [p](size_t at) { return static_cast<unsigned>(isTchar(p[at])); };
  while (len - i >= 4 && (t(i) & t(i + 1) & t(i + 2) & t(i + 3))) {
    i += 4;
  }
  while (i < len && isTchar(p[i])) ++i;
  return i;
}

namespace char_class_detail {

constexpr uint64_t kOnes = 0x0101010101010101ULL;

// High bit set in each zero byte of `w` (exact as a yes/no answer, see plainTextPrefix).
constexpr uint64_t zeroBytes(uint64_t w) {
  return (w - kOnes) & ~w & 0x8080808080808080ULL;
}

// One branch for the three tests: values almost never hold any of these bytes.
inline bool wordHasCrLfNul(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return (zeroBytes(w) | zeroBytes(w ^ ('\r' * kOnes)) | zeroBytes(w ^ ('\n' * kOnes))) != 0;
}

}  // namespace char_class_detail

// CR, LF or NUL anywhere in [p, p+len): bytes that must never reach an HTTP/1 peer inside a field.
// Eight bytes a test; the last word overlaps the one before it instead of a byte loop over the
// rest (a byte looked at twice gives the same answer).
inline bool hasCrLfNul(const char* p, size_t len) {
  if (len < 8) {
    for (size_t i = 0; i < len; ++i) {
      const char c = p[i];
      if (static_cast<unsigned char>(c) <= '\r' && (c == '\r' || c == '\n' || c == '\0')) {
        return true;
      }
    }
    return false;
  }
  for (size_t i = 0; len - i > 8; i += 8) {
    if (char_class_detail::wordHasCrLfNul(p + i)) return true;
  }
  return char_class_detail::wordHasCrLfNul(p + len - 8);
}

}  // namespace baton::proxy::http1
