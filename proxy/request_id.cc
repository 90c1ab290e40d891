#include "proxy/request_id.h"

namespace baton::proxy {
namespace {

constexpr size_t kMaxRequestIdBytes = 200;

void writeHex(uint64_t v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xF];
    v >>= 4;
  }
}

}  // namespace

RequestIdGenerator::RequestIdGenerator(uint64_t seed) : random_(seed) {}

void RequestIdGenerator::next(std::array<char, kLength>& out) {
  writeHex(random_.next(), out.data());
  writeHex(random_.next(), out.data() + 16);
}

std::string RequestIdGenerator::next() {
  std::array<char, kLength> buf;
  next(buf);
  return std::string(buf.data(), buf.size());
}

bool isAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace baton::proxy
