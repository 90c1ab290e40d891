// RequestIdGenerator: makes the X-Request-Id baton adds when a client sent none (or an
// unacceptable one): 32 lower-case hex chars = this instance's 8-hex id (thisInstance().id)
// followed by 96 bits from a xoshiro256** PRNG seeded once. Several baton instances serve one
// edge (README "Several instances"): the prefix keeps ids unique across them and tells which
// instance answered; the format (32 hex) is the one logs and tests already expect. Unique enough
// to correlate logs across hops, not a secret (never use it as one).
//
// One generator per worker thread, owned by the worker; not thread-safe. No syscall per call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/fast_random.h"

namespace baton::proxy {

// Who this process is among the baton instances of one Marathon app.
struct InstanceIdentity {
  std::string task_id;  // $MESOS_TASK_ID (Marathon sets it for every task); "" when not run by it
  std::string id;       // 8 lower-case hex: FNV-1a of the task id, else random at start
  uint32_t prefix = 0;  // `id` as a number
};

// Computed once (thread-safe), from the environment: the same task id gives the same id, so an
// id seen in a log names its task; without a task id, a random one per process.
const InstanceIdentity& thisInstance();
// Pure part of thisInstance(), exposed for tests ("" = random).
InstanceIdentity instanceIdentityFor(std::string_view task_id);

class RequestIdGenerator {
 public:
  static constexpr size_t kLength = 32;

  // Equal seeds give equal sequences (tests); workers pass distinct seeds (e.g. getrandom once
  // at start + worker index). The prefix is thisInstance()'s unless given.
  explicit RequestIdGenerator(uint64_t seed);
  RequestIdGenerator(uint64_t seed, uint32_t instance_prefix);

  std::string next();
  // Same, written into a caller-owned buffer (no allocation).
  void next(std::array<char, kLength>& out);

 private:
  core::FastRandom random_;
  uint32_t prefix_;
};

// A client-supplied X-Request-Id is passed through if it is 1..200 bytes of visible ASCII
// (0x21-0x7E); otherwise a new one is generated.
bool isAcceptableRequestId(std::string_view id);

}  // namespace baton::proxy
