// derivedVersionId (routing/pinning.h): the version id of a Marathon app without
// BATON_PIN_VERSION. Every baton instance must derive the same id from the same app, so a
// cookie or a `?dpl=` token minted by one instance is understood by the others and survives a
// restart: the hash is spelled out here (FNV-1a 64 + a finaliser) instead of std::hash, whose
// value is implementation-defined and may differ between builds. Also parseMarathonTimeMs: the
// Marathon timestamps every instance reads alike (issue 10's shared deadlines).
#include <charconv>
#include <cstdint>
#include <optional>
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

namespace {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Exactly `n` digits at `pos`, advancing it; nullopt otherwise.
std::optional<unsigned> digits(std::string_view text, size_t& pos, size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  unsigned v = 0;
  const char* first = text.data() + pos;
  const auto [end, ec] = std::from_chars(first, first + n, v);
  if (ec != std::errc() || end != first + n) return std::nullopt;
  pos += n;
  return v;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

// Marathon writes "2026-11-25T11:00:00.000Z" (Java's ISO instant); zdd writes the same for
// HAPROXY_DEPLOYMENT_STARTED_AT. A wrong value only loses the shared deadline (the caller falls
// back to this instance's view), so the parser is strict and small rather than general.
std::optional<int64_t> parseMarathonTimeMs(std::string_view text) {
  size_t pos = 0;
  const auto year = digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = digits(text, pos, 2);
  if (!month || *month < 1 || *month > 12 || !expect(text, pos, '-')) return std::nullopt;
  const auto day = digits(text, pos, 2);
  if (!day || *day < 1 || *day > 31 || !expect(text, pos, 'T')) return std::nullopt;
  const auto hour = digits(text, pos, 2);
  if (!hour || *hour > 23 || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = digits(text, pos, 2);
  if (!minute || *minute > 59 || !expect(text, pos, ':')) return std::nullopt;
  const auto second = digits(text, pos, 2);
  if (!second || *second > 60) return std::nullopt;
  int64_t ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = digits(text, pos, 2);
    if (!oh || !expect(text, pos, ':')) return std::nullopt;
    const auto om = digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = sign * static_cast<int64_t>(*oh * 60 + *om);
  } else if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t days = daysFromCivil(*year, *month, *day);
  const int64_t secs = days * 86'400 + *hour * 3600 + *minute * 60 + *second - offset_min * 60;
  return secs * 1000 + ms;
}

}  // namespace baton::routing::pin
