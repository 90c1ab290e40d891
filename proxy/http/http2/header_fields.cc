// Outgoing header fields as nghttp2_nv: see header_fields.h.
#include "proxy/http/http2/header_fields.h"

#include <charconv>
#include <cstring>

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
  for (const char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
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

void NvList::add(std::string_view name, std::string_view value) {
  nva_.push_back(makeNv(name, value));
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

void NvList::addFields(const http1::HeaderList& headers, DroppedField dropped) {
  for (const http1::HeaderField& h : headers) {
    if (h.name.empty() || h.name[0] == ':') continue;
    if (hasForbiddenByte(h.name) || hasForbiddenByte(h.value)) continue;
    const std::string_view name = hasUppercase(h.name) ? lowered(h.name) : h.name;
    if (dropped(name, h.value)) continue;
    add(name, h.value);
  }
}

}  // namespace baton::proxy::http2
