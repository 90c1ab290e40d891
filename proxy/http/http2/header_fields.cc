// Outgoing header fields as nghttp2_nv: see header_fields.h.
#include "proxy/http/http2/header_fields.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "proxy/http1/char_class.h"

namespace baton::proxy::http2 {

namespace {

nghttp2_nv makeNv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool hasForbiddenByte(std::string_view s) {
  return http1::hasCrLfNul(s.data(), s.size());  // eight bytes at a time
}

bool hasUppercase(std::string_view s) {
  for (const char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

void NvList::reserve(size_t fields) {
  if (fields > kInlineFields) spill(fields);
}

void NvList::spill(size_t capacity) {
  if (!spilled_) {
    heap_.reserve(std::max(capacity, 2 * kInlineFields));
    heap_.assign(inline_, inline_ + count_);
    spilled_ = true;
  } else {
    heap_.reserve(capacity);
  }
}

void NvList::add(std::string_view name, std::string_view value) {
  if (!spilled_ && count_ < kInlineFields) {
    inline_[count_++] = makeNv(name, value);
    return;
  }
  if (!spilled_) spill(2 * kInlineFields);
  heap_.push_back(makeNv(name, value));
}

void NvList::addNumber(std::string_view name, uint64_t value) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof(buf), value).ptr;
  const size_t len = static_cast<size_t>(end - buf);
  char* at = nullptr;
  if (numbers_used_ < kMaxNumbers) {
    at = numbers_[numbers_used_++];
  } else {
    at = spill_numbers_.emplace_front(len, '\0').data();
  }
  std::memcpy(at, buf, len);
  add(name, std::string_view(at, len));
}

std::string_view NvList::lowered(std::string_view name) {
  char* at = nullptr;
  if (name.size() <= kInlineNameBytes - names_used_) {
    at = names_ + names_used_;
    names_used_ += name.size();
  } else {
    at = spill_.emplace_front(name.size(), '\0').data();
  }
  for (size_t i = 0; i < name.size(); ++i) at[i] = lowerAscii(name[i]);
  return {at, name.size()};
}

namespace {

static_assert(std::endian::native == std::endian::little, "loadShort puts the first byte lowest");

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;

// High bit set in each byte of `w` that is zero (exact per byte: no borrow reaches a byte
// unless a lower one is itself zero, and then the answer is yes anyway).
constexpr uint64_t zeroBytes(uint64_t w) {
  return (w - kOnes) & ~w & kHigh;
}

// High bit set in each byte of `w` that is an ASCII capital. On the low seven bits no byte
// carries into the next (0x7f + 0x3f < 0x100), and bytes >= 0x80 are excluded by ~w.
constexpr uint64_t capitals(uint64_t w) {
  const uint64_t low7 = w & ~kHigh;
  const uint64_t from_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t past_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  return from_a & ~past_z & ~w & kHigh;
}

// CR, LF or NUL somewhere in `w`.
constexpr bool crLfNul(uint64_t w) {
  return (zeroBytes(w) | zeroBytes(w ^ ('\r' * kOnes)) | zeroBytes(w ^ ('\n' * kOnes))) != 0;
}

// The n < 8 bytes at `p` in the low bytes of a word whose other bytes are 'a' (neither a
// capital nor forbidden). Fixed-size loads only: a variable-size copy is a library call.
uint64_t loadShort(const char* p, size_t n) {
  uint64_t w = 'a' * kOnes;
  size_t at = 0;
  const auto put = [&](uint64_t bits, size_t bytes) {
    const uint64_t mask = (bytes == 4   ? 0xffffffffULL
                           : bytes == 2 ? 0xffffULL
                                        : 0xffULL)
                          << (8 * at);
    w = (w & ~mask) | (bits << (8 * at));
    at += bytes;
  };
  if ((n & 4) != 0) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    put(x, 4);
  }
  if ((n & 2) != 0) {
    uint16_t x;
    std::memcpy(&x, p + at, 2);
    put(x, 2);
  }
  if ((n & 1) != 0) put(static_cast<unsigned char>(p[at]), 1);
  return w;
}

}  // namespace

// Eight bytes at a time (a word-wide lowercase and CR/LF/NUL test): the byte loop was most of
// what turning a response head into nghttp2 fields cost. The last partial word is padded with
// 'a', which is neither a capital nor forbidden.
// (little-endian: the first byte of the name is the lowest byte of the word)
bool NvList::outgoingName(std::string_view name, std::string_view& out) {
  const size_t n = name.size();
  if (n > kInlineNameBytes - names_used_) {  // a huge head: the simple way
    if (hasForbiddenByte(name)) return false;
    out = hasUppercase(name) ? lowered(name) : name;
    return true;
  }
  char* at = names_ + names_used_;
  uint64_t upper = 0;
  bool bad = false;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    if (n - i >= 8) {
      std::memcpy(&w, name.data() + i, 8);
    } else {
      w = loadShort(name.data() + i, n - i);
    }
    const uint64_t caps = capitals(w);
    upper |= caps;
    bad |= crLfNul(w);
    w |= caps >> 2;              // 0x80 >> 2 == 0x20: 'A' + 0x20 == 'a'
    std::memcpy(at + i, &w, 8);  // whole words: names_ has kWordSlack bytes past its end
  }
  if (bad) return false;
  if (upper == 0) {
    out = name;  // already lowercase: the copy is dropped (names_used_ unchanged)
    return true;
  }
  names_used_ += n;
  out = std::string_view(at, n);
  return true;
}

void NvList::addFields(const http1::HeaderList& headers, DroppedField dropped) {
  for (const http1::HeaderField& h : headers) {
    if (h.name.empty() || h.name[0] == ':') continue;
    std::string_view name;
    if (!outgoingName(h.name, name) || hasForbiddenByte(h.value)) continue;
    if (dropped(name, h.value)) continue;
    add(name, h.value);
  }
}

}  // namespace baton::proxy::http2
