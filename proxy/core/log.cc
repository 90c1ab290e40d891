#include "proxy/core/log.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace baton::core {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
constexpr std::array<std::string_view, 4> kNames{"error", "warn", "info", "debug"};
}  // namespace

void setLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel logLevel() {
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

std::string_view logLevelName(LogLevel level) {
  return kNames[static_cast<size_t>(level)];
}

std::optional<LogLevel> parseLogLevel(std::string_view word) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (word == kNames[i]) return static_cast<LogLevel>(i);
  }
  if (word == "warning") return LogLevel::Warn;
  return std::nullopt;
}

void logf(LogLevel level, const char* format, ...) {
  if (!logEnabled(level)) return;
  char line[4096];
  constexpr std::string_view kPrefix = "baton: ";
  kPrefix.copy(line, kPrefix.size());
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line + kPrefix.size(), sizeof(line) - kPrefix.size() - 1, format, args);
  va_end(args);
  if (n < 0) return;
  size_t len =
      kPrefix.size() + std::min<size_t>(static_cast<size_t>(n), sizeof(line) - kPrefix.size() - 2);
  if (line[len - 1] != '\n') line[len++] = '\n';
  // One write per line: concurrent lines never interleave (stderr is unbuffered anyway).
  ssize_t ignored = ::write(STDERR_FILENO, line, len);
  (void)ignored;
}

}  // namespace baton::core
