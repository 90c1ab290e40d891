// batonctl: the admin socket's command-line client (protocol: proxy/admin/commands.h).
//
//   batonctl [--socket PATH] [--json] [--timeout SECONDS] <command...>
//   batonctl --all [--self-app ID] [--marathon URL]... [--marathon-ca-cert FILE]
//            [--config FILE] [--admin-port N]
//            [--token T | --token-file F] [--json] [--timeout SECONDS] <command...>
//
// --all sends the command to every baton instance found in Marathon over their admin HTTP
// listeners instead of the local socket (main/batonctl_all.h: discovery, aggregation, exit
// status 3 = partial). The app id defaults to $MARATHON_APP_ID; Marathon URLs to
// $BATON_MARATHON_URL (comma-separated), else FILE's [marathon] urls (and its credentials and
// ca_file: https:// Marathon is verified against --marathon-ca-cert, else that file, else the
// system's CAs); the token to $BATON_ADMIN_TOKEN, else FILE's [admin] token.
//
// Sugar for what operators type most; anything else is sent as one protocol line:
//   drain <cluster>/<host> [--wait] [--wait-timeout S]   drain host X (then wait host X S)
//   ready X | maint X                                     set host X state ready|maint
//   weight X N                                            set host X weight N
//   drain-cluster C                                       drain cluster C
//   log-level L                                           set log-level L
//   wait X [S]                                            wait host X [S]
//   raw 'LINE'                                            LINE as typed
//
// Exit status: 0 done, 1 refused by baton ("<word>: message" on stderr), 2 usage or connection
// errors (naming the socket path and the errno text).
//
// Plain blocking POSIX sockets with poll() deadlines: one short exchange, no event loop.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/loader.h"
#include "conf/marathon_auth.h"
#include "main/batonctl_all.h"

