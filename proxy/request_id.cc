#include "proxy/request_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <cstdlib>

namespace baton::proxy {
namespace {

constexpr size_t kMaxRequestIdBytes = 200;
constexpr char kDigits[] = "0123456789abcdef";

// Writes the low `digits` hex digits of v.
void writeHex(uint64_t v, char* out, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kDigits[v & 0xF];
    v >>= 4;
  }
}

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint32_t randomPrefix() {
  uint32_t value = 0;
  if (getrandom(&value, sizeof(value), 0) != static_cast<ssize_t>(sizeof(value))) {
    // Never expected; the pid still differs between the processes of one host.
    value = static_cast<uint32_t>(fnv1a(std::to_string(getpid())));
  }
  return value;
}

}  // namespace

InstanceIdentity instanceIdentityFor(std::string_view task_id) {
  InstanceIdentity identity;
  identity.task_id = std::string(task_id);
  // The top half of the hash: FNV-1a's low bits mix the last bytes least well.
  identity.prefix = task_id.empty() ? randomPrefix() : static_cast<uint32_t>(fnv1a(task_id) >> 32);
  identity.id.resize(8);
  writeHex(identity.prefix, identity.id.data(), 8);
  return identity;
}

const InstanceIdentity& thisInstance() {
  static const InstanceIdentity identity = [] {
    const char* task = std::getenv("MESOS_TASK_ID");
    return instanceIdentityFor(task != nullptr ? task : "");
  }();
  return identity;
}

RequestIdGenerator::RequestIdGenerator(uint64_t seed)
    : RequestIdGenerator(seed, thisInstance().prefix) {}

RequestIdGenerator::RequestIdGenerator(uint64_t seed, uint32_t instance_prefix)
    : random_(seed), prefix_(instance_prefix) {}

void RequestIdGenerator::next(std::array<char, kLength>& out) {
  writeHex(prefix_, out.data(), 8);
  writeHex(random_.next(), out.data() + 8, 16);
  writeHex(random_.next(), out.data() + 24, 8);
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
