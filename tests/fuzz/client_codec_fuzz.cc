// Fuzz target: the HTTP/1 response codec (proxy/http1/client_codec.h), the upstream side:
// status line, header block, 1xx, Content-Length / chunked / read-until-close bodies, several
// responses on one keep-alive connection. An input starting with "HEAD\n" answers HEAD requests
// (no body may be read); otherwise GET requests.
//
// Oracles: no crash, sanitizer report or hang; the same bytes give the same responses, body
// bytes and verdict whether fed whole, one byte at a time, or in random pieces with the body
// callback pausing the codec; every delivered head is safe to relay (no CR/LF/NUL in the reason
// or a field, a status of three digits, both CL and TE -> never reused), a Content-Length body
// delivers exactly that many bytes and a no-body response none.
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http1/client_codec.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using baton::proxy::http1::ClientCodec;
using baton::proxy::http1::ClientCodecCallbacks;
using baton::proxy::http1::ResponseHead;

bool fieldBytesOk(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

std::string describe(const ResponseHead& h) {
  std::string s =
      std::to_string(h.status) + " 1." + std::to_string(h.version_minor) + ' ' + h.reason;
  for (const auto& f : h.headers) s += "\n  " + f.name + ": " + f.value;
  s += "\n  chunked=" + std::to_string(h.chunked) +
       " cl=" + (h.content_length ? std::to_string(*h.content_length) : "-") +
       " ka=" + std::to_string(h.keep_alive) + " nobody=" + std::to_string(h.no_body) + "\n";
  return s;
}

void checkHead(const ResponseHead& h) {
  BATON_FUZZ_CHECK(h.status >= 100 && h.status <= 999);
  BATON_FUZZ_CHECK(h.version_minor <= 1);
  BATON_FUZZ_CHECK(fieldBytesOk(h.reason));
  for (const auto& f : h.headers) {
    BATON_FUZZ_CHECK(!f.name.empty());
    BATON_FUZZ_CHECK(fieldBytesOk(f.name) && fieldBytesOk(f.value));
  }
  if (h.chunked && h.content_length) BATON_FUZZ_CHECK(!h.keep_alive);
}

class Recorder : public ClientCodecCallbacks {
 public:
  Recorder(bool pause_on_body) : pause_on_body_(pause_on_body) {}
  ClientCodec* codec = nullptr;
  std::string log;
  size_t mark = 0;         // as in server_codec_fuzz.cc: the log up to the last head or end
  bool completed = false;  // the driver arms the next response
  bool paused = false;     // paused from onResponseBody: the driver resumes

  void onInformational(ResponseHead&& head) override {
    BATON_FUZZ_CHECK(!in_response_);
    BATON_FUZZ_CHECK(head.status >= 100 && head.status < 200 && head.status != 101);
    checkHead(head);
    log += "I " + describe(head);
    mark = log.size();
  }
  void onResponseHead(ResponseHead&& head) override {
    BATON_FUZZ_CHECK(!in_response_);
    checkHead(head);
    in_response_ = true;
    head_ = std::move(head);
    body_bytes_ = 0;
    log += "R " + describe(head_);
    mark = log.size();
  }
  void onResponseBody(const char* data, size_t len) override {
    BATON_FUZZ_CHECK(in_response_ && !head_.no_body && len > 0);
    body_bytes_ += len;
    if (head_.content_length && !head_.chunked) {
      BATON_FUZZ_CHECK(body_bytes_ <= *head_.content_length);
    }
    log.append(data, len);
    if (pause_on_body_) {
      codec->pause();
      paused = true;
    }
  }
  void onResponseComplete() override {
    BATON_FUZZ_CHECK(in_response_);
    in_response_ = false;
    if (head_.no_body) BATON_FUZZ_CHECK(body_bytes_ == 0);
    if (head_.content_length && !head_.chunked && !head_.no_body) {
      BATON_FUZZ_CHECK(body_bytes_ == *head_.content_length);
    }
    log += "\nC\n";
    mark = log.size();
    completed = true;
  }

 private:
  bool pause_on_body_;
  bool in_response_ = false;
  ResponseHead head_;
  uint64_t body_bytes_ = 0;
};

template <typename Piece>
std::string run(std::string_view input, bool head_request, Piece&& piece, bool pause_on_body) {
  Recorder rec(pause_on_body);
  ClientCodec codec(rec);
  rec.codec = &codec;
  codec.expectResponse(head_request);
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
        return rec.log.substr(0, rec.mark) + "E " +
               std::string(baton::core::errorCodeName(r.error().code));
      }
      BATON_FUZZ_CHECK(*r <= pending.size());
      pending.erase(0, *r);
      if (rec.completed) {  // the next request went out: arm the codec for its response
        rec.completed = false;
        codec.expectResponse(head_request);
      } else if (rec.paused) {
        rec.paused = false;
        codec.resume();
      } else {
        break;
      }
      idle_rounds = (*r == 0 && rec.log.size() == log_before) ? idle_rounds + 1 : 0;
      BATON_FUZZ_CHECK(idle_rounds < 3);
    }
    if (offset == input.size()) break;
  }
  auto eof = codec.onEof();
  std::string out =
      rec.log +
      (eof ? "EOF ok" : "EOF " + std::string(baton::core::errorCodeName(eof.error().code)));
  return out;
}

}  // namespace

BATON_FUZZ_ENTRY(client_codec) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool head_request = input.starts_with("HEAD\n");
  if (head_request) input.remove_prefix(5);
  const std::string whole = run(
      input, head_request, [&] { return input.size(); }, false);
  const std::string bytewise = run(
      input, head_request, [] { return size_t{1}; }, false);
  BATON_FUZZ_CHECK_EQ(whole, bytewise);
  baton::fuzz::SplitPlan plan(data, size, 16);
  const std::string split = run(
      input, head_request, [&] { return plan.next(); }, true);
  BATON_FUZZ_CHECK_EQ(whole, split);
  return 0;
}
