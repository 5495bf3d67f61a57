// Checks of option values that CLI11 runs before any command starts.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "joulebench/limits.h"

namespace joulebench::cli {

// The value must be a number within `limits` (include/joulebench/limits.h):
// "--n: 0 is below the smallest inferences per repetition, 1". CLI11's own
// range checks print the whole range of double and let "" through as 0.
CLI::Validator within(const Limits& limits);

}  // namespace joulebench::cli
