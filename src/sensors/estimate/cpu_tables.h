// Internal: the two CPU tables of the estimation backend (data/cpu-power-model.csv
// and data/cpu-tdp.csv, embedded in the library) and their lookups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/procfs.h"

namespace joulebench::sensors {

struct PowerModelRow {
  std::string microarchitecture;
  std::string vendor;
  int family = 0;
  int model_first = 0, model_last = 0;
  int stepping_first = 0, stepping_last = 0;
  double min_w = 0, max_w = 0;  // per hardware thread
};

struct TdpRow {
  std::string model;
  double tdp_w = 0;
};

// Parsers for the project's formats ('#' comments, a header line, then rows).
// Throw Error naming `source` and the line on malformed input.
std::vector<PowerModelRow> parse_power_model_table(std::string_view csv, const std::string& source);
std::vector<TdpRow> parse_tdp_table(std::string_view csv, const std::string& source);

// The embedded tables, parsed once.
const std::vector<PowerModelRow>& builtin_power_model();
const std::vector<TdpRow>& builtin_tdp_table();

// First row matching vendor, family, model and stepping; nullopt when none.
std::optional<PowerModelRow> match_microarchitecture(const procfs::CpuInfo& cpu,
                                                     const std::vector<PowerModelRow>& table);
// Mean min/max over the distinct microarchitectures (Cloud Carbon Footprint's
// figure for an unknown one).
PowerModelRow mean_power_model(const std::vector<PowerModelRow>& table);

// Lower case, trademarks and clock ("@ 2.20GHz") removed, "CPU", "Processor",
// "N-Core", "with Radeon Graphics" dropped, punctuation to spaces:
// "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz" -> "intel xeon gold 6148".
std::string normalize_cpu_name(std::string_view name);

// TDP of a CPU by its model name: an exact match of the normalised names, else
// the longest table name whose words start the CPU's words and end with its
// model number ("Intel Xeon E5-2680" for "Intel(R) Xeon(R) CPU E5-2680 0 @
// 2.70GHz"). Names without a model number ("AMD EPYC") match nothing.
std::optional<TdpRow> lookup_tdp(std::string_view model_name, const std::vector<TdpRow>& table);
// The same over the embedded table, parsing only the rows that can match (a
// matching row contains one of the name's model-number words): the whole
// table costs ~1 ms to parse, at every start of `measure`.
std::optional<TdpRow> lookup_builtin_tdp(std::string_view model_name);

}  // namespace joulebench::sensors
