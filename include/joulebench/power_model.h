// Power models for machines where no counter can be read (VMs, containers,
// laptops without RAPL access): the CPU from its TDP or its microarchitecture
// and its load, memory from the gigabytes in use. Every figure comes with a
// band (low/high) that held the real power in public load profiles; the
// calibration and its error are in docs/measurement.md, "CPU power model".
#pragma once

#include <string>

namespace joulebench {

// A modelled power and its band: the real power lay within [low_w, high_w]
// in most points of the profiles the model was calibrated on.
struct PowerEstimate {
  double power_w = 0.0;
  double low_w = 0.0;
  double high_w = 0.0;
  std::string model;   // "tdp-curve", "microarchitecture-curve", "mean-microarchitecture-curve", "ram-per-gb"
  std::string source;  // what was matched, in words
};

// What is known of a machine's CPU. From /proc/cpuinfo, or given by a user
// (`joulebench estimate --cpu NAME`): then only the name and counts.
struct CpuIdentity {
  std::string model_name;  // "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"
  std::string vendor;      // "GenuineIntel", "AuthenticAMD"; "" = taken from the name
  int family = -1, model = -1, stepping = -1;  // -1: unknown
  int threads = 1;  // hardware threads the load is counted over
  int sockets = 1;  // packages
};

// This machine's CPU from <procfs_root>/cpuinfo. Throws Error when unreadable.
CpuIdentity read_cpu_identity(const std::string& procfs_root = "/proc");

// Power of a CPU at a load in [0, 1] (busy CPU time / (threads x elapsed)).
//  - TDP known (the TDP table matches the name): sockets x TDP x curve(load).
//  - else the microarchitecture (vendor, family, model): threads x (idle_w +
//    (busy_w - idle_w) x shape(load)), Cloud Carbon Footprint's per-thread
//    coefficients;
//  - else the mean of those coefficients, and fallback() says so.
// The curve rises steeply at low load and saturates below TDP on AMD parts;
// it is close to linear on Intel ones (fitted per vendor, see the docs).
class CpuPowerModel {
 public:
  static CpuPowerModel for_cpu(const CpuIdentity& cpu);

  double power_w(double load) const;
  PowerEstimate estimate(double load) const;
  // The band is [power / band_factor, power x band_factor].
  double band_factor() const { return band_factor_; }
  // "tdp-curve", "microarchitecture-curve" or "mean-microarchitecture-curve".
  const std::string& name() const { return name_; }
  // What was matched and the formula with its constants, in one sentence.
  const std::string& description() const { return description_; }
  // True when the CPU matched neither table (the mean coefficients are used).
  bool fallback() const { return name_ == "mean-microarchitecture-curve"; }

 private:
  enum class Shape { saturating, near_linear, linear };
  std::string name_, source_, description_;
  Shape shape_ = Shape::linear;
  double idle_w_ = 0.0;  // power at load 0
  double span_w_ = 0.0;  // power at load 1 minus idle_w_
  double band_factor_ = 1.0;
};

// Memory: watts per GB (GiB) in use, Cloud Carbon Footprint's coefficient.
inline constexpr double kRamWattsPerGb = 0.392;
// Band of the memory model. No public load profile of memory power was at
// hand to calibrate it: x/÷ 2 is a stated assumption, wide enough for the
// published per-GB rules (CodeCarbon's 3 W per 8 GB = 0.375, CCF's 0.392) and
// for DIMMs drawing half or twice that, by generation and activity.
inline constexpr double kRamBandFactor = 2.0;
PowerEstimate estimate_ram_power(double gb_in_use);

}  // namespace joulebench
