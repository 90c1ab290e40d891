#include "proxy/pinned_request.h"
#include "proxy/core/clock.h"

#include <chrono>

namespace baton::proxy {
namespace {

namespace pin = routing::pin;

std::string_view fieldOr(const http1::HeaderList& headers, std::string_view name) {
  const std::string* v = http1::findHeader(headers, name);
  return v != nullptr ? std::string_view(*v) : std::string_view();
}

bool success(uint16_t status) {
  return status >= 200 && status < 300;
}

// Rule 12's mark: how long a shared cache may keep this answer.
void noteCdnFreshness(const PinGroupState& group, const http1::HeaderList& headers) {
  const std::optional<int64_t> fresh =
      pin::sharedFreshness(fieldOr(headers, "cache-control"), fieldOr(headers, "expires"),
                           fieldOr(headers, "date"), fieldOr(headers, "age"));
  if (fresh && *fresh > 0) group.runtime->noteCdnFreshUntil(core::unixNowMs() + *fresh * 1000);
}

pin::RequestFacts factsOf(const http1::RequestHead& request, std::string_view path,
                          std::string_view query, const PinSettings& settings) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  return pin::gatherFacts(request.method, path, query, request.headers, settings.spec.header,
                          settings.spec.cookie);
}

// Documents and files without a content hash in their name: what a CDN must not keep across a
// cutover (rules 11 and 12).
bool unhashedContent(pin::Kind kind, bool hashed) {
  return kind == pin::Kind::Document || (kind == pin::Kind::Asset && !hashed);
}

}  // namespace

void setHeader(http1::HeaderList& headers, std::string_view name, std::string_view value) {
  std::erase_if(headers,
                [&](const http1::HeaderField& h) { return http1::equalsIgnoreCase(h.name, name); });
  if (!value.empty()) headers.push_back({std::string(name), std::string(value)});
}

PinnedRequest::PinnedRequest(const PinGroupState& group, const PinSettings& settings,
                             const pin::ClassifyRules& rules, std::shared_ptr<pin::LearnedMap> map,
                             const http1::RequestHead& request, std::string_view path,
                             std::string_view query, conf::CdnOrigin origin)
    : group_(group), settings_(settings), map_(std::move(map)), path_(path) {
  const pin::RequestFacts facts = factsOf(request, path, query, settings);
  traffic_ = pin::classifyTraffic(origin, facts);
  kind_ = pin::classifyKind(facts, rules);
  hashed_ = kind_ == pin::Kind::Asset && pin::isHashedPath(path, rules);
  get_or_head_ = pin::isGetOrHead(request.method);
  pin_cookie_ = facts.pin_cookie;
  const auto now = pin::Clock::now();
  known_ = map_->lookup(path_, group_.view, now);
  learned_lacks_ = known_.lacks;
  pin::addManifestKnowledge(group_.view, path_, hashed_, known_);
  // A CDN revalidating a document or an unhashed file asks the CDN version, not the build its
  // copy came from: after a flip the copy must be replaced, not renewed by a 304 (the version's
  // hashed files keep the ETag rule: their bytes are the same in every build that has them).
  const bool etag_applies = !facts.if_none_match.empty() &&
                            !(traffic_ == pin::Traffic::Cdn && unhashedContent(kind_, hashed_));
  const int etag_version =
      etag_applies ? map_->versionForEtag(path_, facts.if_none_match, group_.view) : -1;
  choice_ = pin::chooseVersion(group_.view, traffic_, kind_, facts, known_, etag_version,
                               settings.spec.token_param);
  if (choice_.version >= 0) group_.runtime->pinned.fetch_add(1, std::memory_order_relaxed);
  if (choice_.fallback) group_.runtime->fallbacks.fetch_add(1, std::memory_order_relaxed);
}

uint16_t PinnedRequest::version() const {
  return choice_.version < 0 ? upstream::Host::kNoVersion : static_cast<uint16_t>(choice_.version);
}

std::string_view PinnedRequest::versionId() const {
  if (choice_.version < 0) return "-";
  return group_.view.versions[static_cast<size_t>(choice_.version)].id;
}

std::string_view PinnedRequest::reasonName() const {
  return pin::reasonName(choice_.reason);
}

bool PinnedRequest::missed(uint16_t status) const {
  return (status == 404 || status == 410) && get_or_head_ && kind_ == pin::Kind::Asset &&
         choice_.version >= 0;
}

