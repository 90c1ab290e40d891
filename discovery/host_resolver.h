// Asynchronous resolution of Mesos agent host names (task.host) to numeric addresses.
//
// Called by the discovery manager on the control thread before it translates a document
// (marathon.md §1.3: host and bridge modes route to a DNS lookup of task.host). Never blocks
// the loop: lookups go through an evdns_base owned here. Results are cached for kTtl (failures
// for kNegativeTtl); numeric addresses pass through without a lookup. Control thread only.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxy/core/event_loop.h"

struct evdns_base;
struct evdns_getaddrinfo_request;
struct addrinfo;

namespace baton::discovery {

// A numeric IPv4 or IPv6 address (needs no lookup).
bool isNumericAddress(std::string_view host);

class HostResolver {
 public:
  static constexpr std::chrono::seconds kTtl{60};
  static constexpr std::chrono::seconds kNegativeTtl{5};

  explicit HostResolver(core::EventLoop& loop);
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  // Resolves every name not yet cached (or expired), then calls done() on the loop (never from
  // inside this call).
  void resolveAll(const std::vector<std::string>& hosts, std::function<void()> done);
  // The cached numeric IP, the host itself when numeric, or nullopt (unknown or unresolvable).
  std::optional<std::string> lookup(std::string_view host) const;

 private:
  struct Lookup;
  struct Entry {
    std::optional<std::string> address;
    std::chrono::steady_clock::time_point expires;
  };
  struct Waiter {
    std::unordered_set<std::string> remaining;
    std::function<void()> done;
  };
  static void onResolved(int result, ::addrinfo* res, void* arg);
  void resolved(const std::string& host, std::optional<std::string> address);
  void finishReadyWaiters();

  core::EventLoop& loop_;
  evdns_base* dns_ = nullptr;
  std::unordered_map<std::string, Entry> cache_;
  std::unordered_map<std::string, Lookup*> pending_;
  std::vector<Waiter> waiters_;
  core::Timer ready_timer_;  // runs done() callbacks outside resolveAll
};

}  // namespace baton::discovery
