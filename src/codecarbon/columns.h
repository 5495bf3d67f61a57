// Internal helpers shared by the CodeCarbon writer and importer.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

namespace joulebench::detail {

// "2.x (2.3, without experiment_id), task file (task_name), no pue column, 31 columns"
std::string describe_column_set(const std::vector<std::string>& header);

}  // namespace joulebench::detail
