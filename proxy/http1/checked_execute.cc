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
  size_t checked = validated_ahead;
  if (checked < len && !scanner.done()) {
    auto accepted = scanner.consume(data + checked, len - checked);
    if (!accepted) return core::fail(std::move(accepted.error()));
    checked += *accepted;
  }
  const auto out = parser.execute(data, std::min(checked, len));
  validated_ahead = checked - out.consumed;
  return out;
}

}  // namespace baton::proxy::http1
