// Forwarding headers: what baton sends upstream in place of the client's request headers, and
// downstream in place of the upstream's response headers. Hop-by-hop fields are stripped
// (hostile-inputs.md "Forwarding headers"), identity fields (X-Forwarded-*, X-Real-IP,
// Forwarded) are overwritten unless the peer is a trusted proxy, and baton's own fields are
// appended after the strip, so `Connection: close, X-Forwarded-For` can never remove them.
//
// Pure functions, called by the stream on its worker thread once per request / response head.
// One pass over the input with case-insensitive compares; the only allocations are the output
// fields themselves (names listed in Connection go into a small fixed array of string_views).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http1/message.h"

namespace baton::proxy {

struct ForwardContext {
  std::string_view client_ip;  // the peer address as text ("127.0.0.1", "::1")
  bool peer_trusted = false;   // peer in trusted_proxies: append to X-Forwarded-For, keep Forwarded
  std::string_view proto = "http";
  uint16_t listener_port = 0;
  std::string_view host;        // effective host: absolute-form authority, else the Host header
  std::string_view request_id;  // final id (passed through or generated)
  // A route's upstream_host: sent as Host instead of `host` ("" = `host`). X-Forwarded-Host
  // still carries the client's host.
  std::string_view upstream_host;
  // The stream forwards this request as a WebSocket upgrade (requestsWebSocket() and the route
  // allows it): `Connection: Upgrade` and `Upgrade: websocket` are appended after the strip.
  bool websocket = false;
};

// The request asks for a WebSocket upgrade and nothing else: a Connection field lists the
// `upgrade` token and there is exactly one Upgrade field whose value is the single token
// `websocket` (ASCII case-insensitive). `Upgrade: websocket, h2c` or `Upgrade: h2c` -> false.
bool requestsWebSocket(const http1::HeaderList& headers);
// The upstream's 101 switches to WebSocket: its Upgrade field names `websocket` (a list is
// accepted if websocket is in it: the client asked for nothing else).
bool upgradesToWebSocket(const http1::HeaderList& headers);

// Whether `name` is an identity field baton sets or vets on forwarding (X-Forwarded-For/-Proto/
// -Host/-Port, X-Real-IP, Forwarded, X-Request-Id; any case, '_' for '-' too): a client's own
// must not reach the upstream another way, e.g. as a request trailer.
bool isIdentityField(std::string_view name);

// Request headers for the upstream, in the original order, minus: Connection and every name it
// lists, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Content-Length, Upgrade,
// HTTP2-Settings, Host, Expect, X-Request-Id; and (unless peer_trusted) client
// X-Forwarded-For/-Proto/-Host/-Port, X-Real-IP, Forwarded. Variants of those names spelt with
// '_' for '-' (X_Forwarded_For) are always dropped: many backends map '_' and '-' alike.
// With ctx.websocket, `Connection: Upgrade` and `Upgrade: websocket` are appended last (the
// client's Sec-WebSocket-* fields pass through as end-to-end fields).
// Then appended: Host: ctx.upstream_host or else ctx.host, X-Forwarded-For (existing values joined
// + ", " + client_ip when trusted, else client_ip), X-Forwarded-Proto, X-Forwarded-Host (when host
// is non-empty), X-Forwarded-Port, X-Real-IP — each of these four only when a trusted peer's own
// was not kept — and X-Request-Id (when non-empty). `out` is overwritten; pass the same list again
// and its strings' capacity is reused (no allocation in the steady state). The caller appends
// framing (Content-Length or Transfer-Encoding). Zipkin B3 (`b3`, `X-B3-*`) and W3C
// `traceparent`/`tracestate` pass through untouched like any other end-to-end field.
// `in` and `out` must be different lists.
void buildUpstreamRequestHeaders(const http1::HeaderList& in, const ForwardContext& ctx,
                                 http1::HeaderList& out);
// The same fields as views, for writing the HTTP/1 head straight from them (no copy of each
// field into a string): they point into `in`, into the strings ctx's views name, and into
// `storage` (the computed X-Forwarded-For and X-Forwarded-Port), so all three must stay alive
// and unchanged while `out` is used. `out` and `storage` are overwritten; pass the same ones
// again and their capacity is reused.
void buildUpstreamRequestFields(const http1::HeaderList& in, const ForwardContext& ctx,
                                http1::FieldViewList& out, std::string& storage);

// Response headers for the downstream: minus Connection and the names it lists, Keep-Alive,
// Proxy-Connection, TE, Transfer-Encoding, Content-Length, Upgrade, HTTP2-Settings. `out` is
// overwritten, reusing its strings as above. The caller adds framing and Connection; with
// `websocket` (the relayed 101 of an upgrade) `Connection: Upgrade` and `Upgrade: websocket` are
// appended here instead.
void buildDownstreamResponseHeaders(const http1::HeaderList& in, http1::HeaderList& out,
                                    bool websocket = false);
// The same result as buildDownstreamResponseHeaders(headers, out) without websocket, made in
// place: the fields that stay are moved, not copied (the stream owns the upstream's head).
void filterDownstreamResponseHeaders(http1::HeaderList& headers);

}  // namespace baton::proxy
