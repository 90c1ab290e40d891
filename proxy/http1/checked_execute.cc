#include "proxy/http1/checked_execute.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

namespace {

using Outcome = LlhttpParser::Outcome;
using Status = LlhttpParser::Status;

// Whether llhttp 8.1 acts on this accepted line: the empty line that ends the head, and the
// fields it reads for framing and connection handling (blob10-13 and the connection/upgrade
// matches in llhttp.c). Any other line the scanner accepted (tchar name, field-value bytes,
// CRLF) llhttp can only walk over: its checks on such a line are the scanner's, less strict, and
// it keeps nothing from it.
bool llhttpActsOn(std::string_view line) {
  if (line.empty()) return true;
  // `name` and the colon after it start the line (a tchar name ends at the colon, so no
  // longer name can match); picked by the first letter, without looking for the colon.
  const auto startsWith = [line](std::string_view name) {
    return line.size() > name.size() && line[name.size()] == ':' &&
           equalsIgnoreCaseSameSize(line.substr(0, name.size()), name);
  };
  switch (line[0] | 0x20) {  // letters lowercased; only a first sieve, the comparison decides
    case 'c':
      return startsWith("connection") || startsWith("content-length");
    case 'p':
      return startsWith("proxy-connection");
    case 't':
      return startsWith("transfer-encoding");
    case 'u':
      return startsWith("upgrade");
    default:
      return false;
  }
}

// llhttp over [p, end), whole lines the scanner accepted. Without a sink llhttp gets every byte
// (ServerCodec takes its fields from llhttp's callbacks). With one, each field line goes to the
// sink and llhttp gets only the runs of lines it acts on: walking the others was most of
// llhttp's cost per response head. The outcome's count is in [p, end): up to the pause or
// error, else all of it.
Outcome executeLines(LlhttpParser& parser, const char* p, const char* end, FieldLineSink* sink) {
  if (sink == nullptr) return parser.execute(p, static_cast<size_t>(end - p));
  const char* const start = p;
  const char* run = p;  // the start of the lines llhttp has yet to see
  while (p < end) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    // Every accepted line ends in CRLF; the empty line ending the head is not a field.
    const std::string_view line(p, static_cast<size_t>(lf - p) - 1);
    if (!line.empty()) sink->onFieldLine(line);
    const char* next = lf + 1;
    if (!llhttpActsOn(line)) {
      if (run < p) {
        const auto n = static_cast<size_t>(p - run);
        const Outcome out = parser.execute(run, n);
        if (out.status != Status::Ok || out.consumed < n) {
          return Outcome{out.status, static_cast<size_t>(run - start) + out.consumed};
        }
      }
      run = next;
    }
    p = next;
  }
  if (run == end) return Outcome{Status::Ok, static_cast<size_t>(end - start)};
  const auto n = static_cast<size_t>(end - run);
  const Outcome out = parser.execute(run, n);
  return Outcome{out.status, static_cast<size_t>(run - start) + out.consumed};
}

// llhttp over `held_line` + the `piece` that completes it (the scanner accepted both); returns
// how many bytes of `piece` count as consumed.
Outcome executeHeld(LlhttpParser& parser, std::string& held_line, const char* piece, size_t n,
                    FieldLineSink* sink) {
  held_line.append(piece, n);
  Outcome out = executeLines(parser, held_line.data(), held_line.data() + held_line.size(), sink);
  // llhttp stops short of the held line's end only on an error (fatal, the count does not
  // matter) or a pause at the end of the head, which is the line's last byte.
  const size_t unexecuted = held_line.size() - std::min(out.consumed, held_line.size());
  out.consumed = n - std::min(unexecuted, n);
  held_line.clear();
  return out;
}