// Rule 4: a GET/HEAD asset miss during cutover goes to the other live versions, newest first,
// at most max_retries more (never a body to replay: GET/HEAD assets carry none).
bool PinnedRequest::retryAfter(uint16_t status) {
  if (!missed(status) || !group_.view.in_cutover) return false;
  tried_ |= uint64_t{1} << choice_.version;
  if (retries_ >= settings_.spec.max_retries) return false;  // onResponse learns the miss
  // Only what a version itself answered rules it out: a manifest that does not list a file
  // steers the first choice, never a retry (a build may serve files its manifest omits).
  const std::vector<int> next = pin::retryOrder(group_.view, tried_, {0, learned_lacks_}, 1);
  if (next.empty()) return false;
  map_->learnLacks(path_, versionId(), pin::Clock::now());  // the answer goes no further
  ++retries_;
  group_.runtime->retries.fetch_add(1, std::memory_order_relaxed);
  choice_.version = next.front();
  choice_.reason = pin::Reason::Retry;
  return true;
}

void PinnedRequest::onResponse(uint16_t status, http1::HeaderList& headers, bool tls) {
  learn(status, headers);
  if (missed(status)) {
    markAllMiss(headers);
  } else if (success(status) && retries_ > 0) {
    group_.runtime->retry_hits.fetch_add(1, std::memory_order_relaxed);
  }
  // A 304 counts like the 2xx it renews: a cache takes the 304's Cache-Control for its copy
  // (RFC 9111 §4.3.4), so the cap and the freshness mark apply to it too.
  if (!success(status) && status != 304) return;
  if (choice_.fallback && kind_ == pin::Kind::Document) {
    // Rule 8: the page comes from another build than the client asked for; no cache keeps it.
    setHeader(headers, "Cache-Control", "no-store");
    setHeader(headers, "Expires", "");
  } else if (traffic_ == pin::Traffic::Cdn && group_.view.cache_cap &&
             unhashedContent(kind_, hashed_)) {
    capCdnCaching(headers);
  }
  if (traffic_ == pin::Traffic::Direct) {
    if (success(status)) maybeSetCookie(headers, tls);
  } else if (unhashedContent(kind_, hashed_)) {
    noteCdnFreshness(group_, headers);  // what the CDN may still keep (none when capped)
  }
}

void PinnedRequest::learn(uint16_t status, const http1::HeaderList& headers) {
  if (choice_.version < 0 || !get_or_head_) return;
  if (success(status) || status == 304) {
    map_->learnHas(path_, versionId(), fieldOr(headers, "etag"));
  } else if (status == 404 || status == 410) {
    map_->learnLacks(path_, versionId(), pin::Clock::now());
  }
}

// Every version missed (or the only one left, during the grace): the 404 is transitional, so no
// shared cache may keep it (CloudFront honours no-store on 404/410).
void PinnedRequest::markAllMiss(http1::HeaderList& headers) {
  group_.runtime->all_miss.fetch_add(1, std::memory_order_relaxed);
  setHeader(headers, "Cache-Control", "no-store");
  setHeader(headers, "Expires", "");
  setHeader(headers, "X-Baton-Pin", "miss");
}

// Rule 11: the CDN revalidates documents and unhashed files on every use until the grace ends
// (validators kept, so a revalidation is a cheap 304).
void PinnedRequest::capCdnCaching(http1::HeaderList& headers) {
  group_.runtime->cache_capped.fetch_add(1, std::memory_order_relaxed);
  setHeader(headers, "Cache-Control", "no-cache");
  setHeader(headers, "Expires", "");
}

// Rule 6 (mode full): an HTML page pins the browser to its build; a cookie naming a dead version
// is replaced by the same rule.
void PinnedRequest::maybeSetCookie(http1::HeaderList& headers, bool tls) {
  if (group_.view.mode != conf::PinMode::Full || kind_ != pin::Kind::Document) return;
  if (choice_.version < 0 || pin_cookie_ == versionId()) return;
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(settings_.spec.cookie_ttl);
  headers.push_back({"Set-Cookie", pin::pinCookie(settings_.spec.cookie, versionId(), ttl, tls)});
  group_.runtime->cookies_set.fetch_add(1, std::memory_order_relaxed);
}

void PinnedRequest::recordCdnFreshness(const PinGroupState& group, const PinSettings& settings,
                                       const pin::ClassifyRules& rules,
                                       const http1::RequestHead& request, std::string_view path,
                                       conf::CdnOrigin origin, uint16_t status,
                                       const http1::HeaderList& headers) {
  if ((!success(status) && status != 304) || !pin::isGetOrHead(request.method)) return;
  const pin::RequestFacts facts = factsOf(request, path, {}, settings);
  if (pin::classifyTraffic(origin, facts) != pin::Traffic::Cdn) return;
  const pin::Kind kind = pin::classifyKind(facts, rules);
  if (!unhashedContent(kind, kind == pin::Kind::Asset && pin::isHashedPath(path, rules))) return;
  noteCdnFreshness(group, headers);
}

}  // namespace baton::proxy
