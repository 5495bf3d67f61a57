// Text that came from files and users (a CodeCarbon project_name, a model
// name), made safe for where it is shown: it cannot move the terminal's
// cursor, add a table column, run a spreadsheet formula or inject HTML.
// docs/report.md "Names from logs".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace joulebench::text {

// Offset of the first byte that is not part of valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF included), or nullopt.
std::optional<std::size_t> invalid_utf8_at(std::string_view s);

// For a terminal or a plain-text table: control characters (C0, DEL, C1) as
// escapes (\n, \t, \r, \xNN), invalid UTF-8 as U+FFFD.
std::string printable(std::string_view s);

// For a CSV cell a spreadsheet may open: a text starting with = + - @ TAB or
// CR gets a leading apostrophe (OWASP's rule), so it is never a formula.
std::string spreadsheet_safe(std::string_view s);

// For a Markdown table cell: printable(), and | < > & escaped, so that no
// column is added and no HTML passes.
std::string markdown_cell(std::string_view s);

}  // namespace joulebench::text
