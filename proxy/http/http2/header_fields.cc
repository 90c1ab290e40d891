// Outgoing header fields as nghttp2_nv: see header_fields.h.
#include "proxy/http/http2/header_fields.h"

#include <utility>

namespace baton::proxy::http2 {

namespace {

nghttp2_nv makeNv(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

bool hasForbiddenByte(std::string_view s) {
  for (const char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void NvList::add(std::string name, std::string value) {
  storage.push_back(std::move(name));
  storage.push_back(std::move(value));
}

void NvList::addFields(const http1::HeaderList& headers, DroppedField dropped) {
  for (const http1::HeaderField& h : headers) {
    std::string name = lowercase(h.name);
    if (name.empty() || name[0] == ':' || dropped(name, h.value)) continue;
    if (hasForbiddenByte(name) || hasForbiddenByte(h.value)) continue;
    add(std::move(name), h.value);
  }
}

void NvList::build() {
  nva.clear();
  for (size_t i = 0; i + 1 < storage.size(); i += 2) {
    nva.push_back(makeNv(storage[i], storage[i + 1]));
  }
}

}  // namespace baton::proxy::http2
