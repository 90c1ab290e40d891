// The dashboard page (proxy/admin/dashboard.html), compiled into the binary by
// cmake/embed_text.cmake. Served by the admin HTTP listener.
#pragma once

#include <string_view>

namespace baton::proxy::admin {

std::string_view dashboardPage();

}  // namespace baton::proxy::admin
