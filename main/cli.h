// The command line: baton's own flags plus marathon-lb's, so an operator can replace
// `marathon_lb.py --marathon http://m1:8080 --group external ...` with the same arguments.
//
// Settings given here are applied on top of the config file at start and on every reload
// (ServerOptions::overrides). Called once, on the main thread, before the server exists.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/config_spec.h"
#include "proxy/server.h"

namespace baton::cli {

// Only what the command line said; unset values leave the file's (or the default) alone.
struct CommandLineSettings {
  std::vector<std::string> marathon_urls;
  std::vector<std::string> groups;
  bool strict_mode = false;
  bool health_check = false;
  bool dont_bind_http = false;
  std::optional<std::string> domain;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> auth_token;
  std::optional<std::string> ca_file;
  std::optional<conf::Duration> max_backoff;
  std::optional<std::string> state_file;
  std::optional<std::string> bind_address;
  std::optional<uint16_t> http_port;
  std::optional<uint16_t> app_id_port;
  std::optional<std::string> admin_address;
  std::optional<std::string> admin_socket;  // --admin-socket
  std::optional<std::string> admin_token;   // --admin-token-file's content
  bool dont_bind_service_ports = false;
  std::vector<std::string> notes;  // accepted marathon-lb flags that change nothing, and why

  void applyTo(conf::ConfigSpec& spec) const;
};

struct Arguments {
  proxy::ServerOptions server;
  CommandLineSettings settings;
  bool check = false;
};

// Parses argv. On a bad command line returns an error message (usage appended by the caller).
core::Result<Arguments> parseArguments(int argc, char** argv);

extern const char* const kUsage;

}  // namespace baton::cli
