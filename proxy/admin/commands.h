// The admin line protocol: one command per line in, one answer out. Shared by the UNIX admin
// socket (proxy/admin/socket_server.h) and batonctl; the admin HTTP listener calls the same
// AdminService methods.
//
// Answers: text lines ending with one empty line ("...\n\n"); an answer never contains an empty
// line before its end. A refused command answers "<word>: <message>\n\n" where <word> is one of
// CommandError's stable words (proxy/admin/service.h). `show` commands take a trailing `json`
// word and then answer one JSON document (one line) followed by the empty line.
//
// Commands (`help` lists them):
//   help
//   show info [json]                 version, pid, uptime, workers, generation, log level, Marathon
//   show stat [json]                 HAProxy stats CSV (pxname,svname,qcur,...,scur,...,status,...)
//   show clusters [json]
//   show hosts <cluster> [json]
//   show routes [json]
//   show groups [json]               deployment groups (blue/green) and their cutover state
//   show instances [json]            the baton instances of baton's own Marathon app (peers):
//                                    reachable, generation, Marathon state digest, lagging
//   show config                      the effective config (text)
//   show errors [json]               recent rejected requests: time, listener, client, status,
//                                    reason, escaped excerpt
//   set host <cluster>/<host> state ready|drain|maint
//   set host <cluster>/<host> weight <1..256>
//   set cluster <cluster> state ready|drain|maint
//   drain host <cluster>/<host>      = set host ... state drain
//   drain cluster <cluster>          = set cluster ... state drain
//   wait host <cluster>/<host> [<seconds>]
//                                    answers when nothing is in flight to the host (default 60 s)
//   reload certs                     re-read every TLS certificate, key, OCSP, ticket key file
//   reload                           re-read the config file (all or nothing)
//   resync                           re-read Marathon now
//   upgrade [<binary>]               zero-downtime binary upgrade: answers once the new process
//                                    serves (this one then drains), or "failed: <its error>"
//   set log-level error|warn|info|debug
// <host> is the host's name (svname) or its address ("10.0.6.25:31704"); the cluster is
// everything before the first '/'. Words are separated by spaces or tabs; case matters.
//
// Threading: executeCommand runs on the control thread and calls `done` there exactly once
// (maybe before it returns, maybe later for `show` and `wait`).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "proxy/admin/service.h"

namespace baton::proxy::admin {

void executeCommand(AdminService& service, std::string_view line,
                    std::function<void(std::string answer)> done);

// The CommandError word of a refused answer ("notfound: no cluster x\n\n" -> "notfound"); ""
// for a successful one. Front ends that report success out of band (the admin HTTP listener's
// /api/command status code) use it.
std::string_view refusalWord(std::string_view answer);

// The text of `help` (also what batonctl prints for `batonctl help`).
std::string helpText();

}  // namespace baton::proxy::admin
