// The estimation backend: its tables (checked against the reference figures
// they were built from), the CPU lookups, and the sensors on fake /proc trees.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/procfs.h"
#include "../support/fake_tree.h"
#include "joulebench/error.h"
#include "sensors/backends.h"
#include "sensors/estimate/cpu_tables.h"
#include "../support/expect_throw.h"

namespace joulebench {
namespace {

using sensors::builtin_power_model;
using sensors::builtin_tdp_table;
using sensors::lookup_tdp;
using sensors::normalize_cpu_name;
using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The embedded coefficients are the ones in STUDY.md's CCF table, all of them.
TEST(EstimateTables, PowerModelMatchesTheReference) {
  const std::string study = slurp(std::string(JOULEBENCH_SHARED_REFERENCE_DIR) + "/STUDY.md");
  if (study.empty()) GTEST_SKIP() << "shared/reference not present";
  std::map<std::string, std::pair<double, double>> reference;
  const std::regex row(R"(\|\s*((?:Intel|AMD)[^|]*?)\s*\|\s*([0-9.]+)\s*\|\s*([0-9.]+)\s*\|)");
  for (auto it = std::sregex_iterator(study.begin(), study.end(), row); it != std::sregex_iterator(); ++it)
    reference[(*it)[1]] = {std::stod((*it)[2]), std::stod((*it)[3])};
  ASSERT_GE(reference.size(), 7u);
  std::map<std::string, int> seen;
  for (const auto& r : builtin_power_model()) {
    ASSERT_TRUE(reference.count(r.microarchitecture)) << r.microarchitecture;
    EXPECT_DOUBLE_EQ(r.min_w, reference[r.microarchitecture].first) << r.microarchitecture;
    EXPECT_DOUBLE_EQ(r.max_w, reference[r.microarchitecture].second) << r.microarchitecture;
    ++seen[r.microarchitecture];
  }
  EXPECT_EQ(seen.size(), reference.size()) << "a reference microarchitecture has no matching rule";
}

// Every TDP row comes from the reference with the same figure.
TEST(EstimateTables, TdpTableRowsComeFromTheReference) {
  std::ifstream f(std::string(JOULEBENCH_SHARED_REFERENCE_DIR) + "/cpu-tdp.csv");
  if (!f) GTEST_SKIP() << "shared/reference not present";
  std::map<std::string, double> reference;
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    const auto comma = line.rfind(',');
    if (comma == std::string::npos || line.front() == '"') continue;
    try {
      const double w = std::stod(line.substr(comma + 1));
      // The table collapses runs of spaces (and no-break spaces) in names.
      std::string raw = line.substr(0, comma);
      for (auto p = raw.find("\xc2\xa0"); p != std::string::npos; p = raw.find("\xc2\xa0", p)) {
        raw[p] = ' ';
        raw[p + 1] = ' ';
      }
      std::istringstream words(raw);
      std::string name, word;
      while (words >> word) {
        if (!name.empty()) name += ' ';
        name += word;
      }
      auto& slot = reference[name];
      slot = std::max(slot, w);
    } catch (...) {
    }
  }
  const auto& table = builtin_tdp_table();
  EXPECT_GT(table.size(), 4000u);
  for (const auto& row : table) {
    auto it = reference.find(row.model);
    ASSERT_NE(it, reference.end()) << row.model;
    EXPECT_DOUBLE_EQ(row.tdp_w, it->second) << row.model;
  }
}

TEST(EstimateTables, MalformedTablesNameTheLine) {
  EXPECT_THROW(sensors::parse_tdp_table("model,tdp_w\nIntel X,abc\n", "t.csv"), Error);
  EXPECT_THROW(sensors::parse_tdp_table("model,tdp_w\nIntel X,-4\n", "t.csv"), Error);
  EXPECT_THROW(sensors::parse_tdp_table("name,watts\n", "t.csv"), Error);
  EXPECT_THROW(sensors::parse_tdp_table("# only a comment\n", "t.csv"), Error);
  EXPECT_THROW_MSG(sensors::parse_power_model_table( "# c\nmicroarchitecture,vendor,family,model_first,model_last,stepping_first,stepping_last,min_w,max_w\n" "X,GenuineIntel,6,85,80,0,1,0.5,1\n", "p.csv"), Error, "p.csv:3");
}

procfs::CpuInfo cpu(const char* vendor, int family, int model, int stepping) {
  procfs::CpuInfo c;
  c.vendor = vendor;
  c.family = family;
  c.model = model;
  c.stepping = stepping;
  c.logical_cpus = 2;
  return c;
}

TEST(EstimateTables, MicroarchitectureFromFamilyModelStepping) {
  const auto& t = builtin_power_model();
  auto name = [&](procfs::CpuInfo c) {
    auto r = sensors::match_microarchitecture(c, t);
    return r ? r->microarchitecture : std::string("-");
  };
  EXPECT_EQ(name(cpu("GenuineIntel", 6, 85, 7)), "Intel Cascade Lake");
  EXPECT_EQ(name(cpu("GenuineIntel", 6, 85, 4)), "Intel Skylake");
  EXPECT_EQ(name(cpu("GenuineIntel", 6, 63, 2)), "Intel Haswell");
  EXPECT_EQ(name(cpu("GenuineIntel", 6, 79, 1)), "Intel Broadwell");
  EXPECT_EQ(name(cpu("AuthenticAMD", 23, 1, 2)), "AMD EPYC 1st gen (Naples)");
  EXPECT_EQ(name(cpu("AuthenticAMD", 23, 49, 0)), "AMD EPYC 2nd gen (Rome)");
  EXPECT_EQ(name(cpu("AuthenticAMD", 25, 1, 1)), "AMD EPYC 3rd gen (Milan)");
  EXPECT_EQ(name(cpu("AuthenticAMD", 25, 17, 1)), "-");  // Genoa: not in the CCF table
  EXPECT_EQ(name(cpu("GenuineIntel", 25, 1, 1)), "-");   // vendor matters
  EXPECT_EQ(name(cpu("", -1, -1, -1)), "-");
  const auto mean = sensors::mean_power_model(t);
  EXPECT_NEAR(mean.min_w, (1.90 + 0.71 + 0.64 + 0.64 + 0.82 + 0.47 + 0.45) / 7, 1e-9);
  EXPECT_NEAR(mean.max_w, (5.99 + 3.54 + 4.05 + 3.80 + 2.55 + 1.64 + 1.87) / 7, 1e-9);
}

TEST(EstimateTables, CpuNamesNormalise) {
  EXPECT_EQ(normalize_cpu_name("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"), "intel xeon gold 6148");
  EXPECT_EQ(normalize_cpu_name("AMD Ryzen 7 5800X 8-Core Processor"), "amd ryzen 7 5800x");
  EXPECT_EQ(normalize_cpu_name("AMD Ryzen 7 PRO 4750U with Radeon Graphics"), "amd ryzen 7 pro 4750u");
  EXPECT_EQ(normalize_cpu_name("Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"), "intel core i7-8650u");
  EXPECT_EQ(normalize_cpu_name("  AMD   EPYC  "), "amd epyc");
}

TEST(EstimateTables, TdpLookupByModelName) {
  const auto& t = builtin_tdp_table();
  auto tdp = [&](const char* name) {
    auto r = lookup_tdp(name, t);
    return r ? r->tdp_w : -1.0;
  };
  // Figures as listed in shared/reference/cpu-tdp.csv.
  EXPECT_EQ(tdp("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"), 150.0);
  EXPECT_EQ(tdp("Intel(R) Xeon(R) Gold 6148F CPU @ 2.40GHz"), 160.0);
  EXPECT_EQ(tdp("AMD EPYC 7763 64-Core Processor"), 280.0);
  EXPECT_EQ(tdp("Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"), 15.0);
  EXPECT_EQ(tdp("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz"), 145.0);
  EXPECT_EQ(tdp("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"), 210.0);
  // Prefix match: old Xeons print a stepping suffix after the model number.
  ASSERT_TRUE(lookup_tdp("Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz", t));
  EXPECT_EQ(lookup_tdp("Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz", t)->model, "Intel Xeon E5-2680");
  // No model number, nothing to go on: no guess.
  EXPECT_EQ(tdp("AMD EPYC"), -1.0);
  EXPECT_EQ(tdp("QEMU Virtual CPU version 2.5+"), -1.0);
  EXPECT_EQ(tdp("Intel Xeon Processor (Cascadelake)"), -1.0);
  EXPECT_EQ(tdp(""), -1.0);
}

// The start-up path reads only the rows that can match: it must agree with the
// full-table look-up, for every model in the table (written as cpuinfo would,
// with marks and a clock) and for names that match by prefix or not at all.
TEST(EstimateTables, BuiltinTdpLookupAgreesWithFullTable) {
  const auto& t = builtin_tdp_table();
  std::vector<std::string> names = {"Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz", "AMD EPYC 7763 64-Core Processor",
                                    "AMD EPYC", "QEMU Virtual CPU version 2.5+", "", "Intel(R) Core(TM) i9-99999X"};
  for (std::size_t i = 0; i < t.size(); i += 23) names.push_back(t[i].model + "(TM) CPU @ 3.00GHz");
  int found = 0;
  for (const auto& name : names) {
    const auto full = lookup_tdp(name, t);
    const auto fast = sensors::lookup_builtin_tdp(name);
    ASSERT_EQ(full.has_value(), fast.has_value()) << name;
    if (!full) continue;
    ++found;
    EXPECT_EQ(full->model, fast->model) << name;
    EXPECT_EQ(full->tdp_w, fast->tdp_w) << name;
  }
  EXPECT_GT(found, static_cast<int>(t.size() / 23) / 2);
}

// ---- sensors on fake /proc ----

void write_cpuinfo(const FakeTree& t, int threads, const std::string& vendor, int family, int model, int stepping,
                   const std::string& name) {
  std::string text;
  for (int i = 0; i < threads; ++i)
    text += "processor\t: " + std::to_string(i) + "\nvendor_id\t: " + vendor + "\ncpu family\t: " +
            std::to_string(family) + "\nmodel\t\t: " + std::to_string(model) + "\nmodel name\t: " + name +
            "\nstepping\t: " + std::to_string(stepping) + "\nphysical id\t: 0\nsiblings\t: " +
            std::to_string(threads) + "\n\n";
  t.write("proc/cpuinfo", text);
}

void write_stat(const FakeTree& t, long user, long system, long idle) {
  t.write("proc/stat", "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
                           std::to_string(idle) + " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
}

SensorList discover(const FakeTree& t) {
  SensorList out;
  sensors::discover_estimate(t.options(), out);
  return out;
}

const double kTick = procfs::clock_ticks_per_second();

TEST(Estimate, CpuFromMicroarchitectureCoefficients) {
  FakeTree t;
  // A name without a model number (as cloud VMs often show): the microarchitecture decides.
  write_cpuinfo(t, 4, "GenuineIntel", 6, 85, 7, "Intel(R) Xeon(R) CPU @ 2.50GHz");
  write_stat(t, 1000, 500, 100000);
  t.write("proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n");
  auto list = discover(t);
  Sensor* s = find_sensor_mut(list, "estimate:cpu");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->status().available) << s->status().reason;
  EXPECT_EQ(s->info().component, Component::cpu);
  EXPECT_EQ(s->info().kind, SensorKind::energy_counter);
  EXPECT_EQ(s->info().provenance.to_string(), "estimated:cpu-power-model");
  EXPECT_NE(s->info().description.find("Cascade Lake"), std::string::npos) << s->info().description;
  EXPECT_NE(s->info().description.find("0.64"), std::string::npos) << s->info().description;
  EXPECT_EQ(s->info().band_factor, 2.5);
  EXPECT_FALSE(s->info().exact_at_edges) << "the load curve is not linear: the sampler must read between edges";

  const auto a = s->read();
  ASSERT_TRUE(a.ok) << a.error;
  write_stat(t, 1000 + 300, 500 + 100, 100000);  // 400 busy ticks across the machine
  const auto b = s->read();
  ASSERT_TRUE(b.ok) << b.error;
  const double elapsed = b.sample.time_s - a.sample.time_s;
  // Intel: 4 threads x (0.64 W + 3.16 W x L^1.25), L = busy time / (4 x elapsed), capped at 1.
  const double load = std::min(1.0, (400 / kTick) / (4 * elapsed));
  const double expected = 4 * (0.64 + (3.80 - 0.64) * std::pow(load, 1.25)) * elapsed;
  EXPECT_NEAR(b.sample.value - a.sample.value, expected, 1e-9);

  // CPU time going backwards: an error, no negative energy.
  write_stat(t, 10, 10, 100000);
  const auto c = s->read();
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.error.find("backwards"), std::string::npos) << c.error;
}

