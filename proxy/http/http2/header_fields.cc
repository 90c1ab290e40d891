// Outgoing header fields as nghttp2_nv: see header_fields.h.
#include "proxy/http/http2/header_fields.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "proxy/http1/char_class.h"

namespace baton::proxy::http2 {

namespace {

nghttp2_nv makeNv(std::string_view name, std::string_view value, uint8_t flags) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), flags};
}

// Lowercase names at static storage: the HPACK static table's (RFC 7541 Appendix A) and a few
// more that responses commonly carry. Sorted by length, then by name (checked below).
constexpr std::string_view kStaticNames[] = {"age",
                                             "via",
                                             "date",
                                             "etag",
                                             "from",
                                             "host",
                                             "link",
                                             "vary",
                                             "allow",
                                             "range",
                                             "accept",
                                             "cookie",
                                             "expect",
                                             "server",
                                             "alt-svc",
                                             "expires",
                                             "referer",
                                             "refresh",
                                             "if-match",
                                             "if-range",
                                             "location",
                                             "x-real-ip",
                                             "set-cookie",
                                             "user-agent",
                                             "retry-after",
                                             "content-type",
                                             "max-forwards",
                                             "x-request-id",
                                             "accept-ranges",
                                             "authorization",
                                             "cache-control",
                                             "content-range",
                                             "if-none-match",
                                             "last-modified",
                                             "accept-charset",
                                             "content-length",
                                             "accept-encoding",
                                             "accept-language",
                                             "referrer-policy",
                                             "x-forwarded-for",
                                             "x-frame-options",
                                             "content-encoding",
                                             "content-language",
                                             "content-location",
                                             "www-authenticate",
                                             "x-forwarded-host",
                                             "x-xss-protection",
                                             "if-modified-since",
                                             "transfer-encoding",
                                             "x-forwarded-proto",
                                             "proxy-authenticate",
                                             "content-disposition",
                                             "if-unmodified-since",
                                             "proxy-authorization",
                                             "access-control-max-age",
                                             "x-content-type-options",
                                             "content-security-policy",
                                             "strict-transport-security",
                                             "access-control-allow-origin",
                                             "access-control-allow-headers",
                                             "access-control-allow-methods",
                                             "access-control-expose-headers",
                                             "access-control-allow-credentials"};

constexpr size_t kLongestStaticName = 32;

constexpr bool staticNamesSorted() {
  for (size_t i = 1; i < std::size(kStaticNames); ++i) {
    const std::string_view a = kStaticNames[i - 1], b = kStaticNames[i];
    if (a.size() > b.size() || (a.size() == b.size() && a >= b)) return false;
  }
  return kStaticNames[std::size(kStaticNames) - 1].size() == kLongestStaticName;
}
static_assert(staticNamesSorted());

// For each length, where the names of that length start in kStaticNames (and end: the next
// length's start).
struct StaticNameIndex {
  uint8_t start[kLongestStaticName + 2] = {};
};

constexpr StaticNameIndex makeStaticNameIndex() {
  StaticNameIndex index;
  size_t i = 0;
  for (size_t len = 0; len <= kLongestStaticName + 1; ++len) {
    while (i < std::size(kStaticNames) && kStaticNames[i].size() < len) ++i;
    index.start[len] = static_cast<uint8_t>(i);
  }
  return index;
}

constexpr StaticNameIndex kStaticNameIndex = makeStaticNameIndex();

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

void NvList::add(LiteralName name, std::string_view value) {
  push(makeNv(name.view(), value, NGHTTP2_NV_FLAG_NO_COPY_NAME));
}

void NvList::push(const nghttp2_nv& nv) {
  if (!spilled_ && count_ < kInlineFields) {
    inline_[count_++] = nv;
    return;
  }
  if (!spilled_) spill(2 * kInlineFields);
  heap_.push_back(nv);
}

void NvList::addNumber(LiteralName name, uint64_t value) {
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

// `name` lowercased equals `lower`, a lowercase literal of the same size: a word at a time
// (the last word overlaps the one before it; a name under eight bytes is padded with 'a' on both
// sides), and only `name` needs lowering.
bool sameAsLowercase(std::string_view name, std::string_view lower) {
  const size_t n = name.size();
  const auto lowered = [](uint64_t w) { return w | (capitals(w) >> 2); };
  if (n < 8) return lowered(loadShort(name.data(), n)) == loadShort(lower.data(), n);
  uint64_t x;
  uint64_t y;
  for (size_t i = 0; i + 8 < n; i += 8) {
    std::memcpy(&x, name.data() + i, 8);
    std::memcpy(&y, lower.data() + i, 8);
    if (lowered(x) != y) return false;
  }
  std::memcpy(&x, name.data() + n - 8, 8);
  std::memcpy(&y, lower.data() + n - 8, 8);
  return lowered(x) == y;
}

}  // namespace

std::string_view staticName(std::string_view name) {
  if (name.empty() || name.size() > kLongestStaticName) return {};
  const char first = lowerAscii(name[0]);
  const size_t end = kStaticNameIndex.start[name.size() + 1];
  for (size_t i = kStaticNameIndex.start[name.size()]; i < end; ++i) {
    const std::string_view candidate = kStaticNames[i];
    if (candidate[0] == first && sameAsLowercase(name, candidate)) return candidate;
  }
  return {};
}

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
    // A known name (no forbidden byte, lowercase) goes out as the static copy, which nghttp2
    // keeps pointing at instead of copying and lowercasing it again per field.
    std::string_view name = staticName(h.name);
    const uint8_t flags = name.empty() ? NGHTTP2_NV_FLAG_NONE : NGHTTP2_NV_FLAG_NO_COPY_NAME;
    if (name.empty() && !outgoingName(h.name, name)) continue;
    if (hasForbiddenByte(h.value) || dropped(name, h.value)) continue;
    push(makeNv(name, h.value, flags));
  }
}

}  // namespace baton::proxy::http2