// The line-by-line order itself, for input in which the scanner refuses a byte: llhttp judges
// every line before the refused one first, and its error wins.
core::Result<Outcome> executeLineByLine(HeaderBlockScanner& scanner, LlhttpParser& parser,
                                        std::string& held_line, const char* data, size_t len,
                                        FieldLineSink* sink) {
  size_t pos = 0;
  while (pos < len && !scanner.done()) {
    // Every LF the scanner accepts ends a line (a bare LF is refused), so giving it the bytes
    // up to the next LF makes it judge exactly one line.
    const char* lf = static_cast<const char*>(std::memchr(data + pos, '\n', len - pos));
    const size_t piece = lf != nullptr ? static_cast<size_t>(lf - (data + pos)) + 1 : len - pos;
    auto accepted = scanner.consume(data + pos, piece);
    if (!accepted) return core::fail(std::move(accepted.error()));
    if (lf == nullptr) {  // the line goes on in a later read: llhttp waits for all of it
      held_line.append(data + pos, *accepted);
      return Outcome{Status::Ok, len};
    }
    Outcome out;
    if (held_line.empty()) {
      out = executeLines(parser, data + pos, data + pos + *accepted, sink);
    } else {
      out = executeHeld(parser, held_line, data + pos, *accepted, sink);
    }
    pos += out.consumed;
    if (out.status != Status::Ok || out.consumed < *accepted) return Outcome{out.status, pos};
  }
  return Outcome{Status::Ok, pos};
}

}  // namespace

core::Result<Outcome> executeCheckedHead(HeaderBlockScanner& scanner, LlhttpParser& parser,
                                         std::string& held_line, const char* data, size_t len,
                                         FieldLineSink* sink) {
  if (len == 0 || scanner.done()) return Outcome{Status::Ok, 0};
  const HeaderBlockScanner before = scanner;
  auto accepted = scanner.consume(data, len);
  if (!accepted) {
    scanner = before;
    return executeLineByLine(scanner, parser, held_line, data, len, sink);
  }
  // The complete lines end at the end of the head, or after the last LF of the input.
  size_t complete = *accepted;
  if (!scanner.done()) {
    const void* last_lf = memrchr(data, '\n', *accepted);
    complete =
        last_lf != nullptr ? static_cast<size_t>(static_cast<const char*>(last_lf) - data) + 1 : 0;
  }
  size_t pos = 0;
  if (!held_line.empty() && complete != 0) {
    const char* lf = static_cast<const char*>(std::memchr(data, '\n', complete));
    const size_t first = static_cast<size_t>(lf - data) + 1;
    const Outcome out = executeHeld(parser, held_line, data, first, sink);
    pos = out.consumed;
    if (out.status != Status::Ok || out.consumed < first) return Outcome{out.status, pos};
  }
  if (pos < complete) {
    const Outcome out = executeLines(parser, data + pos, data + complete, sink);
    const size_t asked = complete - pos;
    pos += out.consumed;
    if (out.status != Status::Ok || out.consumed < asked) return Outcome{out.status, pos};
  }
  // A line still open at the end of the input: llhttp waits for all of it.
  held_line.append(data + complete, *accepted - complete);
  return Outcome{Status::Ok, *accepted};
}

core::Result<Outcome> executeCheckedChunked(ChunkedBodyScanner& scanner, LlhttpParser& parser,
                                            size_t& validated_ahead, const char* data, size_t len) {
  // validated_ahead bytes at data + pos are body bytes (never extension bytes: the scanner
  // never runs past an extension llhttp has not reached), so they go to llhttp as they are.
  size_t pos = 0;
  for (;;) {
    size_t checked = validated_ahead;
    if (pos + checked < len && !scanner.done()) {
      auto accepted = scanner.consumeRun(data + pos + checked, len - pos - checked, false);
      if (!accepted) return core::fail(std::move(accepted.error()));
      checked += *accepted;
    }
    const auto out = parser.execute(data + pos, std::min(checked, len - pos));
    pos += out.consumed;
    validated_ahead = checked - out.consumed;
    if (out.status != LlhttpParser::Status::Ok || validated_ahead != 0 || pos == len ||
        scanner.done() || !scanner.isExtensionByte(data[pos])) {
      return Outcome{out.status, pos};
    }
    // llhttp stands right before a chunk extension: skip it (checked, never forwarded), so
    // llhttp sees `5\r\n` for `5;a=b;c=d\r\n`.
    auto skipped = scanner.consumeRun(data + pos, len - pos, true);
    if (!skipped) return core::fail(std::move(skipped.error()));
    pos += *skipped;
  }
}

}  // namespace baton::proxy::http1
