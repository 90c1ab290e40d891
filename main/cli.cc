#include "main/cli.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>

#include "conf/loader.h"

namespace baton::cli {

const char* const kUsage =
    "usage: baton [--config FILE] [--check] [--workers N] [--ready-fd FD]\n"
    "             [--marathon URL [URL...]] [--group G]... [marathon-lb flags]\n"
    "\n"
    "  --config FILE       TOML configuration (reference: conf/README.md); optional with "
    "--marathon\n"
    "  --check             validate the configuration and exit: 0 if valid, 2 with FILE:LINE: key: "
    "message\n"
    "  --workers N         worker threads (default: [server] workers, else one per core)\n"
    "  --ready-fd FD       write JSON lines (ready, reloaded, reload_failed, discovery, stopped)\n"
    "\n"
    "Marathon discovery (same flags as marathon-lb; each overrides [marathon] in the file):\n"
    "  --marathon, -m URL...     Marathon endpoints (failover in order), or file:PATH\n"
    "  --group G                 expose apps whose HAPROXY_GROUP contains G; '*' = all "
    "(repeatable)\n"
    "  --strict-mode             expose a port only with HAPROXY_{n}_ENABLED=true\n"
    "  --health-check, -H        route only to tasks Marathon reports healthy\n"
    "  --dont-bind-http-https    no shared vhost listener (:80)\n"
    "  --auth-credentials U:P    HTTP Basic to Marathon (also MARATHON_USER / MARATHON_PASSWORD)\n"
    "  --marathon-auth-credential-file FILE   the same, read from FILE\n"
    "  --auth-token TOKEN        sends Authorization: token=TOKEN (DC/OS; Bearer TOKEN with\n"
    "                            [marathon] auth_scheme = \"bearer\" in the file)\n"
    "  --marathon-ca-cert FILE   verify Marathon's TLS certificate against FILE\n"
    "  --max-backoff SECONDS     cap of the reconnect backoff (default 300)\n"
    "  --domain DOMAIN           serve apps without a VHOST at <id reversed>.DOMAIN\n"
    "  --state-file PATH         persist the last good app list; used when Marathon is down\n"
    "  --bind-address IP         address of the Marathon listeners (default all)\n"
    "  --http-port N             shared vhost listener port (default 80)\n"
    "  --app-id-port N           X-Marathon-App-Id listener port (default 9091; 0 = off)\n"
    "  --admin ADDRESS           admin HTTP listener (default :9090 without --config; '' = off)\n"
    "  --admin-socket PATH       admin socket for batonctl ([admin] socket; mode 0600)\n"
    "  --admin-token-file FILE   bearer token the admin HTTP write actions require\n"
    "  --dont-bind-service-ports no listener per service port\n"
    "  --self-app ID             baton's own Marathon app (default $MARATHON_APP_ID): never\n"
    "                            routed to; its tasks are the instances `show instances` lists\n"
    "  accepted and unnecessary: --sse, --haproxy-map, --lru-cache-capacity N, --reload-interval "
    "N,\n"
    "    --max-reload-retries N, --log-format F, --syslog-socket S, --command C, "
    "--skip-config-cleanup\n"
    "\n"
    "Signals: SIGHUP reloads the config (all or nothing) and resyncs Marathon; SIGTERM/SIGINT "
    "drain and stop;\n"
    "SIGUSR2 (or `batonctl upgrade`) runs the binary again as a new process that takes over the "
    "listening\nsockets with no connection refused (README: Upgrading the binary). "
    "--upgrade-fd FD is that handoff (internal).\n";

namespace {

core::Result<uint64_t> parseNumber(std::string_view flag, std::string_view text, uint64_t max) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
  if (copy.empty() || errno != 0 || *end != '\0' || value > max || copy[0] == '-') {
    return core::fail(core::Error::config(std::string(flag) + ": expected 0.." +
                                          std::to_string(max) + ", got \"" + copy + "\""));
  }
  return value;
}

core::Result<void> splitCredentials(std::string_view flag, std::string_view text,
                                    CommandLineSettings& out) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return core::fail(core::Error::config(std::string(flag) + ": expected USER:PASSWORD"));
  }
  out.username = std::string(text.substr(0, colon));
  out.password = std::string(text.substr(colon + 1));
  return {};
}

