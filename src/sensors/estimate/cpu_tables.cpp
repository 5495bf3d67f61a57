#include "sensors/estimate/cpu_tables.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "core/table_lines.h"
#include "joulebench/error.h"
#include "sensors/sysfs.h"

namespace joulebench::embedded {
extern const std::string_view cpu_tdp_csv;
extern const std::string_view cpu_power_model_csv;
}  // namespace joulebench::embedded

namespace joulebench::sensors {
namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = line.find(sep, start);
    out.push_back(trim(line.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Calls fn(fields, line_number) for each data row after checking the header.
template <typename Fn>
void for_each_row(std::string_view csv, const std::string& source, std::string_view header, Fn fn) {
  bool seen_header = false;
  int line_number = 0;
  while (!csv.empty()) {
    const auto nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv.remove_prefix(nl == std::string_view::npos ? csv.size() : nl + 1);
    ++line_number;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (!seen_header) {
      if (line != header)
        throw Error(source + ":" + std::to_string(line_number) + ": expected header '" + std::string(header) + "'");
      seen_header = true;
      continue;
    }
    fn(split(line, ','), line_number);
  }
  if (!seen_header) throw Error(source + ": no header line");
}

[[noreturn]] void bad_row(const std::string& source, int line_number, const std::string& what) {
  throw Error(source + ":" + std::to_string(line_number) + ": " + what);
}

int to_int(std::string_view s, const std::string& source, int line_number) {
  const auto v = parse_i64(s);
  if (!v || *v < 0 || *v > 1'000'000) bad_row(source, line_number, fmt::format("'{}' is not a count", s));
  return static_cast<int>(*v);
}

double to_watts(std::string_view s, const std::string& source, int line_number) {
  const auto v = parse_double(s);
  if (!v || *v <= 0 || *v > 10'000) bad_row(source, line_number, fmt::format("'{}' is not a power in W", s));
  return *v;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool has_digit(const std::string& w) {
  return std::any_of(w.begin(), w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::vector<PowerModelRow> parse_power_model_table(std::string_view csv, const std::string& source) {
  std::vector<PowerModelRow> rows;
  for_each_row(csv, source,
               "microarchitecture,vendor,family,model_first,model_last,stepping_first,stepping_last,min_w,max_w",
               [&](const std::vector<std::string_view>& f, int n) {
                 if (f.size() != 9) bad_row(source, n, "expected 9 fields");
                 PowerModelRow r;
                 r.microarchitecture = f[0];
                 r.vendor = f[1];
                 r.family = to_int(f[2], source, n);
                 r.model_first = to_int(f[3], source, n);
                 r.model_last = to_int(f[4], source, n);
                 r.stepping_first = to_int(f[5], source, n);
                 r.stepping_last = to_int(f[6], source, n);
                 r.min_w = to_watts(f[7], source, n);
                 r.max_w = to_watts(f[8], source, n);
                 if (r.microarchitecture.empty() || r.vendor.empty()) bad_row(source, n, "empty name or vendor");
                 if (r.model_last < r.model_first || r.stepping_last < r.stepping_first || r.max_w < r.min_w)
                   bad_row(source, n, "range or min/max inverted");
                 rows.push_back(std::move(r));
               });
  return rows;
}

std::vector<TdpRow> parse_tdp_table(std::string_view csv, const std::string& source) {
  std::vector<TdpRow> rows;
  for_each_row(csv, source, "model,tdp_w", [&](const std::vector<std::string_view>& f, int n) {
    if (f.size() != 2 || f[0].empty()) bad_row(source, n, "expected 'model,tdp_w'");
    rows.push_back({std::string(f[0]), to_watts(f[1], source, n)});
  });
  return rows;
}

const std::vector<PowerModelRow>& builtin_power_model() {
  static const auto table = parse_power_model_table(embedded::cpu_power_model_csv, "data/cpu-power-model.csv");
  return table;
}

const std::vector<TdpRow>& builtin_tdp_table() {
  static const auto table = parse_tdp_table(embedded::cpu_tdp_csv, "data/cpu-tdp.csv");
  return table;
}

std::optional<PowerModelRow> match_microarchitecture(const procfs::CpuInfo& cpu,
                                                     const std::vector<PowerModelRow>& table) {
  if (cpu.family < 0 || cpu.model < 0) return std::nullopt;
  const int stepping = std::max(cpu.stepping, 0);
  for (const auto& r : table) {
    if (r.vendor == cpu.vendor && r.family == cpu.family && cpu.model >= r.model_first &&
        cpu.model <= r.model_last && stepping >= r.stepping_first && stepping <= r.stepping_last)
      return r;
  }
  return std::nullopt;
}

PowerModelRow mean_power_model(const std::vector<PowerModelRow>& table) {
  std::map<std::string, const PowerModelRow*> distinct;
  for (const auto& r : table) distinct.try_emplace(r.microarchitecture, &r);
  PowerModelRow mean;
  mean.microarchitecture = "mean of " + std::to_string(distinct.size()) + " microarchitectures";
  if (distinct.empty()) return mean;
  for (const auto& [name, r] : distinct) {
    mean.min_w += r->min_w;
    mean.max_w += r->max_w;
  }
  mean.min_w /= static_cast<double>(distinct.size());
  mean.max_w /= static_cast<double>(distinct.size());
  return mean;
}

std::string normalize_cpu_name(std::string_view name) {
  std::string s;
  for (char c : name) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string_view mark : {"(r)", "(tm)", "(c)", "\xc2\xae", "\xe2\x84\xa2"}) {
    // Blank the mark in place (same length: no reallocation).
    for (auto pos = s.find(mark); pos != std::string::npos; pos = s.find(mark, pos))
      std::fill_n(s.begin() + static_cast<std::ptrdiff_t>(pos), mark.size(), ' ');
  }
  if (const auto at = s.find('@'); at != std::string::npos) s.erase(at);
  if (const auto with = s.find(" with "); with != std::string::npos) s.erase(with);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '+' && c != '.') c = ' ';
  std::string out;
  for (const auto& w : words(s)) {
    if (w == "cpu" || w == "processor" || w == "-") continue;
    if (w.size() > 5 && w.compare(w.size() - 5, 5, "-core") == 0) continue;  // "8-core", "eight-core"
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::optional<TdpRow> lookup_tdp(std::string_view model_name, const std::vector<TdpRow>& table) {
  const std::string wanted = normalize_cpu_name(model_name);
  const auto wanted_words = words(wanted);
  if (std::none_of(wanted_words.begin(), wanted_words.end(), has_digit)) return std::nullopt;
  const TdpRow* best = nullptr;
  std::size_t best_words = 0;
  for (const auto& row : table) {
    const std::string candidate = normalize_cpu_name(row.model);
    if (candidate == wanted) return row;
    const auto cw = words(candidate);
    if (cw.size() < 2 || cw.size() > wanted_words.size() || !has_digit(cw.back())) continue;
    if (!std::equal(cw.begin(), cw.end(), wanted_words.begin())) continue;
    if (cw.size() > best_words) {
      best = &row;
      best_words = cw.size();
    }
  }
  if (best) return *best;
  return std::nullopt;
}

std::optional<TdpRow> lookup_builtin_tdp(std::string_view model_name) {
  // A row matches only if its normalised words are the CPU's first words,
  // the last of them a model number: so its text holds one of the CPU's
  // words with a digit (normalising only lower-cases and blanks characters).
  std::vector<std::string> numbers;
  for (auto& w : words(normalize_cpu_name(model_name)))
    if (has_digit(w)) numbers.push_back(std::move(w));
  if (numbers.empty()) return std::nullopt;
  const std::string candidates =
      detail::table_rows_containing(embedded::cpu_tdp_csv, "model,tdp_w", numbers, /*ignore_case=*/true);
  return lookup_tdp(model_name, parse_tdp_table(candidates, "data/cpu-tdp.csv"));
}

}  // namespace joulebench::sensors
