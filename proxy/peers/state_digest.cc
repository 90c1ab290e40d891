#include "proxy/peers/state_digest.h"

#include <cstdint>
#include <string_view>

namespace baton::proxy::peers {
namespace {

class Fnv1a {
 public:
  // Every field ends with a separator byte no field contains, so ("ab","c") != ("a","bc").
  void add(std::string_view text) {
    for (unsigned char c : text) mix(c);
    mix(0x1f);
  }
  void add(uint64_t number) {
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(number >> (8 * i)));
    mix(0x1f);
  }
  std::string hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    uint64_t v = h_;
    for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 0xF];
    return out;
  }

 private:
  void mix(unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ULL;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string marathonStateDigest(const conf::DiscoveredSpec& spec) {
  Fnv1a h;
  h.add(static_cast<uint64_t>(spec.clusters.size()));
  for (const conf::ClusterSpec& cluster : spec.clusters) {
    h.add(cluster.name);
    h.add(static_cast<uint64_t>(cluster.policy));
    h.add(cluster.sticky_cookie);
    h.add(static_cast<uint64_t>(cluster.hosts.size()));
    for (const conf::HostSpec& host : cluster.hosts) {
      h.add(host.name);
      h.add(host.address);
      h.add(host.task_id);
      h.add(static_cast<uint64_t>(host.weight));
      h.add(static_cast<uint64_t>(host.draining ? 1 : 0));
      h.add(host.version);
    }
  }
  return h.hex();
}

}  // namespace baton::proxy::peers
