// Small text helpers shared inside joulebench (carbon, codecarbon, store).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::detail {

std::string_view trim(std::string_view s);
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// Strict: the whole text must be a finite number ("1e-3" and "6.7E-05" accepted).
std::optional<double> parse_double(std::string_view s);
std::optional<long long> parse_int(std::string_view s);
std::size_t edit_distance(std::string_view a, std::string_view b);
// Up to n candidates closest to `query`: those it prefixes first, then by edit distance.
std::vector<std::string> closest_matches(std::string_view query, const std::vector<std::string>& candidates,
                                         std::size_t n);

}  // namespace joulebench::detail
