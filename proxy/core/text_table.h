// Aligned text columns for operator output (admin `show` tables, batonctl --all's merged
// tables): the first row is the header, two spaces between columns, one row per line.
//
// Pure, any thread; header-only so the plain batonctl client can use it without the proxy.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace baton::core {

inline std::string alignedColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace baton::core
