// Automatic virtual hosts (`--domain`, MarathonSpec::domain): an http-mode app without a VHOST
// label gets "<reversed id segments>.<domain>", so "/team/project/branch" with domain
// "ns.example.com" is served as "branch.project.team.ns.example.com" (Traefik's
// groupsAsSubDomains shape). translate.h applies it to port index 0 only: one name per app,
// which is what an operator can guess without reading labels. Pure; control thread.
#pragma once

#include <string>
#include <string_view>

namespace baton::discovery {

// Makes one DNS label: lower-case [a-z0-9-], anything else -> '-', no leading/trailing '-',
// at most 63 bytes. May return "" (the caller drops empty labels).
std::string dnsLabel(std::string_view segment);

// The automatic domain of `app_id` under `domain`; "" when `domain` is empty or the id has no
// usable segment.
std::string autoDomain(std::string_view app_id, std::string_view domain);

}  // namespace baton::discovery
