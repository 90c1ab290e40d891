// Asset pinning: classification, the version choice, retries, freshness and the pin cookie
// (routing/pinning.h). Pure functions: workers call them per request; nothing allocates on the
// choice path.
#include "routing/pinning.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "proxy/core/stable_hash.h"

namespace baton::routing::pin {
namespace {

using detail::equalsLower;
using detail::equalsNoCase;
using detail::lowerAscii;

constexpr size_t kMaxVersions = 64;  // PathKnowledge and `tried` are bit sets over a uint64_t

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool endsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && equalsNoCase(s.substr(s.size() - suffix.size()), suffix);
}

// Case-insensitive substring search; `needle` is lower case.
bool containsLower(std::string_view hay, std::string_view needle) {
  if (needle.empty() || needle.size() > hay.size()) return needle.empty();
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (lowerAscii(hay[i]) == needle[0] && equalsLower(hay.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// ---- Accept -------------------------------------------------------------------------------

// A qvalue (RFC 9110 §12.4.2) in thousandths; -1 when malformed.
int parseQvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return -1;
    q += (v[i] - '0') * scale;
  }
  return q <= 1000 ? q : -1;
}

// The q of one Accept element ("text/html;level=1;q=0.8"); its media range in `range`.
int elementQ(std::string_view element, std::string_view& range) {
  size_t semi = element.find(';');
  range = trimOws(element.substr(0, semi));
  int q = 1000;
  while (semi != std::string_view::npos) {
    element.remove_prefix(semi + 1);
    semi = element.find(';');
    const std::string_view param = trimOws(element.substr(0, semi));
    if (param.size() >= 2 && lowerAscii(param[0]) == 'q' && param[1] == '=') {
      q = parseQvalue(param.substr(2));
    }
  }
  return q;
}

// The client's preferred type is the first element with the highest q: is it HTML?
bool acceptPrefersHtml(std::string_view accept) {
  int best_q = 0;
  bool best_html = false;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view range;
    const int q = elementQ(accept.substr(0, comma), range);
    if (q > best_q && !range.empty()) {
      best_q = q;
      best_html = equalsLower(range, "text/html") || equalsLower(range, "application/xhtml+xml");
    }
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return best_html;
}

// ---- Rendezvous hashing (the same construction as upstream/source_hash.cc) ------------------

using core::rendezvousScore;
using core::stableHash;

enum class Weight : uint8_t { Serving, Hosts };

// The rendezvous winner among versions not in `exclude` with a nonzero weight; -1 when none.
int rendezvous(const GroupView& view, uint64_t path_hash, uint64_t exclude, Weight weight) {
  int best = -1;
  double best_score = 0;
  const size_t n = std::min(view.versions.size(), kMaxVersions);
  for (size_t i = 0; i < n; ++i) {
    const VersionState& v = view.versions[i];
    const uint32_t w = weight == Weight::Serving ? v.serving : v.hosts;
    if (w == 0 || !v.live() || (exclude >> i & 1) != 0) continue;
    const double score = rendezvousScore(path_hash, stableHash(v.id), w);
    if (best < 0 || score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

// Rule f: weighted by serving hosts; with no serving candidate, by hosts (draining versions
// still answer). `exclude` is a preference: when it leaves nothing, it is dropped.
int hashPick(const GroupView& view, std::string_view path, uint64_t exclude) {
  const uint64_t ph = stableHash(path);
  for (const uint64_t mask : {exclude, uint64_t{0}}) {
    if (int i = rendezvous(view, ph, mask, Weight::Serving); i >= 0) return i;
    if (int i = rendezvous(view, ph, mask, Weight::Hosts); i >= 0) return i;
    if (exclude == 0) break;
  }
  return -1;
}

// ---- chooseVersion ----------------------------------------------------------------------------

uint64_t liveMask(const GroupView& view) {
  uint64_t mask = 0;
  const size_t n = std::min(view.versions.size(), kMaxVersions);
  for (size_t i = 0; i < n; ++i) {
    if (view.versions[i].live()) mask |= uint64_t{1} << i;
  }
  return mask;
}

// The value of query parameter `name` ("a=1&dpl=v2&b"): the first occurrence, as sent.
bool queryParam(std::string_view query, std::string_view name, std::string_view& value) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// Rule e: exactly one live version is known to have the path (and is not known to lack it).
int mapPick(const PathKnowledge& known, uint64_t live) {
  const uint64_t has = known.has & ~known.lacks & live;
  return std::popcount(has) == 1 ? std::countr_zero(has) : -1;
}

Choice pick(int version, Reason reason) {
  return Choice{version, reason, false};
}

Choice preferDirect(const GroupView& view, const RequestFacts& facts, const PathKnowledge& known,
                    uint64_t live) {
  if (!facts.deployment_header.empty()) {
    if (const int i = view.liveIndex(trimOws(facts.deployment_header)); i >= 0) {
      return pick(i, Reason::Header);
    }
  }
  if (view.mode == conf::PinMode::Full && !facts.pin_cookie.empty()) {
    if (const int i = view.liveIndex(facts.pin_cookie); i >= 0) return pick(i, Reason::Cookie);
  }
  if (const int i = mapPick(known, live); i >= 0) return pick(i, Reason::Map);
  return pick(hashPick(view, facts.path, known.lacks), Reason::Hash);
}

Choice preferCdn(const GroupView& view, const RequestFacts& facts, const PathKnowledge& known,
                 uint64_t live) {
  const int cdn = view.cdn_version;
  const bool cdn_valid =
      cdn >= 0 && static_cast<size_t>(cdn) < std::min(view.versions.size(), kMaxVersions);
  uint64_t exclude = known.lacks;
  if (cdn_valid && (live >> cdn & 1) != 0) {
    if ((known.lacks >> cdn & 1) == 0) return pick(cdn, Reason::Cdn);
    exclude |= uint64_t{1} << cdn;
  }
  if (const int i = mapPick(known, live); i >= 0) return pick(i, Reason::Map);
  return pick(hashPick(view, facts.path, exclude), Reason::Hash);
}

// Rule §8: a document (or other request) whose version has no serving host goes to a serving
// version instead, preferring one not known to lack the path; assets stay on the draining one.
Choice settle(const GroupView& view, Kind kind, std::string_view path, const PathKnowledge& known,
              Choice choice) {
  // The CDN version without a serving host is a held flip (rule 12): the CDN keeps getting the
  // old build, documents included, while its draining hosts answer and its cached files live.
  if (view.versions[choice.version].serving > 0 || kind == Kind::Asset ||
      choice.reason == Reason::Cdn) {
    return choice;
  }
  const uint64_t ph = stableHash(path);
  if (const int other = rendezvous(view, ph, known.lacks, Weight::Serving); other >= 0) {
    return Choice{other, Reason::Fallback, true};
  }
  // Every serving version is known to lack the path: the draining one is the only chance,
  // unless it is known to lack it too.
  if ((known.lacks >> choice.version & 1) != 0) {
    if (const int other = rendezvous(view, ph, 0, Weight::Serving); other >= 0) {
      return Choice{other, Reason::Fallback, true};
    }
  }
  choice.fallback = true;
  return choice;
}

// ---- sharedFreshness --------------------------------------------------------------------------

constexpr int64_t kMaxDelta = int64_t{1} << 31;  // RFC 9111 §1.2.2

// delta-seconds: digits only, capped; nullopt when malformed.
std::optional<int64_t> parseDelta(std::string_view v) {
  if (v.empty()) return std::nullopt;
  int64_t n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min(n * 10 + (c - '0'), kMaxDelta);
  }
  return n;
}

struct CacheControl {
  bool no_store = false;
  bool priv = false;      // unqualified `private`
  bool no_cache = false;  // unqualified `no-cache`
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
};

// One directive's value: a token up to ',' or a quoted-string (commas inside kept, `\` escapes
// skipped). Advances `rest` past it. Returns the value without quotes (escapes left in place:
// the only values read are numbers).
std::string_view directiveValue(std::string_view& rest) {
  if (!rest.empty() && rest.front() == '"') {
    size_t i = 1;
    while (i < rest.size() && rest[i] != '"') i += rest[i] == '\\' ? 2 : 1;
    const std::string_view value = rest.substr(1, std::min(i, rest.size()) - 1);
    rest.remove_prefix(std::min(i + 1, rest.size()));
    return value;
  }
  const size_t end = rest.find(',');
  const std::string_view value = trimOws(rest.substr(0, end));
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return value;
}

void applyDirective(CacheControl& cc, std::string_view name, bool has_value,
                    std::string_view value) {
  if (equalsLower(name, "no-store")) {
    cc.no_store = true;
  } else if (equalsLower(name, "private")) {
    cc.priv = cc.priv || !has_value;
  } else if (equalsLower(name, "no-cache")) {
    cc.no_cache = cc.no_cache || !has_value;
  } else if (equalsLower(name, "s-maxage") && !cc.s_maxage) {
    cc.s_maxage = parseDelta(value).value_or(0);  // malformed: stale (RFC 9111 §4.2.1)
  } else if (equalsLower(name, "max-age") && !cc.max_age) {
    cc.max_age = parseDelta(value).value_or(0);
  }
}

CacheControl parseCacheControl(std::string_view rest) {
  CacheControl cc;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ',' || rest.front() == ' ' || rest.front() == '\t')) {
      rest.remove_prefix(1);
    }
    size_t end = 0;
    while (end < rest.size() && rest[end] != '=' && rest[end] != ',') ++end;
    const std::string_view name = trimOws(rest.substr(0, end));
    rest.remove_prefix(end);
    const bool has_value = !rest.empty() && rest.front() == '=';
    std::string_view value;
    if (has_value) {
      rest.remove_prefix(1);
      rest = trimOws(rest);
      value = directiveValue(rest);
    }
    if (!name.empty()) applyDirective(cc, name, has_value, value);
  }
  return cc;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to seconds since the epoch; nullopt when
// malformed. The obsolete RFC 850 and asctime forms count as malformed (RFC 9110 lets a
// recipient of Expires treat any invalid date as in the past).
std::optional<int64_t> parseImfFixdate(std::string_view s) {
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trimOws(s);
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(std::begin(kDays), std::end(kDays), s.substr(0, 3)) == std::end(kDays)) {
    return std::nullopt;
  }
  const auto month = std::find(std::begin(kMonths), std::end(kMonths), s.substr(8, 3));
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (month == std::end(kMonths) || !digits(s, 5, 2, day) || !digits(s, 12, 4, year) ||
      !digits(s, 17, 2, hour) || !digits(s, 20, 2, minute) || !digits(s, 23, 2, second) ||
      day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const auto m = static_cast<unsigned>(month - std::begin(kMonths)) + 1;
  return daysFromCivil(year, m, day) * 86400 + hour * 3600 + minute * 60 + second;
}

}  // namespace

bool isGetOrHead(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

namespace detail {

bool isCdnMarkField(std::string_view name) {
  static constexpr std::string_view kMarks[] = {"cdn-loop",    "x-varnish", "x-amz-cf-id",
                                                "cf-ray",      "fastly-ff", "akamai-origin-hop",
                                                "x-azure-fdid"};
  for (const std::string_view mark : kMarks) {
    if (equalsLower(name, mark)) return true;
  }
  return false;
}

// "cdn" also catches names such as bunnycdn or keycdn; "google" is also what Google's load
// balancer without CDN writes: a listener behind it sets cdn_origin = no.
bool viaNamesCdn(std::string_view via) {
  static constexpr std::string_view kNames[] = {"varnish", "cloudfront", "akamai", "fastly",
                                                "google",  "cloudflare", "squid",  "cdn"};
  for (const std::string_view name : kNames) {
    if (containsLower(via, name)) return true;
  }
  return false;
}

bool findCookie(std::string_view header, std::string_view name, std::string_view& value) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    const std::string_view pair = trimOws(header.substr(0, semi));
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trimOws(pair.substr(0, eq)) == name) {
      std::string_view v = trimOws(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      value = v;
      return true;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return false;
}

}  // namespace detail

std::string_view reasonName(Reason reason) {
  switch (reason) {
    case Reason::None:
      return "-";
    case Reason::Token:
      return "token";
    case Reason::Etag:
      return "etag";
    case Reason::Header:
      return "header";
    case Reason::Cookie:
      return "cookie";
    case Reason::Map:
      return "map";
    case Reason::Cdn:
      return "cdn";
    case Reason::Hash:
      return "hash";
    case Reason::Fallback:
      return "fallback";
    case Reason::Retry:
      return "retry";
  }
  return "-";
}

ClassifyRules ClassifyRules::from(const conf::PinningSpec& spec) {
  ClassifyRules rules;
  for (const std::string& suffix : spec.asset_suffixes) {
    std::string lower = suffix;
    for (char& c : lower) c = lowerAscii(c);
    rules.asset_suffixes.push_back(std::move(lower));
  }
  rules.asset_prefixes = spec.asset_prefixes;
  rules.hashed_min_hex = spec.hashed_min_hex;
  rules.hashed_prefixes = spec.hashed_prefixes;
  return rules;
}

Traffic classifyTraffic(conf::CdnOrigin setting, const RequestFacts& facts) {
  switch (setting) {
    case conf::CdnOrigin::Yes:
      return Traffic::Cdn;
    case conf::CdnOrigin::No:
      return Traffic::Direct;
    case conf::CdnOrigin::Auto:
      break;
  }
  return facts.cdn_marked ? Traffic::Cdn : Traffic::Direct;
}

Kind classifyKind(const RequestFacts& facts, const ClassifyRules& rules) {
  if (!isGetOrHead(facts.method)) return Kind::Other;
  const std::string_view path = facts.path;
  if (path.ends_with('/') || endsWithNoCase(path, ".html") || endsWithNoCase(path, ".htm")) {
    return Kind::Document;
  }
  for (const std::string& suffix : rules.asset_suffixes) {
    if (endsWithNoCase(path, suffix)) return Kind::Asset;
  }
  if (equalsLower(trimOws(facts.sec_fetch_dest), "document") || acceptPrefersHtml(facts.accept)) {
    return Kind::Document;
  }
  for (const std::string& prefix : rules.asset_prefixes) {
    if (path.starts_with(prefix)) return Kind::Asset;
  }
  return Kind::Other;
}

bool isHashedPath(std::string_view path, const ClassifyRules& rules) {
  for (const std::string& prefix : rules.hashed_prefixes) {
    if (path.starts_with(prefix)) return true;
  }
  if (rules.hashed_min_hex == 0) return false;                  // the hex rule is off
  std::string_view segment = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: whole path
  while (!segment.empty()) {
    const size_t end = segment.find_first_of(".-_");
    const std::string_view token = segment.substr(0, end);
    if (token.size() >= rules.hashed_min_hex && std::all_of(token.begin(), token.end(), isHex)) {
      return true;
    }
    if (end == std::string_view::npos) break;
    segment.remove_prefix(end + 1);
  }
  return false;
}

int GroupView::liveIndex(std::string_view id) const {
  const size_t n = std::min(versions.size(), kMaxVersions);
  for (size_t i = 0; i < n; ++i) {
    if (versions[i].live() && versions[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

Choice chooseVersion(const GroupView& view, Traffic traffic, Kind kind, const RequestFacts& facts,
                     const PathKnowledge& known, int etag_version, std::string_view token_param) {
  if (!view.active || view.mode == conf::PinMode::Off) return {};
  const uint64_t live = liveMask(view);
  if (live == 0) return {};
  Choice choice;
  std::string_view token;
  int i = -1;
  if (!token_param.empty() && queryParam(facts.query, token_param, token) &&
      (i = view.liveIndex(token)) >= 0) {
    choice = pick(i, Reason::Token);
  } else if (etag_version >= 0 && etag_version < 64 && (live >> etag_version & 1) != 0) {
    choice = pick(etag_version, Reason::Etag);
  } else if (traffic == Traffic::Direct) {
    choice = preferDirect(view, facts, known, live);
  } else {
    choice = preferCdn(view, facts, known, live);
  }
  if (choice.version < 0) return {};
  return settle(view, kind, facts.path, known, choice);
}

void addManifestKnowledge(const GroupView& view, std::string_view path, bool hashed,
                          PathKnowledge& known) {
  const size_t n = std::min(view.versions.size(), kMaxVersions);
  for (size_t i = 0; i < n; ++i) {
    const PathSet* manifest = view.versions[i].manifest.get();
    if (manifest == nullptr) continue;
    const uint64_t bit = uint64_t{1} << i;
    if (manifest->contains(path)) {
      known.has |= bit;
      known.lacks &= ~bit;
    } else if (hashed && (known.has & bit) == 0) {
      known.lacks |= bit;
    }
  }
}

std::vector<int> retryOrder(const GroupView& view, uint64_t tried, const PathKnowledge& known,
                            uint32_t max) {
  std::vector<int> order;
  const size_t n = std::min(view.versions.size(), kMaxVersions);
  for (size_t i = n; i-- > 0 && order.size() < max;) {
    const uint64_t bit = uint64_t{1} << i;
    if (!view.versions[i].live() || (tried & bit) != 0 || (known.lacks & bit) != 0) continue;
    order.push_back(static_cast<int>(i));
  }
  return order;
}

std::optional<int64_t> sharedFreshness(std::string_view cache_control, std::string_view expires,
                                       std::string_view date, std::string_view age) {
  const CacheControl cc = parseCacheControl(cache_control);
  if (cc.no_store || cc.priv || cc.no_cache) return std::nullopt;
  std::optional<int64_t> lifetime = cc.s_maxage ? cc.s_maxage : cc.max_age;
  if (!lifetime && !trimOws(expires).empty()) {
    const std::optional<int64_t> when = parseImfFixdate(date);
    if (!when) return std::nullopt;
    const std::optional<int64_t> until = parseImfFixdate(expires);
    lifetime = until ? *until - *when : 0;
  }
  if (!lifetime) return std::nullopt;
  const int64_t current_age = parseDelta(trimOws(age)).value_or(0);
  return std::max<int64_t>(0, *lifetime - current_age);
}

std::string pinCookie(std::string_view name, std::string_view version_id,
                      std::chrono::seconds max_age, bool secure) {
  std::string cookie;
  cookie.reserve(name.size() + version_id.size() + 64);
  cookie.append(name).append("=").append(version_id);
  cookie.append("; Path=/; Max-Age=").append(std::to_string(std::max<int64_t>(0, max_age.count())));
  cookie.append("; HttpOnly; SameSite=Lax");
  if (secure) cookie.append("; Secure");
  return cookie;
}

// ---- chooseCdnVersion / holdUntilMs ----------------------------------------------------------

CdnChoice chooseCdnVersion(const GroupView& view, const CdnInputs& in, int64_t now_ms) {
  if (!in.operator_id.empty()) {
    if (const int i = view.liveIndex(in.operator_id); i >= 0) return {i, "operator", false};
  }
  if (!in.label_id.empty()) {
    if (const int i = view.liveIndex(in.label_id); i >= 0) return {i, "label", false};
  }
  int oldest_live = -1;
  for (size_t i = 0; i < view.versions.size(); ++i) {
    if (view.versions[i].live()) {
      oldest_live = static_cast<int>(i);
      break;
    }
  }
  if (oldest_live < 0) return {};
  if (view.versions[oldest_live].serving > 0) return {oldest_live, "oldest serving", false};
  if (now_ms < in.hold_until_ms) return {oldest_live, "held", true};
  for (size_t i = static_cast<size_t>(oldest_live) + 1; i < view.versions.size(); ++i) {
    if (view.versions[i].serving > 0) return {static_cast<int>(i), "no serving host", false};
  }
  return {oldest_live, "oldest live", false};
}

int64_t holdUntilMs(int64_t cutover_started_ms, int64_t max_fresh_ms, int64_t local_mark_ms) {
  if (cutover_started_ms > 0 && max_fresh_ms >= 0) return cutover_started_ms + max_fresh_ms;
  return local_mark_ms;
}

}  // namespace baton::routing::pin