core::Result<void> readCredentialFile(const std::string& path, CommandLineSettings& out) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return core::fail(core::Error::config("--marathon-auth-credential-file: cannot read " + path));
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return splitCredentials("--marathon-auth-credential-file " + path, line, out);
}

// Flags of marathon-lb that configure HAProxy reloads or logging: baton never reloads and logs
// on its own, so they are accepted (scripts keep working) and noted.
bool isAcceptedNoOp(std::string_view arg, bool& takes_value) {
  static constexpr std::string_view kBare[] = {"--sse", "--haproxy-map", "--skip-config-cleanup",
                                               "--dont-bind-http-https-for-internal"};
  static constexpr std::string_view kValued[] = {"--lru-cache-capacity",
                                                 "--reload-interval",
                                                 "--max-reload-retries",
                                                 "--log-format",
                                                 "--syslog-socket",
                                                 "--command",
                                                 "--min-serv-port-ip-per-task",
                                                 "--max-serv-port-ip-per-task",
                                                 "--archive-versions",
                                                 "--log-level"};
  for (auto flag : kBare) {
    if (arg == flag) {
      takes_value = false;
      return true;
    }
  }
  for (auto flag : kValued) {
    if (arg == flag) {
      takes_value = true;
      return true;
    }
  }
  return false;
}

}  // namespace

void CommandLineSettings::applyTo(conf::ConfigSpec& spec) const {
  auto& m = spec.marathon;
  if (!marathon_urls.empty()) m.urls = marathon_urls;
  if (!groups.empty()) m.groups = groups;
  if (strict_mode) m.strict_mode = true;
  if (health_check) m.health_check = true;
  if (dont_bind_http) m.http_port = 0;
  if (dont_bind_service_ports) m.bind_service_ports = false;
  if (domain) m.domain = *domain;
  if (username) m.username = *username;
  if (password) m.password = *password;
  if (auth_token) m.auth_token = *auth_token;
  if (ca_file) m.ca_file = *ca_file;
  if (max_backoff) m.max_backoff = *max_backoff;
  if (state_file) m.state_file = *state_file;
  if (bind_address) m.bind_address = *bind_address;
  if (http_port) m.http_port = *http_port;
  if (app_id_port) m.app_id_port = *app_id_port;
  if (admin_socket) spec.admin.socket_path = *admin_socket;
  if (admin_token) spec.admin.token = *admin_token;
  if (admin_address) {
    spec.admin.http_address = *admin_address;
  } else if (spec.file == "<command line>" && !m.urls.empty()) {
    spec.admin.http_address = ":9090";  // marathon-lb's stats/admin port; zdd reads it
  }
}

