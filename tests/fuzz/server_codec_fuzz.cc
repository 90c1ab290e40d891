// Fuzz target: the HTTP/1 request codec (proxy/http1/server_codec.h), the downstream side of
// every connection: request line, header block, Content-Length and chunked framing, pipelining.
//
// Oracles: no crash, sanitizer report or hang (a feed loop that makes no progress aborts); the
// same bytes give the same requests, the same body bytes and the same verdict whether fed whole,
// one byte at a time, or in random pieces with the callbacks pausing the codec on every body
// piece (as a connection does when the upstream is slow); every delivered head is one the
// proxy may forward (token method, no CR/LF/NUL in a field, one framing), a Content-Length body
// delivers exactly that many bytes, and a bodiless request delivers none.
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http1/server_codec.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using baton::proxy::http1::RequestHead;
using baton::proxy::http1::ServerCodec;
using baton::proxy::http1::ServerCodecCallbacks;
using baton::proxy::http1::ServerCodecLimits;

// Small limits so the limit paths are reachable with short inputs.
ServerCodecLimits limits() {
  ServerCodecLimits l;
  l.request_line_bytes = 256;
  l.header_field_bytes = 256;
  l.header_block_bytes = 1024;
  l.header_count = 16;
  return l;
}
constexpr uint64_t kBodyLimit = 100000;

// The verdict is the exact error code, not only the reply status: the codec checks a head line
// by line (the scanner, then llhttp) and never shows llhttp a partial line or a trailer field,
// so even a head with two faults gets the same code in every split (README.md findings 1, 3).
std::string verdict(baton::core::ErrorCode code) {
  return std::string(baton::core::errorCodeName(code));
}

bool fieldBytesOk(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

class Recorder : public ServerCodecCallbacks {
 public:
  Recorder(bool pause_on_body) : pause_on_body_(pause_on_body) {}
  ServerCodec* codec = nullptr;
  std::string log;  // the event sequence, body bytes included, independent of the split
  // The log up to the last head or end: on an error the body bytes delivered before it are
  // cut, since how many were streamed before the bad byte arrived depends on the split.
  size_t mark = 0;

  void onRequestHead(RequestHead&& head) override {
    BATON_FUZZ_CHECK(!in_request_);
    in_request_ = true;
    checkHead(head);
    head_ = std::move(head);
    body_bytes_ = 0;
    log += "H " + head_.method + ' ' + head_.target + " 1." + std::to_string(head_.version_minor);
    for (const auto& f : head_.headers) log += "\n  " + f.name + ": " + f.value;
    log += "\n  chunked=" + std::to_string(head_.chunked) +
           " cl=" + (head_.content_length ? std::to_string(*head_.content_length) : "-") +
           " ka=" + std::to_string(head_.keep_alive) +
           " expect=" + std::to_string(head_.expect_continue) +
           " upgrade=" + std::to_string(head_.upgrade) + "\n";
    mark = log.size();
    codec->setBodyLimit(kBodyLimit);
  }
  void onRequestBody(const char* data, size_t len) override {
    BATON_FUZZ_CHECK(in_request_ && head_.hasBody());
    BATON_FUZZ_CHECK(len > 0);
    body_bytes_ += len;
    if (head_.content_length) BATON_FUZZ_CHECK(body_bytes_ <= *head_.content_length);
    log.append(data, len);  // body bytes in order; the piece boundaries are not logged
    if (pause_on_body_) codec->pause();
  }
  void onRequestComplete() override {
    BATON_FUZZ_CHECK(in_request_);
    in_request_ = false;
    if (head_.content_length && !head_.chunked) {
      BATON_FUZZ_CHECK(body_bytes_ == *head_.content_length);
    }
    if (!head_.hasBody()) BATON_FUZZ_CHECK(body_bytes_ == 0);
    log += "\nC\n";
    mark = log.size();
  }

 private:
  static void checkHead(const RequestHead& h) {
    BATON_FUZZ_CHECK(!h.method.empty() && !h.target.empty());
    BATON_FUZZ_CHECK(h.version_minor <= 1);
    BATON_FUZZ_CHECK(!(h.chunked && h.content_length));  // one framing, never both
    for (const auto& f : h.headers) {
      BATON_FUZZ_CHECK(!f.name.empty());
      BATON_FUZZ_CHECK(f.name.find_first_of(" \t:") == std::string::npos);
      BATON_FUZZ_CHECK(fieldBytesOk(f.name) && fieldBytesOk(f.value));
    }
  }

  bool pause_on_body_;
  bool in_request_ = false;
  RequestHead head_;
  uint64_t body_bytes_ = 0;
};

// Feeds like a connection: unconsumed bytes stay buffered, a pause is resumed at once.
template <typename Piece>
std::string run(std::string_view input, Piece&& piece, bool pause_on_body) {
  Recorder rec(pause_on_body);
  ServerCodec codec(rec, limits());
  rec.codec = &codec;
  std::string pending;
  size_t offset = 0;
  while (true) {
    const size_t n = std::min(piece(), input.size() - offset);
    pending.append(input.substr(offset, n));
    offset += n;
    size_t idle_rounds = 0;
    while (true) {
      const size_t log_before = rec.log.size();
      auto r = codec.feed(pending.data(), pending.size());
      if (!r) {
        return rec.log.substr(0, rec.mark) + "E " + verdict(r.error().code);
      }
      BATON_FUZZ_CHECK(*r <= pending.size());
      pending.erase(0, *r);
      if (!codec.paused()) break;
      // A pause must come with progress; three empty rounds in a row is a livelock.
      idle_rounds = (*r == 0 && rec.log.size() == log_before) ? idle_rounds + 1 : 0;
      BATON_FUZZ_CHECK(idle_rounds < 3);
      codec.resume();
    }
    if (offset == input.size()) break;
  }
  auto eof = codec.onEof();
  return rec.log + (eof ? "EOF ok" : "EOF " + verdict(eof.error().code));
}

}  // namespace

BATON_FUZZ_ENTRY(server_codec) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto whole_piece = [&] { return input.size(); };
  const std::string whole = run(input, whole_piece, false);
  auto one_byte = [] { return size_t{1}; };
  const std::string bytewise = run(input, one_byte, false);
  BATON_FUZZ_CHECK_EQ(whole, bytewise);
  baton::fuzz::SplitPlan plan(data, size, 16);
  auto random_piece = [&] { return plan.next(); };
  const std::string split = run(input, random_piece, true);
  BATON_FUZZ_CHECK_EQ(whole, split);
  return 0;
}