TEST(Estimate, CpuFromTdpFirst) {
  FakeTree t;
  // A family/model in no table row, with a model name the TDP table knows.
  write_cpuinfo(t, 8, "GenuineIntel", 6, 250, 1, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz");
  write_stat(t, 0, 0, 0);
  t.write("proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 1024 kB\n");
  auto list = discover(t);
  Sensor* s = find_sensor_mut(list, "estimate:cpu");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->status().available);
  EXPECT_EQ(s->info().provenance.to_string(), "estimated:cpu-tdp");
  EXPECT_NE(s->info().description.find("Intel Xeon Gold 6148"), std::string::npos) << s->info().description;
  EXPECT_EQ(s->info().band_factor, 2.0);
  const auto a = s->read();
  write_stat(t, 200, 0, 0);
  const auto b = s->read();
  ASSERT_TRUE(a.ok && b.ok);
  // 0.69 x 150 W x L^1.25 (Intel's calibrated curve) over the interval.
  const double elapsed = b.sample.time_s - a.sample.time_s;
  const double load = std::min(1.0, (200 / kTick) / (8 * elapsed));
  EXPECT_NEAR(b.sample.value - a.sample.value, 0.69 * 150 * std::pow(load, 1.25) * elapsed, 1e-9);
}

TEST(Estimate, CpuFallsBackToMeanCoefficientsOnAGenericVm) {
  FakeTree t;
  write_cpuinfo(t, 2, "AuthenticAMD", 25, 17, 1, "AMD EPYC");  // this project's own VM
  write_stat(t, 0, 0, 0);
  t.write("proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 1024 kB\n");
  auto list = discover(t);
  const Sensor* s = find_sensor(list, "estimate:cpu");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->status().available);
  EXPECT_EQ(s->info().provenance.to_string(), "estimated:cpu-power-model");
  EXPECT_NE(s->info().description.find("mean of 7 microarchitectures"), std::string::npos) << s->info().description;
  EXPECT_NE(s->info().description.find("fallback"), std::string::npos) << s->info().description;
  EXPECT_EQ(s->info().band_factor, 2.5);
}

