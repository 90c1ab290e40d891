#include "routing/rewrite.h"

#include "routing/route_table.h"

namespace baton::routing {
namespace {

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lowerAscii(s[i]) != lowerAscii(prefix[i])) return false;
  }
  return true;
}

// "http://" or "https://" (any case) -> its length, else 0.
size_t schemeLength(std::string_view s) {
  if (startsWithIgnoreCase(s, "http://")) return 7;
  if (startsWithIgnoreCase(s, "https://")) return 8;
  return 0;
}

}  // namespace

size_t prefixSegments(std::string_view prefix) {
  size_t count = 0;
  bool in_segment = false;
  for (const char c : prefix) {
    if (c == '/') {
      in_segment = false;
    } else if (!in_segment) {
      in_segment = true;
      ++count;
    }
  }
  return count;
}

std::string stripPathSegments(std::string_view target, size_t segments) {
  const size_t query = target.find('?');
  const std::string_view path = target.substr(0, query);
  size_t pos = 0;
  for (size_t n = 0; n < segments; ++n) {
    while (pos < path.size() && path[pos] == '/') ++pos;  // merged like the route key
    while (pos < path.size() && path[pos] != '/') ++pos;
  }
  std::string out;
  out.reserve(target.size() - pos + 1);
  if (pos == path.size()) out.push_back('/');  // the whole path was the prefix
  out.append(target.substr(pos));
  return out;
}

std::optional<std::string> rewriteLocation(std::string_view location, std::string_view host,
                                           std::string_view replacement) {
  std::string_view rest = location;
  if (const size_t scheme = schemeLength(rest); scheme != 0) {
    rest.remove_prefix(scheme);
    if (host.empty() || !startsWithIgnoreCase(rest, host)) return std::nullopt;
    rest.remove_prefix(host.size());
    if (!rest.empty() && rest.front() == ':') {  // (:[0-9]+)?
      size_t digits = 1;
      while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
      if (digits == 1) return std::nullopt;
      rest.remove_prefix(digits);
    }
  }
  if (rest.empty() || rest.front() != '/') return std::nullopt;
  rest.remove_prefix(1);
  std::string out;
  out.reserve(replacement.size() + rest.size());
  out.append(replacement).append(rest);
  return out;
}

std::string httpsLocation(std::string_view host, std::string_view raw_target) {
  std::string_view tail = raw_target;
  if (const size_t scheme = schemeLength(tail); scheme != 0) {
    tail.remove_prefix(scheme);
    const size_t path = tail.find_first_of("/?");
    tail = path == std::string_view::npos ? std::string_view() : tail.substr(path);
  }
  std::string out = "https://";
  out.append(canonicalHost(host));
  if (tail.empty() || tail.front() != '/') out.push_back('/');
  out.append(tail);
  return out;
}

}  // namespace baton::routing
