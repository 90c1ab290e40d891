// Fuzz target: the config loader (conf/loader.h loadConfigString): TOML parsing (toml++),
// every typed key, units (durations, sizes), value syntax and the whole-spec validation.
//
// Oracles: no crash, sanitizer report or escaping exception (an exception other than the one
// toml::parse_error the loader catches aborts the fuzzer as an uncaught exception); a refusal
// is ConfigInvalid naming the file, as `--check` prints it; an accepted spec passes
// validateConfig again unchanged (validation is idempotent: SIGHUP reloads rely on it).
#include <string>
#include <string_view>

#include "conf/loader.h"
#include "tests/fuzz/fuzz_target.h"

BATON_FUZZ_ENTRY(config_loader) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = baton::conf::loadConfigString(text, "fuzz.toml");
  if (!spec) {
    BATON_FUZZ_CHECK(spec.error().code == baton::core::ErrorCode::ConfigInvalid);
    BATON_FUZZ_CHECK(spec.error().detail.find("fuzz.toml") != std::string::npos);
    return 0;
  }
  baton::conf::ConfigSpec again = *spec;
  BATON_FUZZ_CHECK(baton::conf::validateConfig(again).has_value());
  BATON_FUZZ_CHECK(again.file == spec->file);
  BATON_FUZZ_CHECK(again.listeners == spec->listeners && again.clusters == spec->clusters);
  BATON_FUZZ_CHECK(again.vhosts == spec->vhosts);
  return 0;
}
