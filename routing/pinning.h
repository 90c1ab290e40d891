// Asset pinning: the pure decisions (asset-pinning.md; routing/README.md says why this design).
//
// During a blue-green cutover a group's cluster holds hosts of two or more versions (builds).
// The stream asks these functions, in order: what kind of request is this (classify), which
// version should serve it (chooseVersion), which versions to try after a 404/410 miss
// (retryOrder). The control thread builds one GroupView per pinned cluster per snapshot; each
// worker keeps its own LearnedMap per group (no locks: a worker learns from its own traffic).
//
// Everything here is pure: no sockets, no clocks (callers pass `now`), no allocation on the
// common path except the learned map's own entries. A group not in cutover (GroupView::active
// false) is never classified: the stream checks `active` first and pays nothing else.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/core/string_keyed.h"

namespace baton::routing::pin {

using Clock = std::chrono::steady_clock;

enum class Traffic : uint8_t { Direct, Cdn };
enum class Kind : uint8_t { Document, Asset, Other };

// Why a version was chosen (access log field `pin_reason`), in rule order.
enum class Reason : uint8_t {
  None,      // not pinned (group not active, mode off, or no version known)
  Token,     // URL token (?dpl=<id>) naming a live version
  Etag,      // If-None-Match carries an ETag learned from that version
  Header,    // X-Deployment-Id (direct traffic)
  Cookie,    // the pin cookie (mode full, direct traffic)
  Map,       // the learned map: the only live version known to have the path
  Cdn,       // the group's CDN version (CDN traffic)
  Hash,      // deterministic per-path pick weighted by serving hosts
  Fallback,  // the chosen version had no serving host: another one took it
  Retry,     // a retry after a 404/410 miss
};
std::string_view reasonName(Reason reason);  // "token", "etag", ... ("-" for None)

// Classification rules, precomputed once per snapshot from [pinning].
struct ClassifyRules {
  std::vector<std::string> asset_suffixes;  // lower-case, e.g. ".js"
  std::vector<std::string> asset_prefixes;  // e.g. "/assets/"
  uint32_t hashed_min_hex = 8;
  std::vector<std::string> hashed_prefixes;
  static ClassifyRules from(const conf::PinningSpec& spec);
};

// What the decisions read from one request: views into the request (valid while it lives).
struct RequestFacts {
  std::string_view method;
  std::string_view path;   // the normalised path without the query (the route key)
  std::string_view query;  // after '?', "" when none
  std::string_view sec_fetch_dest;
  std::string_view accept;
  std::string_view if_none_match;
  std::string_view deployment_header;  // value of [pinning] header, "" when absent
  std::string_view pin_cookie;         // value of the [pinning] cookie, "" when absent
  bool cdn_marked = false;  // a CDN's mark: CDN-Loop, X-Varnish, X-Amz-Cf-Id, CF-Ray, Fastly-FF,
                            // Akamai-Origin-Hop, X-Azure-FDID, or any Via naming a CDN or cache
                            // (varnish, cloudfront, akamai, fastly, google, cloudflare, squid,
                            // cdn; pinning_facts.inl has the list and why)
  bool range = false;       // a Range field is present
};

// One pass over the request's fields (any container of items with `name` and `value` string
// members, e.g. http1::HeaderList). Field names compare case-insensitively; `header_name` and
// `cookie_name` come from [pinning]. The first occurrence of a field wins, except Cookie: every
// Cookie field is searched for `cookie_name`.
template <class Headers>
RequestFacts gatherFacts(std::string_view method, std::string_view path, std::string_view query,
                         const Headers& headers, std::string_view header_name,
                         std::string_view cookie_name);

// Is the request from a CDN? Yes/No as configured; Auto looks at RequestFacts::cdn_marked.
Traffic classifyTraffic(conf::CdnOrigin setting, const RequestFacts& facts);
// The methods pinning classifies as documents or assets, learns from and retries.
bool isGetOrHead(std::string_view method);
// Document: GET/HEAD with Sec-Fetch-Dest: document, or an Accept whose first type is text/html
// (or html preferred by q), or a path ending "/" or ".html"/".htm". Asset: GET/HEAD whose path
// ends with an asset suffix (case-insensitive) or starts with an asset prefix. Other: the rest.
// Precedence, strongest evidence first: the path's own ending ("/", .html/.htm: Document; an
// asset suffix: Asset; a browser navigating straight to app.js still gets a script), then the
// navigation signals (Sec-Fetch-Dest, Accept: Document), then an asset prefix (Asset). So
// /static/page with Accept: text/html is a Document and /static/logo (no suffix) an Asset.
Kind classifyKind(const RequestFacts& facts, const ClassifyRules& rules);
// Content-hashed: a hashed prefix, or a run of >= hashed_min_hex hex digits in the last segment
// (delimited by '.', '-', '_' or the segment's ends: "app.aaaa1111.js", "main-3f9a0c1d.css").
bool isHashedPath(std::string_view path, const ClassifyRules& rules);

// The files a version's build holds, from its manifest (BATON_PIN_MANIFEST); looked up by view.
using PathSet = core::StringSet;

// One version as the control thread saw it when building the snapshot.
struct VersionState {
  std::string id;
  uint32_t serving = 0;  // Active hosts (healthy, not draining): new requests
  uint32_t hosts = 0;    // Active + Draining hosts: a draining version still answers misses
  std::shared_ptr<const PathSet> manifest;  // null: none (or not loaded yet)
  bool live() const { return hosts > 0; }
};

// A pinned group in one snapshot. Built on the control thread; immutable once published.
struct GroupView {
  std::string group;
  conf::PinMode mode = conf::PinMode::Assets;
  // Oldest first (every version of the spec, live or not). Only the first 64 are seen by the
  // decisions and the learned map (bit sets over a uint64_t); a group has two or three.
  std::vector<VersionState> versions;
  int cdn_version = -1;     // index into versions; -1: none serving
  bool in_cutover = false;  // two or more live versions
  bool active = false;      // in cutover, or within the grace after it
  bool cache_cap = true;    // rule 11 applies (while active)
  // A new cutover gets a new epoch: a worker's learned map for an older epoch is cleared.
  uint64_t epoch = 0;
  // The index of the version whose id is `id` and is live, else -1.
  int liveIndex(std::string_view id) const;
};

// What the learned map knows of one path, as bits over GroupView::versions (bit i = index i).
struct PathKnowledge {
  uint64_t has = 0;    // answered 2xx/304 (no expiry: a build's files do not change)
  uint64_t lacks = 0;  // answered 404/410, within negative_ttl
};

// Per worker, per group: what each version answered for each path. Bounded LRU by path;
// entries name versions by id, so a removed version's entries are ignored (and dropped when the
// path is next touched) and a version's index may change between snapshots.
class LearnedMap {
 public:
  // capacity: paths kept ([pinning] map_entries; 0 learns nothing). Not thread-safe: one owner.
  LearnedMap(size_t capacity, Clock::duration negative_ttl);
  // Bits over view.versions for live versions only; the path becomes most recently used. O(1)
  // in the number of paths, no allocation (facts of removed versions and expired negative
  // facts are erased here; a path left with none is erased).
  PathKnowledge lookup(std::string_view path, const GroupView& view, Clock::time_point now);
  // The live version that answered `etag` (one entity-tag of an If-None-Match list, W/ or not)
  // for `path`, else -1.
  int versionForEtag(std::string_view path, std::string_view if_none_match,
                     const GroupView& view) const;
  // A 2xx/304 from version_id (etag: its ETag value, "" when none) / a 404/410 from it. Each
  // replaces that version's earlier answer for the path and makes the path most recently used;
  // a new path at capacity evicts the least recently used one.
  void learnHas(std::string_view path, std::string_view version_id, std::string_view etag);
  void learnLacks(std::string_view path, std::string_view version_id, Clock::time_point now);
  size_t size() const;
  void clear();

