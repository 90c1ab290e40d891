// derivedVersionId (routing/pinning.h): the version id of a Marathon app without
// BATON_PIN_VERSION. Every baton instance must derive the same id from the same app, so a
// cookie or a `?dpl=` token minted by one instance is understood by the others and survives a
// restart: the hash is spelled out here (FNV-1a 64 + a finaliser) instead of std::hash, whose
// value is implementation-defined and may differ between builds.
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/stable_hash.h"
#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

constexpr size_t kIdDigits = 10;  // 40 bits: collisions among one group's few versions are moot

}  // namespace

std::string derivedVersionId(std::string_view app_id, std::string_view last_config_change_at) {
  // '\n' cannot occur in an app id: ("/a", "b...") and ("/ab", "...") never hash the same input.
  uint64_t h = core::fnv1a(core::kFnvOffset, app_id);
  h = core::fnv1a(h, "\n");
  h = core::mix64(core::fnv1a(h, last_config_change_at));
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(kIdDigits, '0');
  for (size_t i = 0; i < kIdDigits; ++i) {
    out[i] = kHex[(h >> (60 - 4 * i)) & 0xf];  // the top 40 bits, most significant first
  }
  return out;
}

}  // namespace baton::routing::pin
