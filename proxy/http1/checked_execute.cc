#include "proxy/http1/checked_execute.h"

#include <algorithm>
#include <cstring>

namespace baton::proxy::http1 {

core::Result<LlhttpParser::Outcome> executeCheckedHead(HeaderBlockScanner& scanner,
                                                       LlhttpParser& parser, std::string& held_line,
                                                       const char* data, size_t len) {
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
      return LlhttpParser::Outcome{LlhttpParser::Status::Ok, len};
    }
    LlhttpParser::Outcome out;
    if (held_line.empty()) {
      out = parser.execute(data + pos, *accepted);
    } else {
      held_line.append(data + pos, *accepted);
      out = parser.execute(held_line.data(), held_line.size());
      // llhttp stops short of the held line's end only on an error (fatal, the count does
      // not matter) or a pause at the end of the head, which is the line's last byte.
      const size_t unexecuted = held_line.size() - std::min(out.consumed, held_line.size());
      out.consumed = *accepted - std::min(unexecuted, *accepted);
      held_line.clear();
    }
    pos += out.consumed;
    if (out.status != LlhttpParser::Status::Ok || out.consumed < *accepted) {
      return LlhttpParser::Outcome{out.status, pos};
    }
  }
  return LlhttpParser::Outcome{LlhttpParser::Status::Ok, pos};
}

core::Result<LlhttpParser::Outcome> executeCheckedChunked(ChunkedBodyScanner& scanner,
                                                          LlhttpParser& parser,
                                                          size_t& validated_ahead, const char* data,
                                                          size_t len) {
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
      return LlhttpParser::Outcome{out.status, pos};
    }
    // llhttp stands right before a chunk extension: skip it (checked, never forwarded), so
    // llhttp sees `5\r\n` for `5;a=b;c=d\r\n`.
    auto skipped = scanner.consumeRun(data + pos, len - pos, true);
    if (!skipped) return core::fail(std::move(skipped.error()));
    pos += *skipped;
  }
}

}  // namespace baton::proxy::http1
