#include "discovery/model/asset_manifest.h"

#include <simdjson.h>

#include <algorithm>

namespace baton::discovery {
namespace {

using simdjson::dom::element;

// A string that can be a file's path on the version's hosts, made absolute; "" otherwise.
std::string asPath(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  if (s.empty() || s.size() > kMaxManifestPathBytes) return {};
  if (s.starts_with("//") || s.find("://") != std::string_view::npos) return {};
  const bool bad = std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '?' || c == '#';
  });
  if (bad) return {};
  if (s.starts_with("./")) s.remove_prefix(1);
  std::string out;
  if (s.front() != '/') out.push_back('/');
  out.append(s);
  return out;
}

void add(std::vector<std::string>& out, std::string_view s) {
  if (out.size() >= kMaxManifestPaths) return;
  std::string path = asPath(s);
  if (!path.empty()) out.push_back(std::move(path));
}

// Depth-first over values; nesting is bounded by simdjson's own depth limit.
void collect(const element& e, std::vector<std::string>& out) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      add(out, std::string_view(e.get_string().value_unsafe()));
      break;
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array array = e.get_array().value_unsafe();
      for (const element child : array) collect(child, out);
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (const auto field : object) collect(field.value, out);
      break;
    }
    default:
      break;
  }
}

std::vector<std::string> parseLines(std::string_view body) {
  std::vector<std::string> out;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    add(out, body.substr(0, nl));
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

core::Result<std::vector<std::string>> parseAssetManifest(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::vector<std::string>{};
  if (body[first] != '{' && body[first] != '[') return parseLines(body);
  simdjson::dom::parser parser;
  element root;
  if (const auto error = parser.parse(body.data(), body.size()).get(root); error) {
    return core::fail(core::Error::config(std::string("manifest is not valid JSON: ") +
                                          simdjson::error_message(error)));
  }
  std::vector<std::string> out;
  collect(root, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace baton::discovery
