#include "discovery/host_resolver.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>

#include <algorithm>

#include "conf/value_syntax.h"

namespace baton::discovery {
bool isNumericAddress(std::string_view host) {
  return conf::isNumericIp(host);
}

namespace {

std::optional<std::string> firstAddress(const evutil_addrinfo* ai) {
  for (; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr, text,
                sizeof text);
      return std::string(text);
    }
    if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr, text,
                sizeof text);
      return std::string(text);
    }
  }
  return std::nullopt;
}

}  // namespace

// The evdns base of a destroyed resolver, kept until its cancelled lookups have called back
// (libevent delivers the cancellations later, from the loop, and they read the base).
struct OrphanedDns {
  evdns_base* dns;
  size_t outstanding;
};

void freeOrphanedDns(evutil_socket_t, short, void* arg) {
  auto* orphan = static_cast<OrphanedDns*>(arg);
  evdns_base_free(orphan->dns, 0);
  delete orphan;
}

struct HostResolver::Lookup {
  HostResolver* owner;  // nullptr once the resolver is gone (the callback then only frees)
  std::string host;
  evdns_getaddrinfo_request* request = nullptr;
  OrphanedDns* orphan = nullptr;
  event_base* base = nullptr;
};

HostResolver::HostResolver(core::EventLoop& loop)
    : loop_(loop), ready_timer_(loop, [this] { finishReadyWaiters(); }) {
  dns_ = evdns_base_new(loop.base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
  if (dns_ == nullptr) dns_ = evdns_base_new(loop.base(), 0);  // no resolv.conf: names fail
}

HostResolver::~HostResolver() {
  auto pending = std::move(pending_);
  pending_.clear();
  if (dns_ == nullptr) return;
  if (pending.empty()) {
    evdns_base_free(dns_, 0);
    return;
  }
  // Each cancelled lookup still calls back (EVUTIL_EAI_CANCEL) from the loop and frees its
  // Lookup; the last one frees the base.
  auto* orphan = new OrphanedDns{dns_, pending.size()};
  for (auto& [host, lookup] : pending) {
    lookup->owner = nullptr;
    lookup->orphan = orphan;
    lookup->base = loop_.base();
  }
  for (auto& [host, lookup] : pending)
    if (lookup->request != nullptr) evdns_getaddrinfo_cancel(lookup->request);
}

void HostResolver::resolveAll(const std::vector<std::string>& hosts, std::function<void()> done) {
  Waiter waiter{{}, std::move(done)};
  const auto now = std::chrono::steady_clock::now();
  for (const auto& host : hosts) {
    if (host.empty() || isNumericAddress(host)) continue;
    if (auto it = cache_.find(host); it != cache_.end() && it->second.expires > now) continue;
    waiter.remaining.insert(host);
    if (pending_.contains(host) || dns_ == nullptr) continue;
    auto* lookup = new Lookup{this, host};
    pending_[host] = lookup;
    evutil_addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // May call back synchronously (hosts file, immediate failure); that only fills the cache.
    auto* request =
        evdns_getaddrinfo(dns_, host.c_str(), nullptr, &hints, &HostResolver::onResolved, lookup);
    if (pending_.contains(host)) lookup->request = request;  // else it already completed
  }
  if (dns_ == nullptr)
    for (const auto& host : waiter.remaining)
      cache_[host] = Entry{std::nullopt, now + kNegativeTtl};
  std::erase_if(waiter.remaining, [this](const std::string& h) { return !pending_.contains(h); });
  waiters_.push_back(std::move(waiter));
  ready_timer_.arm(std::chrono::milliseconds{0});
}

void HostResolver::onResolved(int result, ::addrinfo* res, void* arg) {
  auto* lookup = static_cast<Lookup*>(arg);
  std::optional<std::string> address;
  if (result == 0) address = firstAddress(res);
  if (res != nullptr) evutil_freeaddrinfo(res);
  if (lookup->owner != nullptr) lookup->owner->resolved(lookup->host, std::move(address));
  if (lookup->orphan != nullptr && --lookup->orphan->outstanding == 0) {
    // Not from inside evdns's own callback: on the next loop iteration.
    const timeval now{0, 0};
    event_base_once(lookup->base, -1, EV_TIMEOUT, &freeOrphanedDns, lookup->orphan, &now);
  }
  delete lookup;
}

void HostResolver::resolved(const std::string& host, std::optional<std::string> address) {
  pending_.erase(host);
  const auto ttl = address ? std::chrono::steady_clock::duration(kTtl)
                           : std::chrono::steady_clock::duration(kNegativeTtl);
  cache_[host] = Entry{std::move(address), std::chrono::steady_clock::now() + ttl};
  for (auto& waiter : waiters_) waiter.remaining.erase(host);
  ready_timer_.arm(std::chrono::milliseconds{0});
}

void HostResolver::finishReadyWaiters() {
  std::vector<std::function<void()>> ready;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (!w.remaining.empty()) return false;
    ready.push_back(std::move(w.done));
    return true;
  });
  for (auto& done : ready)
    if (done) done();
}

std::optional<std::string> HostResolver::lookup(std::string_view host) const {
  if (isNumericAddress(host)) return std::string(host);
  auto it = cache_.find(std::string(host));
  if (it == cache_.end()) return std::nullopt;
  return it->second.address;
}

}  // namespace baton::discovery
