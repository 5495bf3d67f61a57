// Look-ups in the embedded data tables that run at every start of a command
// (the CPU's TDP, the time zone's country) parse only the rows that can
// match: a row can only match a key its line contains.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace joulebench::detail {

// `header` and a newline, then every line of the CSV `text` that contains one
// of `needles` (compared in lower case when `ignore_case`; give the needles
// in lower case then), once each and in table order; comment lines ('#') and
// the header itself are left out. No needle (or only empty ones): the header.
std::string table_rows_containing(std::string_view text, std::string_view header,
                                  const std::vector<std::string>& needles, bool ignore_case = false);

}  // namespace joulebench::detail
