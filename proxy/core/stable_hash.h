// Stable hashing: the same value on every worker, every baton process and every platform
// (unlike std::hash), for choices several instances must agree on without talking: source
// hashing of clients to hosts, asset pinning's per-path version pick, derived version ids.
// Header-only, pure; any thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace baton::core {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a over `bytes`, continuing from `h` (kFnvOffset to start).
inline uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// splitmix64's finaliser: a bijection that spreads every input bit over the output (FNV-1a's
// high bits depend weakly on the last bytes).
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// FNV-1a then the finaliser.
inline uint64_t stableHash(std::string_view bytes) {
  return mix64(fnv1a(kFnvOffset, bytes));
}

// Weighted rendezvous (highest random weight) score of `item` for `key`: weight / -ln(u), u
// uniform in (0, 1) drawn from the pair. The highest score over items is a weighted pick, and
// removing an item moves only the keys it held.
inline double rendezvousScore(uint64_t key_hash, uint64_t item_hash, uint32_t weight) {
  const uint64_t h = mix64(key_hash ^ mix64(item_hash + 0x9e3779b97f4a7c15ULL));
  // 53 random bits, offset by half a step: u is strictly inside (0, 1), so ln(u) < 0 and finite.
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  return static_cast<double>(weight) / -std::log(u);
}

}  // namespace baton::core
