#include "proxy/forwarding.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <type_traits>

namespace baton::proxy {
namespace {

using http1::HeaderField;
using http1::HeaderList;

// The header names forwarding cares about; everything else is Other and passes through.
enum class Name : uint8_t {
  Other,
  Connection,
  KeepAlive,
  ProxyConnection,
  Te,
  TransferEncoding,
  ContentLength,
  Upgrade,
  Http2Settings,
  Host,
  Expect,
  XRequestId,
  XForwardedFor,
  XForwardedProto,
  XForwardedHost,
  XForwardedPort,
  XRealIp,
  Forwarded,
};

constexpr unsigned char lowerAscii(unsigned char c) {
  return static_cast<unsigned char>(static_cast<unsigned>(c - 'A') < 26u ? c + 32 : c);
}

// `name` equals the lower-case literal `lit` ignoring ASCII case; '_' in `name` also matches '-'
// in `lit` and sets `underscore`. Lengths are already known equal.
bool nameIs(std::string_view name, std::string_view lit, bool& underscore) {
  bool saw_underscore = false;
  for (size_t i = 0; i < lit.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (lit[i] == '-' && c == '_') {
      saw_underscore = true;
    } else if (lowerAscii(c) != static_cast<unsigned char>(lit[i])) {
      return false;
    }
  }
  underscore = saw_underscore;
  return true;
}

// Dispatch on length first: most names fail there without looking at a byte.
Name classify(std::string_view n, bool& underscore) {
  underscore = false;
  bool& u = underscore;
  switch (n.size()) {
    case 2:
      return nameIs(n, "te", u) ? Name::Te : Name::Other;
    case 4:
      return nameIs(n, "host", u) ? Name::Host : Name::Other;
    case 6:
      return nameIs(n, "expect", u) ? Name::Expect : Name::Other;
    case 7:
      return nameIs(n, "upgrade", u) ? Name::Upgrade : Name::Other;
    case 9:
      if (nameIs(n, "x-real-ip", u)) return Name::XRealIp;
      return nameIs(n, "forwarded", u) ? Name::Forwarded : Name::Other;
    case 10:
      if (nameIs(n, "connection", u)) return Name::Connection;
      return nameIs(n, "keep-alive", u) ? Name::KeepAlive : Name::Other;
    case 12:
      return nameIs(n, "x-request-id", u) ? Name::XRequestId : Name::Other;
    case 14:
      if (nameIs(n, "content-length", u)) return Name::ContentLength;
      return nameIs(n, "http2-settings", u) ? Name::Http2Settings : Name::Other;
    case 15:
      return nameIs(n, "x-forwarded-for", u) ? Name::XForwardedFor : Name::Other;
    case 16:
      if (nameIs(n, "proxy-connection", u)) return Name::ProxyConnection;
      if (nameIs(n, "x-forwarded-host", u)) return Name::XForwardedHost;
      return nameIs(n, "x-forwarded-port", u) ? Name::XForwardedPort : Name::Other;
    case 17:
      if (nameIs(n, "transfer-encoding", u)) return Name::TransferEncoding;
      return nameIs(n, "x-forwarded-proto", u) ? Name::XForwardedProto : Name::Other;
    default:
      return Name::Other;
  }
}

// Hop-by-hop in both directions (the Connection header itself is handled separately).
bool isHopByHop(Name n) {
  switch (n) {
    case Name::KeepAlive:
    case Name::ProxyConnection:
    case Name::Te:
    case Name::TransferEncoding:
    case Name::ContentLength:
    case Name::Upgrade:
    case Name::Http2Settings:
      return true;
    default:
      return false;
  }
}

bool equalsIgnoreCaseAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(static_cast<unsigned char>(a[i])) !=
        lowerAscii(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Names listed in the message's Connection header(s). Tokens naming a field that is stripped
// anyway are not stored, so `Connection: keep-alive` costs nothing later. Past the fixed
// capacity (a hostile or silly message) lookups fall back to re-reading the Connection fields.
class ConnectionTokens {
 public:
  explicit ConnectionTokens(const HeaderList& in) : in_(in) {}

  void add(std::string_view value) {
    http1::forEachListElement(value, [this](std::string_view token) {
      bool underscore;
      const Name n = classify(token, underscore);
      if (n == Name::Connection || isHopByHop(n)) return true;
      if (count_ == tokens_.size()) {
        overflow_ = true;
        return false;
      }
      tokens_[count_++] = token;
      return true;
    });
  }

  bool empty() const { return count_ == 0 && !overflow_; }

  bool lists(std::string_view name) const {
    if (overflow_) return listsSlow(name);
    for (size_t i = 0; i < count_; ++i) {
      if (equalsIgnoreCaseAscii(tokens_[i], name)) return true;
    }
    return false;
  }

 private:
  bool listsSlow(std::string_view name) const {
    bool found = false;
    for (const HeaderField& h : in_) {
      bool underscore;
      if (classify(h.name, underscore) != Name::Connection || underscore) continue;
      http1::forEachListElement(h.value, [&](std::string_view token) {
        found = equalsIgnoreCaseAscii(token, name);
        return !found;
      });
      if (found) return true;
    }
    return false;
  }

  static constexpr size_t kCapacity = 16;
  const HeaderList& in_;
  std::array<std::string_view, kCapacity> tokens_{};
  size_t count_ = 0;
  bool overflow_ = false;
};

// Identity fields a trusted peer may have set; baton adds its own only when none was kept.
struct KeptIdentity {
  bool proto = false;
  bool host = false;
  bool port = false;
  bool real_ip = false;

  void set(Name n, bool value) {
    switch (n) {
      case Name::XForwardedProto:
        proto = value;
        break;
      case Name::XForwardedHost:
        host = value;
        break;
      case Name::XForwardedPort:
        port = value;
        break;
      case Name::XRealIp:
        real_ip = value;
        break;
      default:
        break;
    }
  }
};

bool isIdentity(Name n) {
  switch (n) {
    case Name::XForwardedFor:
    case Name::XForwardedProto:
    case Name::XForwardedHost:
    case Name::XForwardedPort:
    case Name::XRealIp:
    case Name::Forwarded:
      return true;
    default:
      return false;
  }
}

// Fills the caller's list, reusing the strings already in it: a stream that recycles its header
// list then builds a head without touching the allocator once the strings have grown. A
// FieldViewList gets views instead (no bytes copied at all).
template <typename List>
class OutputList {
 public:
  OutputList(List& out, size_t expected) : out_(out) { out_.reserve(expected); }
  ~OutputList() { out_.resize(size_); }
  OutputList(const OutputList&) = delete;
  OutputList& operator=(const OutputList&) = delete;

  void add(std::string_view name, std::string_view value) {
    if constexpr (std::is_same_v<List, HeaderList>) {
      if (size_ < out_.size()) {
        out_[size_].name.assign(name);
        out_[size_].value.assign(value);
      } else {
        out_.push_back(HeaderField{std::string(name), std::string(value)});
      }
    } else if (size_ < out_.size()) {
      out_[size_] = {name, value};
    } else {
      out_.push_back({name, value});
    }
    ++size_;
  }

  template <typename Pred>
  void removeIf(Pred&& pred) {
    const auto begin = out_.begin();
    const auto end = std::remove_if(begin, begin + static_cast<ptrdiff_t>(size_), pred);
    size_ = static_cast<size_t>(end - begin);
  }

 private:
  List& out_;
  size_t size_ = 0;
};

// Removes fields named in Connection from `out`, which holds only copied input fields so far
// (never one baton adds). Keeps `kept` in step with what is left.
template <typename List>
void removeListed(const ConnectionTokens& tokens, OutputList<List>& out, KeptIdentity& kept) {
  out.removeIf([&](const auto& h) {
    if (!tokens.lists(h.name)) return false;
    bool underscore;
    kept.set(classify(h.name, underscore), false);
    return true;
  });
}

void appendForwardedFor(std::string& chain, std::string_view value) {
  http1::forEachListElement(value, [&](std::string_view hop) {
    if (!chain.empty()) chain.append(", ");
    chain.append(hop);
    return true;
  });
}

// Computed values (the joined X-Forwarded-For, the port's digits) are written into `storage`,
// sized first so that it never reallocates under a view already taken of it; it must outlive
// `out` when that holds views.
template <typename List>
void appendBatonFields(const ForwardContext& ctx, const KeptIdentity& kept,
                       std::string_view trusted_chain, std::string& storage,
                       OutputList<List>& out) {
  constexpr size_t kPortDigits = 8;
  storage.clear();
  storage.reserve(kPortDigits +
                  (trusted_chain.empty() ? 0 : trusted_chain.size() + 2 + ctx.client_ip.size()));
  out.add("Host", ctx.upstream_host.empty() ? ctx.host : ctx.upstream_host);
  if (trusted_chain.empty()) {
    out.add("X-Forwarded-For", ctx.client_ip);
  } else {
    const size_t at = storage.size();
    storage.append(trusted_chain).append(", ").append(ctx.client_ip);
    out.add("X-Forwarded-For", std::string_view(storage).substr(at));
  }
  if (!kept.proto) out.add("X-Forwarded-Proto", ctx.proto);
  if (!kept.host && !ctx.host.empty()) out.add("X-Forwarded-Host", ctx.host);
  if (!kept.port) {
    char buf[kPortDigits];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ctx.listener_port);
    const size_t at = storage.size();
    storage.append(buf, static_cast<size_t>(end - buf));
    out.add("X-Forwarded-Port", std::string_view(storage).substr(at));
  }
  if (!kept.real_ip) out.add("X-Real-IP", ctx.client_ip);
  if (!ctx.request_id.empty()) out.add("X-Request-Id", ctx.request_id);
  if (ctx.websocket) {
    out.add("Connection", "Upgrade");
    out.add("Upgrade", "websocket");
  }
}

template <typename List>
void buildUpstreamRequest(const HeaderList& in, const ForwardContext& ctx, List& out_list,
                          std::string& storage) {
  OutputList<List> out(out_list, in.size() + 9);  // + baton's 7 fields + the caller's framing
  ConnectionTokens tokens(in);
  KeptIdentity kept;
  std::string xff;  // a trusted peer's chain (rare: only trusted peers get here)
  bool saw_xff = false;
  for (const HeaderField& h : in) {
    bool underscore;
    const Name n = classify(h.name, underscore);
    if (n == Name::Other) {
      out.add(h.name, h.value);
      continue;
    }
    if (n == Name::Connection && !underscore) tokens.add(h.value);
    if (underscore || !ctx.peer_trusted || !isIdentity(n)) continue;  // stripped or replaced
    if (n == Name::XForwardedFor) {
      saw_xff = true;
      appendForwardedFor(xff, h.value);
      continue;
    }
    kept.set(n, true);
    out.add(h.name, h.value);
  }
  if (!tokens.empty()) {
    removeListed(tokens, out, kept);
    if (saw_xff && tokens.lists("X-Forwarded-For")) xff.clear();
  }
  appendBatonFields(ctx, kept, xff, storage, out);
}

}  // namespace

void buildUpstreamRequestHeaders(const HeaderList& in, const ForwardContext& ctx,
                                 HeaderList& out_list) {
  std::string storage;  // copied into out_list's strings: a local will do (no allocation)
  buildUpstreamRequest(in, ctx, out_list, storage);
}

void buildUpstreamRequestFields(const HeaderList& in, const ForwardContext& ctx,
                                http1::FieldViewList& out, std::string& storage) {
  buildUpstreamRequest(in, ctx, out, storage);
}

bool requestsWebSocket(const HeaderList& headers) {
  bool connection_upgrade = false;
  size_t upgrade_fields = 0;
  bool websocket = false;
  for (const HeaderField& h : headers) {
    bool underscore;
    const Name n = classify(h.name, underscore);
    if (underscore) continue;
    if (n == Name::Connection) {
      http1::forEachListElement(h.value, [&](std::string_view token) {
        connection_upgrade = connection_upgrade || equalsIgnoreCaseAscii(token, "upgrade");
        return true;
      });
    } else if (n == Name::Upgrade) {
      ++upgrade_fields;
      websocket = equalsIgnoreCaseAscii(http1::trimOws(h.value), "websocket");
    }
  }
  return connection_upgrade && upgrade_fields == 1 && websocket;
}

bool isIdentityField(std::string_view name) {
  bool underscore = false;
  const Name n = classify(name, underscore);
  return isIdentity(n) || n == Name::XRequestId;
}

bool upgradesToWebSocket(const HeaderList& headers) {
  bool websocket = false;
  for (const HeaderField& h : headers) {
    bool underscore;
    if (classify(h.name, underscore) != Name::Upgrade || underscore) continue;
    http1::forEachListElement(h.value, [&](std::string_view token) {
      websocket = websocket || equalsIgnoreCaseAscii(token, "websocket");
      return !websocket;
    });
  }
  return websocket;
}

void buildDownstreamResponseHeaders(const HeaderList& in, HeaderList& out_list, bool websocket) {
  OutputList<HeaderList> out(out_list, in.size() + 3);  // + the caller's framing and Connection
  ConnectionTokens tokens(in);
  for (const HeaderField& h : in) {
    bool underscore;
    const Name n = classify(h.name, underscore);
    if (n == Name::Connection) {
      if (!underscore) tokens.add(h.value);
      continue;
    }
    if (isHopByHop(n) && !underscore) continue;
    out.add(h.name, h.value);
  }
  if (!tokens.empty()) {
    KeptIdentity unused;
    removeListed(tokens, out, unused);
  }
  if (websocket) {
    out.add("Connection", "Upgrade");
    out.add("Upgrade", "websocket");
  }
}

void filterDownstreamResponseHeaders(HeaderList& headers) {
  // Which fields go, decided before anything moves: the Connection tokens are views into the
  // list's own values. Past 64 fields (rare) the copying path above decides.
  if (headers.size() > 64) {
    HeaderList out;
    buildDownstreamResponseHeaders(headers, out);
    headers = std::move(out);
    return;
  }
  ConnectionTokens tokens(headers);
  uint64_t drop = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    bool underscore;
    const Name n = classify(headers[i].name, underscore);
    if (n == Name::Connection) {
      if (!underscore) tokens.add(headers[i].value);
      drop |= uint64_t{1} << i;
    } else if (isHopByHop(n) && !underscore) {
      drop |= uint64_t{1} << i;
    }
  }
  if (!tokens.empty()) {
    for (size_t i = 0; i < headers.size(); ++i) {
      if (tokens.lists(headers[i].name)) drop |= uint64_t{1} << i;
    }
  }
  if (drop == 0) return;
  size_t kept = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    if ((drop & (uint64_t{1} << i)) != 0) continue;
    if (kept != i) headers[kept] = std::move(headers[i]);
    ++kept;
  }
  headers.resize(kept);
}

}  // namespace baton::proxy
