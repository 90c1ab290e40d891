// Outgoing header fields as nghttp2_nv: see header_fields.h.
#include "proxy/http/http2/header_fields.h"

#include <algorithm>
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

bool NvList::outgoingName(std::string_view name, std::string_view& out) {
  const size_t n = name.size();
  if (n > kInlineNameBytes - names_used_) {  // a huge head: the simple way
    if (hasForbiddenByte(name)) return false;
    out = hasUppercase(name) ? lowered(name) : name;
    return true;
  }
  char* at = names_ + names_used_;
  bool upper = false;
  bool bad = false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool is_upper = static_cast<unsigned>(c - 'A') < 26u;
    upper |= is_upper;
    bad |= c == '\r' || c == '\n' || c == '\0';
    at[i] = static_cast<char>(is_upper ? c + 32 : c);
  }
  if (bad) return false;
  if (!upper) {
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
