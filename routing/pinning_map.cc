// LearnedMap (routing/pinning.h): per worker, per group, what each version answered per path.
// An LRU list owns the entries; a hash index keyed by views of their paths finds one in O(1).
// A list node never moves, so the views stay valid until the node is erased.
#include <algorithm>

#include "routing/pinning.h"

namespace baton::routing::pin {
namespace {

constexpr size_t kMaxVersions = 64;      // bits of PathKnowledge
constexpr size_t kMaxFactsPerPath = 64;  // versions that answered for one path, oldest dropped
constexpr size_t kMaxReserve = 1 << 16;  // index buckets reserved up front

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// The opaque-tag of an entity-tag: `W/"x"` and `"x"` match alike for If-None-Match (weak
// comparison, RFC 9110 §13.1.2).
std::string_view opaqueTag(std::string_view etag) {
  etag = trimOws(etag);
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  return etag;
}

// Index of the version `id` in the view, live or not; -1 when the view no longer has it.
int indexOf(const GroupView& view, std::string_view id) {
  const size_t n = std::min(view.versions.size(), kMaxVersions);
  for (size_t i = 0; i < n; ++i) {
    if (view.versions[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

// Calls f(opaque-tag) for each entity-tag of an If-None-Match value until f returns true.
// A quoted tag may contain commas, so the list is scanned, not split. `*` is skipped: it
// matches any current representation, which names no version.
template <class F>
bool anyEntityTag(std::string_view list, F&& f) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || list[i] == ' ' || list[i] == '\t')) ++i;
    if (i >= list.size()) break;
    const size_t start = i;
    if (list.substr(i).starts_with("W/")) i += 2;
    if (i < list.size() && list[i] == '"') {
      const size_t close = list.find('"', i + 1);
      i = close == std::string_view::npos ? list.size() : close + 1;
    } else {
      while (i < list.size() && list[i] != ',') ++i;  // unquoted (lenient)
    }
    const std::string_view tag = opaqueTag(list.substr(start, i - start));
    if (!tag.empty() && tag != "*" && f(tag)) return true;
    while (i < list.size() && list[i] != ',') ++i;  // junk after a quoted tag
  }
  return false;
}

}  // namespace

LearnedMap::LearnedMap(size_t capacity, Clock::duration negative_ttl)
    : capacity_(capacity), negative_ttl_(negative_ttl) {
  index_.reserve(std::min(capacity, kMaxReserve));
}

PathKnowledge LearnedMap::lookup(std::string_view path, const GroupView& view,
                                 Clock::time_point now) {
  const auto found = index_.find(path);
  if (found == index_.end()) return {};
  const auto node = found->second;
  lru_.splice(lru_.begin(), lru_, node);
  std::vector<Fact>& facts = node->facts;
  // Forget what no longer counts: versions gone from the view, negative answers expired.
  std::erase_if(facts, [&](const Fact& f) {
    return indexOf(view, f.version_id) < 0 || (!f.has && f.lacks_until <= now);
  });
  if (facts.empty()) {
    index_.erase(found);
    lru_.erase(node);
    return {};
  }
  PathKnowledge known;
  for (const Fact& f : facts) {
    const int i = indexOf(view, f.version_id);
    if (!view.versions[i].live()) continue;
    (f.has ? known.has : known.lacks) |= uint64_t{1} << i;
  }
  return known;
}

int LearnedMap::versionForEtag(std::string_view path, std::string_view if_none_match,
                               const GroupView& view) const {
  const auto found = index_.find(path);
  if (found == index_.end()) return -1;
  int version = -1;
  anyEntityTag(if_none_match, [&](std::string_view tag) {
    for (const Fact& f : found->second->facts) {
      if (!f.has || f.etag != tag) continue;
      version = view.liveIndex(f.version_id);
      if (version >= 0) return true;
    }
    return false;
  });
  return version;
}

void LearnedMap::learnHas(std::string_view path, std::string_view version_id,
                          std::string_view etag) {
  Fact* f = factFor(path, version_id);
  if (f == nullptr) return;
  f->has = true;
  f->lacks_until = {};
  f->etag.assign(opaqueTag(etag));
}

void LearnedMap::learnLacks(std::string_view path, std::string_view version_id,
                            Clock::time_point now) {
  Fact* f = factFor(path, version_id);
  if (f == nullptr) return;
  f->has = false;
  f->lacks_until = now + negative_ttl_;
  f->etag.clear();
}

size_t LearnedMap::size() const {
  return lru_.size();
}

void LearnedMap::clear() {
  index_.clear();
  lru_.clear();
}

LearnedMap::Entry* LearnedMap::touch(std::string_view path) {
  if (capacity_ == 0) return nullptr;
  if (const auto found = index_.find(path); found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    return &*found->second;
  }
  if (lru_.size() >= capacity_) {  // evict the least recently used path
    index_.erase(lru_.back().path);
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(path), {}});
  index_.emplace(lru_.front().path, lru_.begin());
  return &lru_.front();
}

LearnedMap::Fact* LearnedMap::factFor(std::string_view path, std::string_view version_id) {
  Entry* entry = touch(path);
  if (entry == nullptr) return nullptr;
  for (Fact& f : entry->facts) {
    if (f.version_id == version_id) return &f;
  }
  if (entry->facts.size() >= kMaxFactsPerPath) entry->facts.erase(entry->facts.begin());
  entry->facts.push_back(Fact{std::string(version_id), {}, {}, false});
  return &entry->facts.back();
}

}  // namespace baton::routing::pin
