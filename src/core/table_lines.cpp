#include "core/table_lines.h"

#include <algorithm>
#include <cctype>

namespace joulebench::detail {

std::string table_rows_containing(std::string_view text, std::string_view header,
                                  const std::vector<std::string>& needles, bool ignore_case) {
  std::string lowered;
  if (ignore_case) {
    lowered.assign(text);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string_view haystack = ignore_case ? std::string_view(lowered) : text;
  std::vector<std::size_t> line_starts;
  for (const auto& needle : needles) {
    if (needle.empty()) continue;
    for (auto pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) {
      const auto nl = haystack.rfind('\n', pos);
      line_starts.push_back(nl == std::string_view::npos ? 0 : nl + 1);
    }
  }
  std::sort(line_starts.begin(), line_starts.end());  // table order: look-ups where the first match wins stay right
  line_starts.erase(std::unique(line_starts.begin(), line_starts.end()), line_starts.end());
  std::string rows(header);
  rows += '\n';
  for (const auto start : line_starts) {
    const auto end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() != '#' && line != header) (rows += line) += '\n';
  }
  return rows;
}

}  // namespace joulebench::detail
