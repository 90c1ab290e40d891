#include "proxy/http1/checked_execute.h"

#include <algorithm>

namespace baton::proxy::http1 {

core::Result<LlhttpParser::Outcome> executeCheckedHead(HeaderBlockScanner& scanner,
                                                       LlhttpParser& parser, const char* data,
                                                       size_t len) {
  auto accepted = scanner.consume(data, len);
  if (!accepted) return core::fail(std::move(accepted.error()));
  return parser.execute(data, *accepted);
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