core::Result<Arguments> parseArguments(int argc, char** argv) {
  Arguments args;
  CommandLineSettings& s = args.settings;
  std::optional<std::string> self_app;  // --self-app wins over $MARATHON_APP_ID
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> core::Result<std::string> {
      if (i + 1 >= argc) {
        return core::fail(core::Error::config(std::string(arg) + " needs a value"));
      }
      return std::string(argv[++i]);
    };
#define CLI_VALUE(var) \
  auto var = value();  \
  if (!var) return core::fail(std::move(var.error()));
    bool noop_takes_value = false;
    if (arg == "--config" || arg == "-c") {
      CLI_VALUE(v);
      args.server.config_path = *v;
    } else if (arg == "--check") {
      args.check = true;
    } else if (arg == "--workers") {
      CLI_VALUE(v);
      auto n = parseNumber(arg, *v, 256);
      if (!n || *n == 0) return core::fail(core::Error::config("--workers: expected 1..256"));
      args.server.workers = static_cast<uint32_t>(*n);
    } else if (arg == "--ready-fd") {
      CLI_VALUE(v);
      auto n = parseNumber(arg, *v, 65535);
      if (!n) return core::fail(std::move(n.error()));
      args.server.ready_fd = static_cast<int>(*n);
    } else if (arg == "--upgrade-fd") {
      // Internal: set by the old process of a binary upgrade on the new one (proxy/upgrade).
      CLI_VALUE(v);
      auto n = parseNumber(arg, *v, 65535);
      if (!n) return core::fail(std::move(n.error()));
      args.server.upgrade_fd = static_cast<int>(*n);
    } else if (arg == "--marathon" || arg == "-m") {
      // marathon-lb takes several URLs after one flag: everything up to the next flag.
      while (i + 1 < argc && argv[i + 1][0] != '-') s.marathon_urls.emplace_back(argv[++i]);
      if (s.marathon_urls.empty()) return core::fail(core::Error::config("--marathon needs a URL"));
    } else if (arg == "--group") {
      CLI_VALUE(v);
      s.groups.push_back(*v);
    } else if (arg == "--strict-mode") {
      s.strict_mode = true;
    } else if (arg == "--health-check" || arg == "-H") {
      s.health_check = true;
    } else if (arg == "--dont-bind-http-https") {
      s.dont_bind_http = true;
    } else if (arg == "--dont-bind-service-ports") {
      s.dont_bind_service_ports = true;
    } else if (arg == "--auth-credentials") {
      CLI_VALUE(v);
      auto ok = splitCredentials(arg, *v, s);
      if (!ok) return core::fail(std::move(ok.error()));
    } else if (arg == "--marathon-auth-credential-file") {
      CLI_VALUE(v);
      auto ok = readCredentialFile(*v, s);
      if (!ok) return core::fail(std::move(ok.error()));
    } else if (arg == "--auth-token") {
      CLI_VALUE(v);
      s.auth_token = *v;
    } else if (arg == "--marathon-ca-cert") {
      CLI_VALUE(v);
      s.ca_file = *v;
    } else if (arg == "--max-backoff") {
      CLI_VALUE(v);
      auto n = parseNumber(arg, *v, 86400);
      if (!n) return core::fail(std::move(n.error()));
      s.max_backoff = conf::Duration(*n * 1000);
    } else if (arg == "--domain") {
      CLI_VALUE(v);
      s.domain = *v;
    } else if (arg == "--state-file") {
      CLI_VALUE(v);
      s.state_file = *v;
    } else if (arg == "--bind-address") {
      CLI_VALUE(v);
      s.bind_address = *v;
    } else if (arg == "--http-port" || arg == "--app-id-port") {
      CLI_VALUE(v);
      auto n = parseNumber(arg, *v, 65535);
      if (!n) return core::fail(std::move(n.error()));
      (arg == "--http-port" ? s.http_port : s.app_id_port) = static_cast<uint16_t>(*n);
    } else if (arg == "--admin") {
      CLI_VALUE(v);
      s.admin_address = *v;
    } else if (arg == "--admin-socket") {
      CLI_VALUE(v);
      s.admin_socket = *v;
    } else if (arg == "--self-app") {
      CLI_VALUE(v);
      self_app = std::string(*v);
    } else if (arg == "--admin-token-file") {
      CLI_VALUE(v);
      auto token = conf::readTokenFile(*v);
      if (!token) {
        return core::fail(core::Error::config("--admin-token-file: " + token.error().detail));
      }
      s.admin_token = *token;
    } else if (isAcceptedNoOp(arg, noop_takes_value)) {
      if (noop_takes_value) {
        CLI_VALUE(v);
      }
      s.notes.push_back(std::string(arg) +
                        ": accepted for marathon-lb compatibility; baton "
                        "updates in-process and needs no reload settings");
    } else if (arg == "--ssl-certs") {
      CLI_VALUE(v);
      s.notes.push_back("--ssl-certs: TLS termination is not available yet; flag ignored");
    } else if (arg == "--help" || arg == "-h") {
      return core::fail(core::Error{core::ErrorCode::Ok, core::ErrorSource::Config, false, ""});
    } else {
      return core::fail(core::Error::config("unknown argument \"" + std::string(arg) + "\""));
    }
#undef CLI_VALUE
  }
  if (!s.username) {
    const char* user = std::getenv("MARATHON_USER");
    const char* password = std::getenv("MARATHON_PASSWORD");
    if (user != nullptr && password != nullptr) {
      s.username = user;
      s.password = password;
    }
  }
  if (args.server.config_path.empty() && s.marathon_urls.empty()) {
    return core::fail(core::Error::config("--config FILE or --marathon URL is required"));
  }
  // Marathon sets MARATHON_APP_ID for the tasks it runs: never route to ourselves.
  if (const char* self = std::getenv("MARATHON_APP_ID"); self != nullptr) {
    args.server.self_app_id = self;
  }
  if (self_app) args.server.self_app_id = *self_app;
  CommandLineSettings copy = s;
  args.server.overrides = [copy](conf::ConfigSpec& spec) { copy.applyTo(spec); };
  return args;
}

}  // namespace baton::cli
