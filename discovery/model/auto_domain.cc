#include "discovery/model/auto_domain.h"

#include <vector>

namespace baton::discovery {
namespace {

constexpr size_t kMaxLabelBytes = 63;

char dnsByte(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return c;
  return '-';
}

std::string trimDashes(std::string s) {
  const size_t first = s.find_first_not_of('-');
  if (first == std::string::npos) return {};
  const size_t last = s.find_last_not_of('-');
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string dnsLabel(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (const char c : segment) out.push_back(dnsByte(c));
  out = trimDashes(std::move(out));
  if (out.size() > kMaxLabelBytes) out = trimDashes(out.substr(0, kMaxLabelBytes));
  return out;
}

std::string autoDomain(std::string_view app_id, std::string_view domain) {
  if (domain.empty()) return {};
  std::vector<std::string> labels;
  size_t start = 0;
  while (start <= app_id.size()) {
    size_t end = app_id.find('/', start);
    if (end == std::string_view::npos) end = app_id.size();
    std::string label = dnsLabel(app_id.substr(start, end - start));
    if (!label.empty()) labels.push_back(std::move(label));
    start = end + 1;
  }
  if (labels.empty()) return {};
  std::string out;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) out += *it + ".";
  std::string_view d = domain;
  while (d.starts_with('.')) d.remove_prefix(1);
  for (const char c : d) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  return out;
}

}  // namespace baton::discovery
