// parseDuration / parseSize (declared in conf/loader.h): the config's unit syntax, parsed once at
// load so nothing downstream ever sees a unit string. Pure functions; any thread.
#include <charconv>
#include <limits>
#include <string>

#include "conf/loader.h"

namespace baton::conf {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

// Splits "123unit" into the number and the rest. Only ASCII digits are accepted before the unit,
// so signs, fractions and spaces all land in the unit part and are refused there.
struct NumberAndUnit {
  uint64_t number = 0;
  std::string_view unit;
  bool overflow = false;
  bool has_digits = false;
};

NumberAndUnit splitNumber(std::string_view text) {
  NumberAndUnit out;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  out.has_digits = i > 0;
  out.unit = text.substr(i);
  if (!out.has_digits) return out;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, out.number);
  out.overflow = ec == std::errc::result_out_of_range;
  return out;
}

std::unexpected<core::Error> unitError(std::string_view kind, std::string_view text,
                                       std::string_view expected) {
  return core::fail(core::Error::config("invalid " + std::string(kind) + " \"" + std::string(text) +
                                        "\": expected " + std::string(expected)));
}

}  // namespace

core::Result<Duration> parseDuration(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};
  constexpr std::string_view kExpected =
      "a non-negative integer followed by ms, s, m or h (e.g. \"250ms\", \"10s\")";
  const NumberAndUnit parts = splitNumber(text);
  if (!parts.has_digits) return unitError("duration", text, kExpected);
  for (const Unit& unit : kUnits) {
    if (parts.unit != unit.suffix) continue;
    const auto max_ms = static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max());
    uint64_t ms = 0;
    if (parts.overflow || __builtin_mul_overflow(parts.number, unit.factor, &ms) || ms > max_ms) {
      return core::fail(core::Error::config("duration \"" + std::string(text) + "\" is too large"));
    }
    return Duration{static_cast<Duration::rep>(ms)};
  }
  return unitError("duration", text, kExpected);
}

core::Result<uint64_t> parseSize(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}};
  constexpr std::string_view kExpected =
      "a non-negative integer optionally followed by KiB, MiB, GiB or TiB (e.g. \"8KiB\")";
  const NumberAndUnit parts = splitNumber(text);
  if (!parts.has_digits) return unitError("size", text, kExpected);
  for (const Unit& unit : kUnits) {
    if (parts.unit != unit.suffix) continue;
    uint64_t bytes = 0;
    if (parts.overflow || __builtin_mul_overflow(parts.number, unit.factor, &bytes)) {
      return core::fail(core::Error::config("size \"" + std::string(text) + "\" is too large"));
    }
    return bytes;
  }
  return unitError("size", text, kExpected);
}

}  // namespace baton::conf
