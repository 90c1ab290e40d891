#include "proxy/sticky_cookie.h"

#include <algorithm>

namespace baton::proxy {
namespace {

bool nameEquals(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    if (c != lower_b[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(pair, cookie_name, cookie_value) for each ';'-separated pair (trimmed); stops when
// f returns false.
template <typename F>
void forEachPair(std::string_view field, F&& f) {
  while (!field.empty()) {
    const size_t semi = field.find(';');
    const std::string_view pair = trim(field.substr(0, semi));
    field = semi == std::string_view::npos ? std::string_view() : field.substr(semi + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view name = trim(pair.substr(0, eq));
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : trim(pair.substr(eq + 1));
    if (!f(pair, name, value)) return;
  }
}

}  // namespace

std::string_view findCookie(const http1::HeaderList& headers, std::string_view name) {
  std::string_view found;
  for (const http1::HeaderField& h : headers) {
    if (!nameEquals(h.name, "cookie")) continue;
    bool hit = false;
    forEachPair(h.value, [&](std::string_view, std::string_view n, std::string_view v) {
      if (n != name) return true;
      found = v;
      hit = true;
      return false;
    });
    if (hit) break;
  }
  return found;
}

void removeCookie(http1::HeaderList& headers, std::string_view name) {
  for (http1::HeaderField& h : headers) {
    if (!nameEquals(h.name, "cookie") || h.value.find(name) == std::string::npos) continue;
    std::string kept;
    bool removed = false;
    forEachPair(h.value, [&](std::string_view pair, std::string_view n, std::string_view) {
      if (n == name) {
        removed = true;
        return true;
      }
      if (!kept.empty()) kept.append("; ");
      kept.append(pair);
      return true;
    });
    if (removed) h.value = std::move(kept);
  }
  std::erase_if(headers, [](const http1::HeaderField& h) {
    return nameEquals(h.name, "cookie") && trim(h.value).empty();
  });
}

void addStickyCookie(http1::HeaderList& response, std::string_view name, std::string_view value) {
  std::string cookie;
  cookie.reserve(name.size() + value.size() + 9);
  cookie.append(name).append("=").append(value).append("; path=/");
  response.push_back({"Set-Cookie", std::move(cookie)});
  const bool has_cache_control = std::any_of(response.begin(), response.end(), [](const auto& h) {
    return nameEquals(h.name, "cache-control");
  });
  if (!has_cache_control) response.push_back({"Cache-Control", "private"});
}

}  // namespace baton::proxy