TEST(Estimate, RamFromMemoryInUse) {
  FakeTree t;
  write_cpuinfo(t, 1, "GenuineIntel", 6, 85, 7, "x");
  write_stat(t, 0, 0, 0);
  t.write("proc/meminfo", "MemTotal: 16777216 kB\nMemFree: 1 kB\nMemAvailable: 8388608 kB\n");  // 8 GiB used
  auto list = discover(t);
  Sensor* s = find_sensor_mut(list, "estimate:ram");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->info().component, Component::dram);
  EXPECT_EQ(s->info().kind, SensorKind::power);
  EXPECT_EQ(s->info().provenance.to_string(), "estimated:ram-model");
  auto r = s->read();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NEAR(r.sample.value, 8 * 0.392, 1e-9);
  EXPECT_EQ(s->info().band_factor, 2.0);
  t.write("proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 16777216 kB\n");
  EXPECT_NEAR(s->read().sample.value, 0.0, 1e-12);  // a real zero: nothing in use
  t.write("proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: lots\n");
  r = s->read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("meminfo"), std::string::npos) << r.error;
}

TEST(Estimate, UnreadableProcIsUnavailableWithTheFileNamed) {
  FakeTree t;
  auto list = discover(t);
  ASSERT_EQ(list.size(), 2u);
  for (const auto& s : list) {
    EXPECT_FALSE(s->status().available) << s->info().name;
    EXPECT_NE(s->status().reason.find(t.path("proc")), std::string::npos) << s->status().reason;
    EXPECT_FALSE(s->read().ok);
  }
  write_cpuinfo(t, 2, "GenuineIntel", 6, 85, 7, "x");
  t.write("proc/stat", "cpu  garbage\n");
  list = discover(t);
  EXPECT_FALSE(find_sensor(list, "estimate:cpu")->status().available);
  EXPECT_NE(find_sensor(list, "estimate:cpu")->status().reason.find("stat"), std::string::npos);
}

// This machine (whatever it is) ends up with estimates available.
TEST(Estimate, RealProcGivesAvailableEstimates) {
  SensorList list;
  sensors::discover_estimate(SensorOptions{}, list);
  for (const char* name : {"estimate:cpu", "estimate:ram"}) {
    Sensor* s = find_sensor_mut(list, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_TRUE(s->status().available) << name << ": " << s->status().reason;
    const auto r = s->read();
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_GE(r.sample.value, 0.0);
  }
}

}  // namespace
}  // namespace joulebench