namespace {

constexpr const char* kDefaultSocket = "/run/baton/admin.sock";
constexpr int kDefaultTimeoutSeconds = 10;
constexpr int kDefaultWaitSeconds = 60;  // the server's default for `wait host`
constexpr int kUpgradeSeconds = 75;      // the server gives a new process 60 s to be ready
// Refusals start with one of these words (proxy/admin/service.h CommandError).
constexpr std::array<std::string_view, 7> kErrorWords = {"unknown", "usage",  "notfound", "invalid",
                                                         "denied",  "failed", "timeout"};

constexpr const char* kUsage =
    "usage: batonctl [--socket PATH] [--json] [--timeout SECONDS] <command...>\n"
    "\n"
    "  drain CLUSTER/HOST [--wait] [--wait-timeout S]   stop new requests to a host\n"
    "  ready CLUSTER/HOST | maint CLUSTER/HOST          set a host's operator state\n"
    "  weight CLUSTER/HOST N                            set a host's weight (1..256)\n"
    "  drain-cluster CLUSTER                            drain every host of a cluster\n"
    "  wait CLUSTER/HOST [S]                            until nothing is in flight to it\n"
    "  show info|stat|clusters|routes|groups|config|errors, show hosts CLUSTER\n"
    "  reload | resync | log-level error|warn|info|debug | help\n"
    "  upgrade [BINARY]                                 zero-downtime binary upgrade\n"
    "  raw 'LINE'                                       send one protocol line as is\n"
    "\n"
    "The socket defaults to $BATON_ADMIN_SOCKET, else /run/baton/admin.sock.\n"
    "Exit status: 0 done, 1 refused by baton, 2 usage or connection error.\n"
    "\n"
    "Every instance (over their admin HTTP listeners, found in Marathon):\n"
    "  --all                  send the command to every task of baton's own Marathon app\n"
    "  --self-app ID          baton's app id (default $MARATHON_APP_ID)\n"
    "  --marathon URL         Marathon (repeatable; default $BATON_MARATHON_URL, comma-separated,\n"
    "                         else --config FILE's [marathon] urls); http:// or https://\n"
    "  --marathon-ca-cert FILE  verify https:// Marathon against FILE (default: --config FILE's\n"
    "                         [marathon] ca_file, else the system's CAs)\n"
    "  --config FILE          baton's config: Marathon URLs and credentials, the admin token\n"
    "  --admin-port N         every instance's admin port (default: the app's port named\n"
    "                         \"admin\", its BATON_ADMIN_PORT_INDEX label, else 9090)\n"
    "  --token T, --token-file F   admin HTTP bearer token (default $BATON_ADMIN_TOKEN)\n"
    "  show commands aggregate (per-instance rows + totals); exit 3 = some instance\n"
    "  unreachable (partial), 1 = some refused.\n";

struct Options {
  std::string socket_path;
  bool json = false;
  int timeout_seconds = kDefaultTimeoutSeconds;
  bool wait = false;
  std::optional<int> wait_seconds;
  std::vector<std::string> words;
  // --all
  bool all = false;
  std::string self_app;
  std::vector<std::string> marathon_urls;
  std::optional<std::string> marathon_ca_file;
  std::string config_path;
  int admin_port = 0;
  std::optional<std::string> token;
};

// One protocol line to send, and whether --json turns it into its `json` form.
struct Request {
  std::string line;
  bool show = false;
};

struct Answer {
  bool ok = true;
  std::string word;  // the refusal's stable word
  std::string text;  // success: the whole answer; refusal: the message after "word: "
};

[[noreturn]] void usageError(const std::string& message) {
  std::fprintf(stderr, "batonctl: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

[[noreturn]] void connectionError(const std::string& path, const std::string& message) {
  std::fprintf(stderr, "batonctl: %s: %s\n", path.c_str(), message.c_str());
  std::exit(2);
}

std::optional<int> parseSeconds(std::string_view text) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

int secondsArg(std::string_view option, std::string_view value) {
  auto seconds = parseSeconds(value);
  if (!seconds || *seconds == 0) {
    usageError(std::string(option) + " wants a whole number of seconds, got \"" +
               std::string(value) + "\"");
  }
  return *seconds;
}

Options parseArgs(int argc, char** argv) {
  Options options;
  const char* env = std::getenv("BATON_ADMIN_SOCKET");
  options.socket_path = env != nullptr && *env != '\0' ? env : kDefaultSocket;
  bool literal = false;  // after "--": every word is part of the command
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> std::string_view {
      if (arg.size() > name.size() && arg[name.size()] == '=') return arg.substr(name.size() + 1);
      if (i + 1 >= argc) usageError(std::string(name) + " needs a value");
      return argv[++i];
    };
    auto is = [&](std::string_view name) {
      return arg == name ||
             (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=');
    };
    if (literal || !arg.starts_with("--")) {
      options.words.emplace_back(arg);
    } else if (arg == "--") {
      literal = true;
    } else if (arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--wait") {
      options.wait = true;
    } else if (arg == "--all") {
      options.all = true;
    } else if (is("--self-app")) {
      options.self_app = value("--self-app");
    } else if (is("--marathon-ca-cert")) {
      options.marathon_ca_file = std::string(value("--marathon-ca-cert"));
    } else if (is("--marathon")) {
      options.marathon_urls.emplace_back(value("--marathon"));
    } else if (is("--config")) {
      options.config_path = value("--config");
    } else if (is("--admin-port")) {
      auto port = parseSeconds(value("--admin-port"));
      if (!port || *port == 0 || *port > 65535) usageError("--admin-port wants a port number");
      options.admin_port = *port;
    } else if (is("--token")) {
      options.token = std::string(value("--token"));
    } else if (is("--token-file")) {
      auto token = baton::conf::readTokenFile(std::string(value("--token-file")));
      if (!token) usageError("--token-file: " + token.error().detail);
      options.token = *token;
    } else if (is("--socket")) {
      options.socket_path = value("--socket");
    } else if (is("--timeout")) {
      options.timeout_seconds = secondsArg("--timeout", value("--timeout"));
    } else if (is("--wait-timeout")) {
      options.wait_seconds = secondsArg("--wait-timeout", value("--wait-timeout"));
    } else {
      usageError("unknown option " + std::string(arg));
    }
  }
  if (options.words.empty()) usageError("no command");
  if ((options.wait || options.wait_seconds) && options.words[0] != "drain") {
    usageError("--wait and --wait-timeout go with drain");
  }
  return options;
}

std::string join(const std::vector<std::string>& words, size_t from) {
  std::string out;
  for (size_t i = from; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

void wantArgs(const std::vector<std::string>& words, size_t n, const char* shape) {
  if (words.size() != n + 1) usageError(std::string("usage: batonctl ") + shape);
}

std::string hostArg(const std::string& word, const char* shape) {
  if (word.find('/') == std::string::npos || word.front() == '/' || word.back() == '/') {
    usageError("\"" + word + "\" is not CLUSTER/HOST (usage: batonctl " + shape + ")");
  }
  return word;
}

// The protocol lines for the words typed (drain --wait gives two).
std::vector<Request> translate(const Options& options) {
  const std::vector<std::string>& w = options.words;
  const std::string& verb = w[0];
  if (verb == "drain" && w.size() == 2) {
    std::vector<Request> out{{"drain host " + hostArg(w[1], "drain CLUSTER/HOST"), false}};
    if (options.wait) {
      std::string line = "wait host " + w[1];
      if (options.wait_seconds) line += " " + std::to_string(*options.wait_seconds);
      out.push_back({line, false});
    }
    return out;
  }
  if (verb == "ready" || verb == "maint") {
    wantArgs(w, 1, "ready|maint CLUSTER/HOST");
    return {{"set host " + hostArg(w[1], "ready|maint CLUSTER/HOST") + " state " + verb, false}};
  }
  if (verb == "weight") {
    wantArgs(w, 2, "weight CLUSTER/HOST N");
    return {{"set host " + hostArg(w[1], "weight CLUSTER/HOST N") + " weight " + w[2], false}};
  }
  if (verb == "drain-cluster") {
    wantArgs(w, 1, "drain-cluster CLUSTER");
    return {{"drain cluster " + w[1], false}};
  }
  if (verb == "log-level") {
    wantArgs(w, 1, "log-level error|warn|info|debug");
    return {{"set log-level " + w[1], false}};
  }
  if (verb == "wait" && (w.size() == 2 || w.size() == 3) && w[1] != "host") {
    return {
        {"wait host " + hostArg(w[1], "wait CLUSTER/HOST [S]") + (w.size() == 3 ? " " + w[2] : ""),
         false}};
  }
  if (verb == "raw") {
    wantArgs(w, 1, "raw 'LINE'");
    const std::string& line = w[1];
    return {{line, line.starts_with("show ")}};
  }
  // Anything else is the protocol line itself: "show hosts web", "reload", "drain cluster c".
  return {{join(w, 0), verb == "show"}};
}

// --json asks `show` commands for their JSON form (`show config` has only text).
std::string withJson(const Request& request, bool json) {
  if (!json || !request.show || request.line.starts_with("show config")) return request.line;
  if (request.line.ends_with(" json")) return request.line;
  return request.line + " json";
}

class Connection {
 public:
  Connection(std::string path, std::chrono::seconds timeout)
      : path_(std::move(path)), deadline_(std::chrono::steady_clock::now() + timeout) {}
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void open() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) connectionError(path_, "socket path too long");
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) connectionError(path_, std::strerror(errno));
    // A UNIX connect completes at once or fails (a full backlog blocks: bounded by the deadline
    // through SO_SNDTIMEO).
    timeval tv{static_cast<time_t>(secondsLeft()), 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      const int err = errno;
      std::string hint;
      if (err == ENOENT || err == ECONNREFUSED)
        hint = " (is baton running with [admin] socket set?)";
      if (err == EACCES)
        hint = " (run as root, baton's user, or a uid/gid in [admin] socket_uids/socket_gids)";
      connectionError(path_, std::string("cannot connect: ") + std::strerror(err) + hint);
    }
  }

  void sendLine(const std::string& line) {
    std::string data = line + "\n";
    std::string_view left = data;
    while (!left.empty()) {
      if (!waitFor(POLLOUT)) connectionError(path_, "timed out sending the command");
      ssize_t n = ::send(fd_, left.data(), left.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        // Refused peers are told why before the server closes: read that first.
        if (errno == EPIPE || errno == ECONNRESET) return;
        connectionError(path_, std::string("send: ") + std::strerror(errno));
      }
      left.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Everything up to the empty line that ends an answer (that line excluded).
  std::string readAnswer() {
    while (true) {
      size_t end = buffer_.find("\n\n");
      if (end != std::string::npos) return take(end + 1, end + 2);
      if (!waitFor(POLLIN)) {
        connectionError(path_, "no complete answer within the timeout (--timeout)");
      }
      char chunk[65536];
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) connectionError(path_, std::string("recv: ") + std::strerror(errno));
      if (n == 0) {
        // A refusal closes right after its answer; anything else cut short is an error.
        if (!buffer_.empty() && buffer_.ends_with("\n"))
          return take(buffer_.size(), buffer_.size());
        connectionError(path_, "connection closed before the answer ended");
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void extendDeadline(std::chrono::seconds at_least) {
    auto wanted = std::chrono::steady_clock::now() + at_least;
    if (wanted > deadline_) deadline_ = wanted;
  }

 private:
  std::string take(size_t answer_len, size_t consumed) {
    std::string answer = buffer_.substr(0, answer_len);
    buffer_.erase(0, consumed);
    return answer;
  }

  long secondsLeft() const {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline_ -
                                                                 std::chrono::steady_clock::now());
    return left.count() > 0 ? left.count() : 1;
  }

  bool waitFor(short events) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      int rc = poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) connectionError(path_, std::string("poll: ") + std::strerror(errno));
      if (rc > 0) return true;
    }
  }

  std::string path_;
  std::chrono::steady_clock::time_point deadline_;
  int fd_ = -1;
  std::string buffer_;
};

Answer classify(std::string text) {
  // "word: message\n": a refusal only when the word is one of the stable ones.
  size_t colon = text.find(": ");
  size_t newline = text.find('\n');
  if (colon != std::string::npos && colon < newline) {
    std::string_view word(text.data(), colon);
    for (std::string_view known : kErrorWords) {
      if (word == known) {
        std::string message = text.substr(colon + 2);
        while (message.ends_with("\n")) message.pop_back();
        return Answer{false, std::string(word), message};
      }
    }
  }
  return Answer{true, {}, std::move(text)};
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof(esc), "\\u%04x", static_cast<unsigned>(c));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// How long the server may take to answer `wait host X [S]`.
int waitSecondsOf(const std::string& line) {
  size_t space = line.rfind(' ');
  auto seconds = parseSeconds(std::string_view(line).substr(space + 1));
  return seconds ? *seconds : kDefaultWaitSeconds;
}

std::string trimmed(std::string text) {
  while (text.ends_with("\n")) text.pop_back();
  return text;
}

int report(const Options& options, const std::vector<Request>& requests,
           const std::vector<Answer>& answers) {
  const Answer& last = answers.back();
  if (!last.ok) {
    if (options.json) {
      std::printf("{\"ok\":false,\"error\":%s,\"message\":%s}\n", jsonString(last.word).c_str(),
                  jsonString(last.text).c_str());
    }
    std::fprintf(stderr, "%s: %s\n", last.word.c_str(), last.text.c_str());
    return 1;
  }
  const bool raw_json = options.json && answers.size() == 1 && requests[0].show &&
                        !requests[0].line.starts_with("show config");
  if (raw_json || (!options.json)) {
    for (const Answer& answer : answers) std::fputs(answer.text.c_str(), stdout);
    return 0;
  }
  std::string message;
  for (const Answer& answer : answers) {
    if (!message.empty()) message += "\n";
    message += trimmed(answer.text);
  }
  std::printf("{\"ok\":true,\"message\":%s}\n", jsonString(message).c_str());
  return 0;
}

std::vector<std::string> splitComma(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    if (comma != 0) out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// --all: the options from flags, then the environment, then baton's config file.
int runOnAll(const Options& options, const std::vector<Request>& requests) {
  batonctl::AllOptions all;
  all.self_app = options.self_app;
  if (all.self_app.empty()) {
    const char* env = std::getenv("MARATHON_APP_ID");
    if (env != nullptr) all.self_app = env;
  }
  all.marathon_urls = options.marathon_urls;
  if (all.marathon_urls.empty()) {
    const char* env = std::getenv("BATON_MARATHON_URL");
    if (env != nullptr) all.marathon_urls = splitComma(env);
  }
  if (options.token) {
    all.token = *options.token;
  } else if (const char* env = std::getenv("BATON_ADMIN_TOKEN"); env != nullptr) {
    all.token = env;
  }
  if (!options.config_path.empty()) {
    auto config = baton::conf::loadConfigFile(options.config_path);
    if (!config) usageError("--config: " + config.error().detail);
    if (all.marathon_urls.empty()) all.marathon_urls = config->marathon.urls;
    all.marathon_authorization = baton::conf::marathonAuthorization(config->marathon);
    all.marathon_ca_file = config->marathon.ca_file;
    if (!options.token && std::getenv("BATON_ADMIN_TOKEN") == nullptr) {
      all.token = config->admin.token;
    }
  }
  if (options.marathon_ca_file) all.marathon_ca_file = *options.marathon_ca_file;
  all.admin_port = static_cast<uint16_t>(options.admin_port);
  all.timeout_seconds = options.timeout_seconds;
  all.json = options.json;
  batonctl::AllRequest request;
  for (const Request& r : requests) {
    request.lines.push_back(withJson(r, options.json));
    int extra = 0;
    if (r.line.starts_with("wait ")) extra = waitSecondsOf(r.line) + 5;
    if (r.line == "upgrade" || r.line.starts_with("upgrade ")) extra = kUpgradeSeconds;
    request.extra_seconds.push_back(extra);
  }
  request.show = requests.size() == 1 && requests[0].show;
  request.json_answer =
      request.show && options.json && !requests[0].line.starts_with("show config");
  return batonctl::runAll(all, request);
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parseArgs(argc, argv);
  std::vector<Request> requests = translate(options);
  for (const Request& request : requests) {
    if (request.line.find('\n') != std::string::npos ||
        request.line.find('\r') != std::string::npos) {
      usageError("a command is one line");
    }
  }
  if (options.all) return runOnAll(options, requests);
  Connection connection(options.socket_path, std::chrono::seconds(options.timeout_seconds));
  connection.open();
  std::vector<Answer> answers;
  for (const Request& request : requests) {
    if (request.line.starts_with("wait ")) {
      // The server answers a wait when it ends: give it its own time plus some slack.
      connection.extendDeadline(std::chrono::seconds(waitSecondsOf(request.line) + 5));
    }
    if (request.line == "upgrade" || request.line.starts_with("upgrade ")) {
      // Answered once the new process serves: its start, config and first Marathon sync.
      connection.extendDeadline(std::chrono::seconds(kUpgradeSeconds));
    }
    connection.sendLine(withJson(request, options.json));
    answers.push_back(classify(connection.readAnswer()));
    if (!answers.back().ok) break;
  }
  return report(options, requests, answers);
}
