// A small, fast, non-cryptographic PRNG (xoshiro256**, seeded through splitmix64) for
// load-balancing draws and request ids. One instance per owner (load balancer, worker): no
// shared state, no locks, and the same seed gives the same sequence (tests rely on that).
#pragma once

#include <cstdint>

namespace baton::core {

class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) {
    // splitmix64 spreads any seed (including 0) over the four state words; xoshiro must not
    // start from an all-zero state, which splitmix64 never produces for four outputs.
    for (uint64_t& word : s_) word = splitmix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, range) for range >= 1 (Lemire's multiply-shift; the bias for the small
  // ranges used here is below 2^-50, far under anything a load balancer can observe).
  uint64_t below(uint64_t range) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * range) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace baton::core
