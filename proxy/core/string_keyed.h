// Hash containers keyed by std::string that are looked up by std::string_view without building
// a std::string per lookup (heterogeneous lookup, C++20). Upstream hosts carry their address and
// name as views of their spec (upstream/cluster.h); the health checker and the outlier detector
// look up 100,000 of them per Marathon resync.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace baton::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// map[key] for a view (C++20 has no heterogeneous operator[]): the string is made only when the
// key is new.
template <typename Value>
Value& slotFor(StringMap<Value>& map, std::string_view key) {
  auto found = map.find(key);
  if (found == map.end()) found = map.emplace(std::string(key), Value()).first;
  return found->second;
}

}  // namespace baton::core
