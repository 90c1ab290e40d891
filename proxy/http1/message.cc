// Header lookups for message heads. Linear scans: heads hold a few dozen fields at most, and a
// vector keeps order and duplicates, which a map would lose.
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

namespace {

constexpr char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

const std::string* findHeader(const HeaderList& headers, std::string_view name) {
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) return &field.value;
  }
  return nullptr;
}

size_t countHeader(const HeaderList& headers, std::string_view name) {
  size_t n = 0;
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) ++n;
  }
  return n;
}

}  // namespace baton::proxy::http1
