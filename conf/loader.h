// Config loader: TOML file -> validated ConfigSpec (conf/config_spec.h).
//
// Called on the control thread at start-up (`baton --config FILE [--check]`) and on every
// reload (SIGHUP, admin socket). It never touches a worker: the caller builds runtime snapshots
// from the returned spec and swaps them in only if everything succeeded.
//
// Every problem is reported as the FIRST error found, as Error::config with a detail of the form
// "FILE:LINE: KEY: message", where KEY is the dotted path of the offending value, e.g.
//   "baton.toml:12: cluster[1].hosts[0].weight: must be 1..256, got 0"
// LINE is the line of the offending key or value, or of the enclosing table when a required key
// is missing. A missing or unreadable file is ErrorCode::ConfigIo ("PATH: strerror").
//
// The format is documented key by key in conf/README.md. Only loader.cc sees toml++.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conf/config_spec.h"
#include "proxy/core/error.h"

namespace baton::conf {

// Reads and validates a config file.
core::Result<ConfigSpec> loadConfigFile(const std::string& path);

// Same from text; `name` stands in for the file name in messages and in SourceLoc::file.
core::Result<ConfigSpec> loadConfigString(std::string_view text, const std::string& name);

// The whole-spec checks the loader runs last, for a spec built (or completed) in code, e.g. by
// main.cc from command-line flags in marathon-lb mode: start from `ConfigSpec{}` (the same
// defaults as an empty file, which loadConfigString refuses for want of a listener), set
// `file = "<command line>"`, fill `marathon.urls`, `marathon.groups`..., then validate. Checks: at
// least one listener unless marathon.urls is set; unique listener / cluster / vhost names; unique
// listener addresses (and admin.http not one of them); vhost domains unique within a scope; route
// and tcp-listener clusters defined; listener kind rules (tcp: cluster required, no
// route_by/scope/raw_bytes; http: no cluster; a scope must be some vhost's); and, when
// marathon.urls is set, every [marathon] value's syntax (URLs, one "file:" alone, groups, domain,
// header-safe credentials, password needs username, bind_address, positive durations) and that
// http_port / app_id_port do not clash with each other, a listener or admin.http. Normalises in
// place (marathon.domain lower-cased). Messages name the key: "FILE:LINE: marathon.urls[0]: ..." —
// LINE comes from the spec's SourceLocs (0: omitted), FILE from SourceLoc::file or else spec.file
// (empty: "KEY: message"). On a merged spec, discovered listeners (origin != "config") are not
// port clashes. A relative "file:" URL is left as given (the loader resolves it). Control thread.
core::Result<void> validateConfig(ConfigSpec& spec);

// "250ms", "10s", "2m", "1h": a non-negative integer immediately followed by one unit.
// A bare integer, a sign, a fraction, spaces or a value overflowing Duration are refused.
// The error detail is the message alone (the loader prefixes FILE:LINE: KEY:).
core::Result<Duration> parseDuration(std::string_view text);

// "512" (bytes), "8KiB", "1MiB", "1GiB", "1TiB": a non-negative integer optionally followed by a
// binary unit. Decimal units (KB, MB, GB, ...), fractions, signs, spaces and overflow of uint64
// are refused. (In a config file an integer TOML value is also accepted, as bytes.)
core::Result<uint64_t> parseSize(std::string_view text);

// A secret kept in a file ([admin] token_file, --admin-token-file): its first line, trailing
// whitespace dropped. Errors: "cannot read \"PATH\"", "\"PATH\" holds no token".
core::Result<std::string> readTokenFile(const std::string& path);

}  // namespace baton::conf
