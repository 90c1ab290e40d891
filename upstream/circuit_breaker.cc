#include "upstream/circuit_breaker.h"

namespace baton::upstream {

std::string_view loadLimitName(LoadKind kind) {
  switch (kind) {
    case LoadKind::Connections:
      return "max_connections";
    case LoadKind::Pending:
      return "max_pending";
    case LoadKind::Requests:
      return "max_requests";
  }
  return "max_requests";
}

}  // namespace baton::upstream
