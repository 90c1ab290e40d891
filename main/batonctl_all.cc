#include "main/batonctl_all.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

#include "proxy/core/secure_layer.h"
#include "proxy/core/text_table.h"
#include "proxy/peers/peer_list.h"
#include "proxy/tls/client_context.h"

namespace batonctl {
namespace {

using Clock = std::chrono::steady_clock;
namespace peers = baton::proxy::peers;

constexpr size_t kMaxAnswer = 64u << 20;

// ---- a minimal blocking HTTP/1.0 client ------------------------------------------------------

struct HttpAnswer {
  std::string error;  // "" = an answer came
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Url {
  bool https = false;
  std::string host;
  std::string port;
  std::string path;  // without the trailing '/'
};

std::optional<Url> parseUrl(std::string_view url) {
  Url out;
  if (url.starts_with("https://")) {
    out.https = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const std::string default_port = out.https ? "443" : "80";
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  while (out.path.ends_with("/")) out.path.pop_back();
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    out.port = authority.starts_with(":") ? std::string(authority.substr(1)) : default_port;
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port =
        colon == std::string_view::npos ? default_port : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  return out;
}

int millisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool waitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const int left = millisLeft(deadline);
    if (left == 0) return false;
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, left);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

// Connects (non-blocking, so the deadline bounds it) to the first address that answers.
int connectTo(const std::string& host, const std::string& port, Clock::time_point deadline,
              std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  error = "no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (waitFor(fd, POLLOUT, deadline)) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) error.clear();
  return fd;
}

void parseHead(std::string_view head, HttpAnswer& out) {
  const size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  const size_t space = status_line.find(' ');
  if (space != std::string_view::npos)
    out.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
  size_t at = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(at, end - at);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.headers[name] = std::string(value);
    }
    at = end + 2;
  }
}

// One exchange's connection: the socket and, for https://, a TLS session over it (baton's own
// tls::ClientContext: chain and host name verified). Every step is non-blocking and waits with
// poll() against the exchange's one deadline, the TLS handshake included: SecureLayer says which
// readiness it needs next.
class Channel {
 public:
  Channel(int fd, std::unique_ptr<baton::core::SecureLayer> tls) : fd_(fd), tls_(std::move(tls)) {}
  ~Channel() {
    if (tls_) tls_->shutdown();
    close(fd_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool handshake(Clock::time_point deadline, std::string& error) {
    if (!tls_) return true;
    while (true) {
      const auto r = tls_->handshake();
      if (r.status == Status::Ok) return true;
      if (r.status == Status::Eof || r.status == Status::Error) {
        error = "TLS handshake: " + reason("closed by the peer");
        return false;
      }
      if (!awaitLayer(r.status, deadline)) {
        error = "timed out in the TLS handshake";
        return false;
      }
    }
  }

  bool sendAll(std::string_view left, Clock::time_point deadline, std::string& error) {
    while (!left.empty()) {
      size_t sent = 0;
      if (tls_) {
        const auto r = tls_->write(left.data(), left.size());
        if (r.status == Status::Eof || r.status == Status::Error) {
          error = "TLS send: " + reason("closed by the peer");
          return false;
        }
        if (r.status != Status::Ok && !awaitLayer(r.status, deadline)) {
          error = "timed out sending";
          return false;
        }
        sent = r.status == Status::Ok ? r.bytes : 0;
      } else {
        if (!waitFor(fd_, POLLOUT, deadline)) {
          error = "timed out sending";
          return false;
        }
        const ssize_t n = send(fd_, left.data(), left.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
          error = std::string("send: ") + std::strerror(errno);
          return false;
        }
        sent = n > 0 ? static_cast<size_t>(n) : 0;
      }
      left.remove_prefix(sent);
    }
    return true;
  }

  // Bytes read (> 0), 0 at the end of the answer, -1 on an error or the deadline.
  ssize_t receive(char* buf, size_t len, Clock::time_point deadline, std::string& error) {
    while (true) {
      if (tls_) {
        const auto r = tls_->read(buf, len);
        if (r.status == Status::Ok) return static_cast<ssize_t>(r.bytes);
        if (r.status == Status::Eof) return 0;  // close_notify, or EOF (HTTP/1.0 framing)
        if (r.status == Status::Error) {
          error = "TLS receive: " + reason("failed");
          return -1;
        }
        if (!awaitLayer(r.status, deadline)) break;
        continue;
      }
      if (!waitFor(fd_, POLLIN, deadline)) break;
      const ssize_t n = recv(fd_, buf, len, 0);
      if (n >= 0) return n;
      if (errno == EINTR || errno == EAGAIN) continue;
      error = std::string("recv: ") + std::strerror(errno);
      return -1;
    }
    error = "no complete answer within the timeout (--timeout)";
    return -1;
  }

 private:
  using Status = baton::core::SecureLayer::Status;

  bool awaitLayer(Status status, Clock::time_point deadline) {
    return waitFor(fd_, status == Status::WantWrite ? POLLOUT : POLLIN, deadline);
  }
  std::string reason(const char* fallback) const {
    std::string why = tls_->errorReason();
    return why.empty() ? fallback : why;
  }

  int fd_;
  std::unique_ptr<baton::core::SecureLayer> tls_;
};

// `tls` set: https:// (SNI and verification against `host`).
HttpAnswer exchange(const std::string& host, const std::string& port, const std::string& request,
                    Clock::time_point deadline, const baton::tls::ClientContext* tls = nullptr) {
  HttpAnswer out;
  const int fd = connectTo(host, port, deadline, out.error);
  if (fd < 0) return out;
  std::unique_ptr<baton::core::SecureLayer> layer;
  if (tls != nullptr) {
    auto session = tls->newSession(fd, host);
    if (!session) {
      close(fd);
      out.error = session.error().detail;
      return out;
    }
    layer = std::move(*session);
  }
  Channel channel(fd, std::move(layer));
  if (!channel.handshake(deadline, out.error) || !channel.sendAll(request, deadline, out.error)) {
    return out;
  }
  std::string data;
  while (true) {  // HTTP/1.0: the answer ends at EOF
    char chunk[65536];
    const ssize_t n = channel.receive(chunk, sizeof(chunk), deadline, out.error);
    if (n < 0) return out;
    if (n == 0) break;
    data.append(chunk, static_cast<size_t>(n));
    if (data.size() > kMaxAnswer) {
      out.error = "answer too large";
      return out;
    }
  }
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    out.error = "connection closed before an HTTP answer";
    return out;
  }
  parseHead(std::string_view(data).substr(0, head_end), out);
  out.body = data.substr(head_end + 4);
  return out;
}

std::string hostHeader(const std::string& host, const std::string& port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

// ---- finding the instances ---------------------------------------------------------------------

std::vector<peers::PeerEndpoint> listInstances(const AllOptions& options, std::string& error) {
  const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_seconds);
  std::string errors;
  std::shared_ptr<const baton::tls::ClientContext> tls;  // made for the first https:// URL
  for (const std::string& text : options.marathon_urls) {
    auto url = parseUrl(text);
    if (!url) {
      errors += (errors.empty() ? "" : "; ") + text + ": not an http:// or https:// URL";
      continue;
    }
    if (url->https && !tls) {
      auto made = baton::tls::ClientContext::create(
          {.verify = true, .ca_file = options.marathon_ca_file, .alpn = {}});
      if (!made) {
        error = "cannot verify https:// Marathon: " + made.error().detail +
                " (--marathon-ca-cert, or the config's [marathon] ca_file)";
        return {};
      }
      tls = std::move(*made);
    }
    std::string request = "GET " + url->path + peers::selfAppPath(options.self_app) +
                          " HTTP/1.0\r\nHost: " + hostHeader(url->host, url->port) +
                          "\r\nAccept: application/json\r\n";
    if (!options.marathon_authorization.empty()) {
      request += "Authorization: " + options.marathon_authorization + "\r\n";
    }
    request += "\r\n";
    HttpAnswer answer =
        exchange(url->host, url->port, request, deadline, url->https ? tls.get() : nullptr);
    if (!answer.error.empty() || answer.status != 200) {
      errors += (errors.empty() ? "" : "; ") + text + ": " +
                (answer.error.empty() ? "HTTP " + std::to_string(answer.status) : answer.error);
      continue;
    }
    auto list = peers::peersFromApp(answer.body, options.admin_port);
    if (!list) {
      errors += (errors.empty() ? "" : "; ") + text + ": " + list.error().detail;
      continue;
    }
    if (list->skipped > 0) {
      std::fprintf(stderr, "batonctl: %zu running task(s) of %s have no admin port: skipped\n",
                   list->skipped, options.self_app.c_str());
    }
    return list->peers;
  }
  error = errors.empty() ? "no Marathon URL" : errors;
  return {};
}

// ---- one instance ------------------------------------------------------------------------------

struct InstanceResult {
  peers::PeerEndpoint peer;
  bool reachable = true;
  std::string error;   // transport error (unreachable)
  std::string word;    // "" = every line succeeded; else the refusal word
  std::string answer;  // the last line's answer without its ending empty line
};

std::string withoutEnd(std::string text) {
  while (text.ends_with("\n")) text.pop_back();
  return text;
}

// The string value of `key` in a flat JSON object (the listener's {"ok":false,"error":...,
// "message":...} refusals); "" when absent. Only the escapes that listener writes.
std::string jsonField(std::string_view body, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":\"";
  size_t at = body.find(needle);
  if (at == std::string_view::npos) return {};
  std::string out;
  for (at += needle.size(); at < body.size() && body[at] != '"'; ++at) {
    if (body[at] == '\\' && at + 1 < body.size()) ++at;
    out += body[at];
  }
  return out;
}

std::pair<std::string, std::string> jsonRefusal(std::string_view body) {
  return {jsonField(body, "error"), jsonField(body, "message")};
}

void runOn(const AllOptions& options, const AllRequest& request, InstanceResult& result) {
  const std::string port = std::to_string(result.peer.port);
  for (size_t i = 0; i < request.lines.size(); ++i) {
    const auto deadline =
        Clock::now() + std::chrono::seconds(options.timeout_seconds + request.extra_seconds[i]);
    const std::string& line = request.lines[i];
    std::string head =
        "POST /api/command HTTP/1.0\r\nHost: " + hostHeader(result.peer.host, port) +
        "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(line.size() + 1) +
        "\r\n";
    if (!options.token.empty()) head += "Authorization: Bearer " + options.token + "\r\n";
    HttpAnswer answer = exchange(result.peer.host, port, head + "\r\n" + line + "\n", deadline);
    if (!answer.error.empty()) {
      result.reachable = false;
      result.error = answer.error;
      return;
    }
    auto word = answer.headers.find("x-baton-result");
    if (word == answer.headers.end()) {
      // Refused before the command ran (token, origin): a JSON result, or not a baton at all.
      auto [word, message] = jsonRefusal(answer.body);
      result.word = !word.empty() ? word : (answer.status == 401 ? "denied" : "failed");
      result.answer = !message.empty() ? message
                                       : "HTTP " + std::to_string(answer.status) + ": " +
                                             withoutEnd(answer.body);
      return;
    }
    result.answer = withoutEnd(answer.body);
    if (word->second != "ok") {
      result.word = word->second;
      const std::string prefix = word->second + ": ";
      if (result.answer.starts_with(prefix)) result.answer.erase(0, prefix.size());
      return;
    }
  }
}

// ---- output ------------------------------------------------------------------------------------

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\u%04x", byte);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at <= text.size() && !text.empty()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    if (end > at) lines.emplace_back(text.substr(at, end - at));
    if (end == text.size()) break;
    at = end + 1;
  }
  return lines;
}

