// `batonctl --all`: one admin command to every baton instance (README "Several instances").
//
// The instances are the running tasks of baton's own Marathon app (proxy/peers/peer_list.h:
// GET <marathon>/v2/apps/<id>?embed=app.tasks, the admin port chosen by --admin-port, the port
// named "admin", the BATON_ADMIN_PORT_INDEX label, else 9090). Each gets the protocol lines over
// its admin HTTP listener (POST /api/command, "Authorization: Bearer <token>"), all instances at
// once (one thread each), the lines of one instance in order (drain, then wait).
//
// Output: a command's answer per instance ("<task> <address> ok|<word>|unreachable: ..."), then
// a summary line. `show` answers aggregate: a table gets an "instance" column and, per key
// (cluster, host, route...), a "total" row: traffic counters summed (requests, 4xx, 5xx,
// in_flight, ...), *_ms columns (latency quantiles: not additive) as the largest, other columns
// (hosts, up, weight, state: shared) the common value or "*" when instances differ;
// "key: value" answers (show info) become one column per instance; anything else is printed per
// instance. --json: {"instances":[{task_id, address, reachable, ok, error, answer}], ...}.
//
// Exit status: 0 every instance did it; 1 some refused (every instance answered); 3 partial:
// some instance could not be reached (the others did what they answered); 2 usage errors, or no
// instance found or reached.
//
// HTTP/1.0 (so no chunked answers) over non-blocking sockets, every step waiting with poll()
// against one deadline per exchange. Marathon may be https:// (DC/OS): TLS goes through baton's
// own OpenSSL wrapper, tls::ClientContext + core::SecureLayer (proxy/tls/, style rule 3), whose
// sessions are non-blocking steps that say which readiness they need next, so the same poll()
// loop bounds the handshake too; the chain is verified against --marathon-ca-cert / [marathon]
// ca_file (else the system's CAs) and the name against the URL's host (DNS name or IP address).
// The admin HTTP listeners are plain HTTP (they have no TLS), so the instances are asked in clear.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace batonctl {

struct AllOptions {
  std::vector<std::string> marathon_urls;  // http(s)://host:port (tried in order)
  // conf::marathonAuthorization of the config's [marathon]; "" = none.
  std::string marathon_authorization;
  std::string marathon_ca_file;  // https: PEM bundle to verify Marathon ("" = system CAs)
  std::string self_app;          // baton's own app id
  uint16_t admin_port = 0;       // 0 = from the app
  std::string token;             // admin HTTP bearer token ("" = none)
  int timeout_seconds = 10;
  bool json = false;
};

// One instance's lines: `extra_seconds[i]` is added to the timeout of lines[i] (waits, upgrades).
struct AllRequest {
  std::vector<std::string> lines;
  std::vector<int> extra_seconds;
  bool show = false;         // aggregate the answers
  bool json_answer = false;  // the answer is a JSON document (show ... json)
};

int runAll(const AllOptions& options, const AllRequest& request);

}  // namespace batonctl
