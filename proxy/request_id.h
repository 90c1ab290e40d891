// RequestIdGenerator: makes the X-Request-Id baton adds when a client sent none (or an
// unacceptable one). 128 bits from a xoshiro256** PRNG seeded once, rendered as 32 lower-case
// hex chars: unique enough to correlate logs across hops, not a secret (never use it as one).
//
// One generator per worker thread, owned by the worker; not thread-safe. No syscall per call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/fast_random.h"

namespace baton::proxy {

class RequestIdGenerator {
 public:
  static constexpr size_t kLength = 32;

  // Equal seeds give equal sequences (tests); workers pass distinct seeds (e.g. getrandom once
  // at start + worker index).
  explicit RequestIdGenerator(uint64_t seed);

  std::string next();
  // Same, written into a caller-owned buffer (no allocation).
  void next(std::array<char, kLength>& out);

 private:
  core::FastRandom random_;
};

// A client-supplied X-Request-Id is passed through if it is 1..200 bytes of visible ASCII
// (0x21-0x7E); otherwise a new one is generated.
bool isAcceptableRequestId(std::string_view id);

}  // namespace baton::proxy