std::vector<std::string> splitWords(std::string_view line) {
  std::vector<std::string> words;
  size_t at = 0;
  while (true) {
    const size_t start = line.find_first_not_of(' ', at);
    if (start == std::string_view::npos) break;
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    words.emplace_back(line.substr(start, end - start));
    at = end;
  }
  return words;
}

bool isCount(std::string_view text) {
  return !text.empty() && text.size() < 19 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string tableText(const std::vector<std::vector<std::string>>& rows) {
  return baton::core::alignedColumns(rows);
}

std::string label(const InstanceResult& r) {
  return r.peer.task_id.empty() ? r.peer.address() : r.peer.task_id;
}

// "key: value" lines from every instance -> one row per key, one column per instance.
bool aggregateKeyValues(const std::vector<const InstanceResult*>& answered) {
  std::vector<std::string> keys;
  std::vector<std::map<std::string, std::string>> values(answered.size());
  for (size_t i = 0; i < answered.size(); ++i) {
    for (const std::string& line : splitLines(answered[i]->answer)) {
      const size_t colon = line.find(": ");
      if (colon == std::string::npos) return false;
      std::string key = line.substr(0, colon);
      if (values[i].emplace(key, line.substr(colon + 2)).second &&
          std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
  }
  std::vector<std::vector<std::string>> rows{{"key"}};
  for (const auto* r : answered) rows[0].push_back(label(*r));
  for (const std::string& key : keys) {
    std::vector<std::string> row{key};
    for (const auto& v : values) {
      auto found = v.find(key);
      row.push_back(found == v.end() ? "-" : found->second);
    }
    rows.push_back(std::move(row));
  }
  std::fputs(tableText(rows).c_str(), stdout);
  return true;
}

// One table per instance (same header) -> rows with an instance column, then a total per key.
bool aggregateTables(const std::vector<const InstanceResult*>& answered) {
  static const std::vector<std::string_view> kKeyColumns = {
      "cluster", "host", "address", "scope", "vhost", "prefix", "group", "task", "file", "key"};
  // Per-instance counters (traffic each instance saw): summed. Other numbers describe the state
  // every instance shares (hosts, up, weight): shown once when equal, "*" when not.
  static const std::vector<std::string_view> kAdditive = {
      "in_flight",        "requests",  "4xx",      "5xx",    "no_host",    "retries",  "pooled",
      "connect_failures", "drain_cut", "accepted", "active", "retry_hits", "all_miss", "flips"};
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  for (const auto* r : answered) {
    auto lines = splitLines(r->answer);
    if (lines.empty()) return false;
    auto head = splitWords(lines[0]);
    if (head.size() < 2 || (!header.empty() && head != header)) return false;
    header = head;
    for (size_t i = 1; i < lines.size(); ++i) {
      auto words = splitWords(lines[i]);
      if (words.size() < header.size()) return false;
      // The last column may hold spaces (error texts): join the extra words back.
      for (size_t extra = header.size(); extra < words.size(); ++extra) {
        words[header.size() - 1] += " " + words[extra];
      }
      words.resize(header.size());
      words.insert(words.begin(), label(*r));
      rows.push_back(std::move(words));
    }
  }
  size_t keys = 0;
  while (keys < header.size() &&
         std::find(kKeyColumns.begin(), kKeyColumns.end(), header[keys]) != kKeyColumns.end()) {
    ++keys;
  }
  if (keys == 0) keys = 1;
  std::vector<std::vector<std::string>> out{{"instance"}};
  out[0].insert(out[0].end(), header.begin(), header.end());
  out.insert(out.end(), rows.begin(), rows.end());
  // Totals, per key, in first-seen order.
  std::vector<std::vector<std::string>> totals;
  for (const auto& row : rows) {
    auto same_key = [&](const std::vector<std::string>& t) {
      return std::equal(t.begin() + 1, t.begin() + 1 + static_cast<long>(keys), row.begin() + 1);
    };
    auto found = std::find_if(totals.begin(), totals.end(), same_key);
    if (found == totals.end()) {
      totals.push_back(row);
      totals.back()[0] = "total";
      continue;
    }
    for (size_t c = 1 + keys; c < row.size(); ++c) {
      std::string& cell = (*found)[c];
      const std::string& name = header[c - 1];
      const bool additive = std::find(kAdditive.begin(), kAdditive.end(), name) != kAdditive.end();
      if (isCount(cell) && isCount(row[c]) && (additive || name.ends_with("_ms"))) {
        const uint64_t a = std::stoull(cell), b = std::stoull(row[c]);
        cell = std::to_string(additive ? a + b : std::max(a, b));
      } else if (cell != row[c]) {
        cell = "*";
      }
    }
  }
  if (answered.size() > 1) out.insert(out.end(), totals.begin(), totals.end());
  std::fputs(tableText(out).c_str(), stdout);
  return true;
}

void printShow(const std::vector<InstanceResult>& results) {
  std::vector<const InstanceResult*> answered;
  for (const auto& r : results) {
    if (r.reachable && r.word.empty()) answered.push_back(&r);
  }
  if (!answered.empty() && !aggregateKeyValues(answered) && !aggregateTables(answered)) {
    for (const auto* r : answered) {
      std::printf("== %s (%s)\n%s\n", label(*r).c_str(), r->peer.address().c_str(),
                  r->answer.c_str());
    }
  }
}

void printResults(const std::vector<InstanceResult>& results, bool show) {
  for (const auto& r : results) {
    if (show && r.reachable && r.word.empty()) continue;  // in the aggregate
    std::string text = !r.reachable      ? "unreachable: " + r.error
                       : !r.word.empty() ? r.word + ": " + r.answer
                                         : "ok: " + r.answer;
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::fprintf(r.reachable && r.word.empty() ? stdout : stderr, "%s %s %s\n", label(r).c_str(),
                 r.peer.address().c_str(), text.c_str());
  }
}

void printJson(const std::vector<InstanceResult>& results, const AllRequest& request) {
  std::string out = "{\"instances\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (i > 0) out += ",";
    out += "{\"task_id\":" + jsonString(r.peer.task_id) +
           ",\"address\":" + jsonString(r.peer.address()) +
           ",\"reachable\":" + (r.reachable ? "true" : "false") +
           ",\"ok\":" + (r.reachable && r.word.empty() ? "true" : "false") +
           ",\"error\":" + jsonString(!r.reachable ? r.error : r.word) + ",\"answer\":";
    const bool raw = request.json_answer && r.reachable && r.word.empty() &&
                     (r.answer.starts_with("{") || r.answer.starts_with("["));
    out += raw ? r.answer : jsonString(r.answer);
    out += "}";
  }
  std::printf("%s]}\n", out.c_str());
}

}  // namespace

int runAll(const AllOptions& options, const AllRequest& request) {
  if (options.self_app.empty()) {
    std::fprintf(stderr, "batonctl: --all needs baton's app id (--self-app or $MARATHON_APP_ID)\n");
    return 2;
  }
  if (options.marathon_urls.empty()) {
    std::fprintf(stderr,
                 "batonctl: --all needs Marathon (--marathon URL, $BATON_MARATHON_URL or "
                 "--config FILE's [marathon] urls)\n");
    return 2;
  }
  std::string error;
  auto found = listInstances(options, error);
  if (found.empty()) {
    std::fprintf(stderr, "batonctl: no instance of %s found: %s\n", options.self_app.c_str(),
                 error.empty() ? "no running task" : error.c_str());
    return 2;
  }
  std::vector<InstanceResult> results(found.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < found.size(); ++i) {
    results[i].peer = found[i];
    threads.emplace_back(
        [&options, &request, &result = results[i]] { runOn(options, request, result); });
  }
  for (auto& t : threads) t.join();

  size_t ok = 0, refused = 0, unreachable = 0;
  for (const auto& r : results) {
    if (!r.reachable) {
      ++unreachable;
    } else if (!r.word.empty()) {
      ++refused;
    } else {
      ++ok;
    }
  }
  if (options.json) {
    printJson(results, request);
  } else {
    if (request.show) printShow(results);
    printResults(results, request.show);
    std::fprintf(unreachable + refused == 0 ? stdout : stderr,
                 "%zu instance(s): %zu ok, %zu refused, %zu unreachable\n", results.size(), ok,
                 refused, unreachable);
  }
  if (unreachable > 0) return ok + refused > 0 ? 3 : 2;
  return refused > 0 ? 1 : 0;
}

}  // namespace batonctl
