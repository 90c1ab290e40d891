// The process log (stderr): one line per message, "baton: " first, filtered by a level an
// operator can change at run time (admin socket `set log-level`, admin HTTP).
//
// Threading: any thread may log; the level is one relaxed atomic (a message may be filtered by
// the level of a moment ago, which is fine). Each message is one write(2) of a whole line, so
// lines from different threads never interleave.
#pragma once

#include <optional>
#include <string_view>

namespace baton::core {

enum class LogLevel : int { Error = 0, Warn = 1, Info = 2, Debug = 3 };

void setLogLevel(LogLevel level);
LogLevel logLevel();
inline bool logEnabled(LogLevel level) {
  return static_cast<int>(level) <= static_cast<int>(logLevel());
}
std::string_view logLevelName(LogLevel level);  // "error", "warn", "info", "debug"
std::optional<LogLevel> parseLogLevel(std::string_view word);

// printf-style; adds "baton: " and the trailing newline. Long messages are truncated at 4 KiB.
void logf(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace baton::core
