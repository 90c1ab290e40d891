#include "proxy/request_id.h"

namespace baton::proxy {
namespace {

constexpr size_t kMaxRequestIdBytes = 200;

// splitmix64: the recommended way to expand one seed into xoshiro's 256-bit state (it never
// yields the all-zero state xoshiro must avoid).
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void writeHex(uint64_t v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xF];
    v >>= 4;
  }
}

}  // namespace

RequestIdGenerator::RequestIdGenerator(uint64_t seed) {
  for (auto& s : state_) s = splitmix64(seed);
}

uint64_t RequestIdGenerator::nextWord() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

void RequestIdGenerator::next(std::array<char, kLength>& out) {
  writeHex(nextWord(), out.data());
  writeHex(nextWord(), out.data() + 16);
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
