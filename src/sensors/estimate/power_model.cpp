// The calibrated CPU and memory power models (include/joulebench/power_model.h).
// Calibration: data/cpu-load-profiles (RAPL package power of four CPUs at 10 to
// 100 % load); the fit and its error per CPU are in docs/measurement.md.
#include "joulebench/power_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sensors/estimate/cpu_tables.h"

namespace joulebench {
namespace {

// Fitted to the profiles (mean absolute relative error, points at >= 10 % load):
// AMD (EPYC 8024P, Threadripper 1950X): 0.67 x TDP x ln(1 + 12 L) / ln 13, 15 %;
// Intel (Xeon E3-1240 v2, E5-2620 v3): 0.69 x TDP x L^1.25, 22 %;
// one curve for all four (the rule for other vendors): 0.69 x TDP x L, 31 %.
constexpr double kAmdScale = 0.67, kAmdSteepness = 12.0;
constexpr double kIntelScale = 0.69, kIntelExponent = 1.25;
constexpr double kOtherScale = 0.69;
// Bands: x/÷ 2 held 100 % of the profile points with the TDP curve, and 87.5 %
// when each CPU was left out of its own fit. The per-thread coefficients were
// further off (a band of 2.5 holds 97.5 % of the points), so they get 2.5.
constexpr double kTdpBand = 2.0;
constexpr double kCoefficientBand = 2.5;

enum class Vendor { amd, intel, other };

Vendor vendor_of(const CpuIdentity& cpu) {
  if (cpu.vendor == "AuthenticAMD") return Vendor::amd;
  if (cpu.vendor == "GenuineIntel") return Vendor::intel;
  if (!cpu.vendor.empty()) return Vendor::other;
  const std::string name = sensors::normalize_cpu_name(cpu.model_name);
  if (name.rfind("amd", 0) == 0) return Vendor::amd;
  if (name.rfind("intel", 0) == 0) return Vendor::intel;
  return Vendor::other;
}

std::string identity_text(const CpuIdentity& cpu) {
  std::string who = cpu.model_name.empty() ? std::string("CPU") : "'" + cpu.model_name + "'";
  if (!cpu.vendor.empty() && cpu.family >= 0)
    who += fmt::format(" ({} family {} model {} stepping {})", cpu.vendor, cpu.family, cpu.model, cpu.stepping);
  return who;
}

}  // namespace

CpuIdentity read_cpu_identity(const std::string& procfs_root) {
  const procfs::CpuInfo cpu = procfs::read_cpuinfo(procfs_root);
  CpuIdentity identity;
  identity.model_name = cpu.model_name;
  identity.vendor = cpu.vendor;
  identity.family = cpu.family;
  identity.model = cpu.model;
  identity.stepping = cpu.stepping;
  identity.threads = std::max(1, cpu.logical_cpus);
  identity.sockets = std::max(1, cpu.packages);
  return identity;
}

CpuPowerModel CpuPowerModel::for_cpu(const CpuIdentity& cpu) {
  CpuPowerModel m;
  const Vendor vendor = vendor_of(cpu);
  const int threads = std::max(1, cpu.threads);
  const int sockets = std::max(1, cpu.sockets);
  m.shape_ = vendor == Vendor::amd ? Shape::saturating : vendor == Vendor::intel ? Shape::near_linear : Shape::linear;
  const char* curve_text = vendor == Vendor::amd     ? "ln(1 + 12 L) / ln 13 (AMD)"
                           : vendor == Vendor::intel ? "L^1.25 (Intel)"
                                                     : "L (vendor unknown)";
  if (auto tdp = sensors::lookup_builtin_tdp(cpu.model_name)) {
    const double scale = vendor == Vendor::amd ? kAmdScale : vendor == Vendor::intel ? kIntelScale : kOtherScale;
    m.name_ = "tdp-curve";
    m.source_ = fmt::format("TDP table: '{}' {:g} W", tdp->model, tdp->tdp_w);
    m.span_w_ = scale * tdp->tdp_w * sockets;
    m.band_factor_ = kTdpBand;
    m.description_ = fmt::format(
        "{} matched '{}' (TDP {:g} W) in the TDP table; power = {} socket(s) x {:g} x {:g} W x {} at load L, "
        "band x/÷ {:g} (calibrated on public RAPL load profiles). In a VM the CPU is shared: this counts the "
        "whole package",
        identity_text(cpu), tdp->model, tdp->tdp_w, sockets, scale, tdp->tdp_w, curve_text, kTdpBand);
    return m;
  }
  std::optional<sensors::PowerModelRow> row;
  if (cpu.family >= 0) {
    procfs::CpuInfo info;
    info.vendor = cpu.vendor;
    info.family = cpu.family;
    info.model = cpu.model;
    info.stepping = cpu.stepping;
    row = sensors::match_microarchitecture(info, sensors::builtin_power_model());
  }
  const bool known = row.has_value();
  if (!row) row = sensors::mean_power_model(sensors::builtin_power_model());
  m.name_ = known ? "microarchitecture-curve" : "mean-microarchitecture-curve";
  m.source_ = known ? "microarchitecture: " + row->microarchitecture : row->microarchitecture;
  m.idle_w_ = threads * row->min_w;
  m.span_w_ = threads * (row->max_w - row->min_w);
  m.band_factor_ = kCoefficientBand;
  m.description_ = fmt::format(
      "{} {}; power = {} threads x ({:.2f} W + {:.2f} W x {}) at load L (Cloud Carbon Footprint's per-thread "
      "coefficients{}), band x/÷ {:g}",
      identity_text(cpu),
      known ? "is " + row->microarchitecture
            : "is in neither the TDP nor the microarchitecture table: the " + row->microarchitecture +
                  " (fallback)",
      threads, row->min_w, row->max_w - row->min_w, curve_text, known ? "" : ", their mean", kCoefficientBand);
  return m;
}

double CpuPowerModel::power_w(double load) const {
  const double l = std::clamp(load, 0.0, 1.0);
  double shape = l;
  switch (shape_) {
    case Shape::saturating: shape = std::log1p(kAmdSteepness * l) / std::log1p(kAmdSteepness); break;
    case Shape::near_linear: shape = std::pow(l, kIntelExponent); break;
    case Shape::linear: break;
  }
  return idle_w_ + span_w_ * shape;
}

PowerEstimate CpuPowerModel::estimate(double load) const {
  PowerEstimate e;
  e.power_w = power_w(load);
  e.low_w = e.power_w / band_factor_;
  e.high_w = e.power_w * band_factor_;
  e.model = name_;
  e.source = source_;
  return e;
}

PowerEstimate estimate_ram_power(double gb_in_use) {
  PowerEstimate e;
  e.power_w = std::max(0.0, gb_in_use) * kRamWattsPerGb;
  e.low_w = e.power_w / kRamBandFactor;
  e.high_w = e.power_w * kRamBandFactor;
  e.model = "ram-per-gb";
  e.source = fmt::format("{:g} W per GB in use (Cloud Carbon Footprint)", kRamWattsPerGb);
  return e;
}

}  // namespace joulebench