 private:
  // The latest answer of one version for one path: a later answer replaces an earlier one.
  struct Fact {
    std::string version_id;
    std::string etag;                 // opaque-tag (W/ removed), "" when none; has only
    Clock::time_point lacks_until{};  // !has: the negative answer counts until then
    bool has = false;
  };
  struct Entry {
    std::string path;
    std::vector<Fact> facts;  // one per version that answered
  };
  // The entry of `path`, made most recently used; created (evicting the least recently used
  // one at capacity) when absent. nullptr when the capacity is 0.
  Entry* touch(std::string_view path);
  Fact* factFor(std::string_view path, std::string_view version_id);
  size_t capacity_;
  Clock::duration negative_ttl_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // keys view lru_
};

// Adds what the versions' manifests say of `path` to `known`: listed -> has; for a
// content-hashed path, a loaded manifest that does not list it -> lacks (a bundler lists every
// hashed file it emitted; unhashed files may be served without being listed, so for them a
// manifest only ever says has).
void addManifestKnowledge(const GroupView& view, std::string_view path, bool hashed,
                          PathKnowledge& known);

struct Choice {
  int version = -1;  // index into GroupView::versions; -1: no version (plain balancing)
  Reason reason = Reason::None;
  bool fallback = false;  // the preferred version had no serving host (HTML gets no-store)
};

// The first rule that applies (asset-pinning.md §3, §7, §8):
//   a. token: `<token_param>=<id>` in the query naming a live version (unknown id: ignored);
//   b. If-None-Match with an ETag learned from a live version (etag_version >= 0);
//   direct traffic: c. the deployment header naming a live version; d. the pin cookie (mode
//   full) naming a live version; e. the learned map, when exactly one live version is known to
//   have the path; f. a deterministic per-path pick: rendezvous hash of the path over versions
//   weighted by serving hosts (so repeated and ranged requests for one URL land on one version);
//   CDN traffic: g. the CDN version unless the map says it lacks the path (then e, then f over
//   the other versions).
// A chosen version with no serving host: assets stay on it while it has draining hosts (they can
// still serve the files its HTML referenced); documents and other requests fall back to the f
// pick over serving versions, with reason Fallback and fallback = true (when no version serves
// at all the choice stays, fallback = true). No live version at all, view not active or mode
// off: version -1, reason None. `kind` is classifyKind()'s answer (the fallback needs it).
// Every f pick (direct, CDN, fallback) skips versions the map says lack the path while another
// candidate remains. Pure and allocation-free; a worker calls it once per pinned request.
Choice chooseVersion(const GroupView& view, Traffic traffic, Kind kind, const RequestFacts& facts,
                     const PathKnowledge& known, int etag_version, std::string_view token_param);

// The versions to try after `tried` (bits over versions) missed: live ones not tried, newest
// first, skipping those the map says lack the path, at most `max` of them.
std::vector<int> retryOrder(const GroupView& view, uint64_t tried, const PathKnowledge& known,
                            uint32_t max);

// Shared-cache freshness the response grants, in seconds, from its Cache-Control, Expires,
// Date and Age values ("" when absent): s-maxage, else max-age, else Expires - Date; minus Age.
// nullopt: not storable by a shared cache (no-store, private, no-cache) or no explicit lifetime.
// Cache-Control: every field line joined with ", " by the caller; directive names compare
// case-insensitively; `private="f"` / `no-cache="f"` (field-qualified) keep the response
// storable. An invalid max-age / s-maxage or Expires value means already stale (0). Expires
// needs a Date (IMF-fixdate, RFC 9110 §5.6.7): a response without one gets nullopt unless the
// caller passes its own clock's date. Values above 2^31 are capped there (RFC 9111 §1.2.2).
std::optional<int64_t> sharedFreshness(std::string_view cache_control, std::string_view expires,
                                       std::string_view date, std::string_view age);

// `Set-Cookie` value pinning a browser to `version_id`.
std::string pinCookie(std::string_view name, std::string_view version_id,
                      std::chrono::seconds max_age, bool secure);

// ---- Several baton instances, one answer (issue 10; routing/README.md "Several instances") ----
// Everything the CDN sees must be the same from every instance: the decisions below take only
// what Marathon says (the view's counts come from the base snapshot, the labels and timestamps
// from the apps) plus, for the operator's local override, this instance's admin command.

// Marathon's ISO-8601 UTC times ("2026-11-25T11:00:00.000Z", fraction and Z optional, or a
// "+hh:mm" offset) as unix ms; nullopt for anything else. Used for HAPROXY_DEPLOYMENT_STARTED_AT
// and versionInfo.lastConfigChangeAt.
std::optional<int64_t> parseMarathonTimeMs(std::string_view text);

// What the CDN version is computed from. All but `operator_id` are shared state.
struct CdnInputs {
  std::string_view operator_id;  // `set group <g> cdn-version <id>` on this instance ("" = none)
  std::string_view label_id;     // BATON_PIN_CDN_VERSION of the group's newest app ("" = none)
  // Rule 12: while now < hold_until_ms the oldest live version keeps the CDN even with only
  // draining hosts (holdUntilMs below).
  int64_t hold_until_ms = 0;
};

struct CdnChoice {
  int version = -1;      // index into GroupView::versions; -1: no live version
  const char* why = "";  // "operator", "label", "oldest serving", "held", "no serving host"
  bool held = false;     // the oldest live version kept by the hold (it would flip otherwise)
};

// The CDN version, first rule that applies: the operator's id when it names a live version; the
// label's when it names a live version; the oldest live version when it has a serving host, or
// when it has only draining ones and now_ms < hold_until_ms (held); the oldest version with a
// serving host; else the oldest live one (draining hosts still answer: availability first).
// A pure function of the view and the inputs: no memory of earlier choices, so an instance that
// restarts, or saw the changes in another order, lands on the same version.
CdnChoice chooseCdnVersion(const GroupView& view, const CdnInputs& in, int64_t now_ms);

// The rule-12 hold deadline (unix ms). `cutover_started_ms`: Marathon's start of the cutover (the
// newest live version's deployment start, parseMarathonTimeMs; 0 = unknown). `max_fresh_ms`: the
// longest shared-cache lifetime of the group's documents and unhashed files
// (BATON_PIN_CDN_MAX_FRESH; -1 = not given). `local_mark_ms`: the freshness this instance
// handed the CDN before the cutover (PinRuntime::cdn_fresh_until_ms).
// With both Marathon inputs: cutover_started_ms + max_fresh_ms, the same on every instance
// (objects handed before the cutover began expire by then; those handed during it are capped,
// rule 11). Otherwise the local mark: right for one instance, different per instance.
int64_t holdUntilMs(int64_t cutover_started_ms, int64_t max_fresh_ms, int64_t local_mark_ms);

// The id for a Marathon app without BATON_PIN_VERSION: 10 lower-case hex digits of a stable hash
// of the app id and versionInfo.lastConfigChangeAt (the same on every baton instance).
std::string derivedVersionId(std::string_view app_id, std::string_view last_config_change_at);

}  // namespace baton::routing::pin

#include "routing/pinning_facts.inl"  // gatherFacts (a template over the header container)
