// Models for machines where nothing can be read (VMs, containers), from
// include/joulebench/power_model.h:
//  - cpu: the calibrated CPU power model at the load measured in /proc/stat
//    (busy CPU time / threads x elapsed) over each read interval, integrated:
//    an energy counter, cumulative joules.
//  - dram: 0.392 W per GB of memory in use (CCF), a power reading.
// Both carry the model's band (SensorInfo::band_factor). Always discovered;
// the meter uses them only where no measured or sampled sensor covers the
// component. Every figure is flagged estimated:*.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "core/procfs.h"
#include "joulebench/error.h"
#include "joulebench/power_model.h"
#include "sensors/backends.h"
#include "sensors/counter.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "estimate";
// Memory in use changes over seconds, and the model is a rough W per GB:
// one read a second is plenty (CodeCarbon reads it every 15 s).
constexpr double kRamReadIntervalS = 1.0;
constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;  // GB as the OS and cloud sizes count it (GiB)

// The load curve is not linear, so the read interval matters: the sampler
// reads this model once a second between window edges (CPU load over a
// second is the resolution the calibration data has: 30 s steps).
constexpr double kCpuReadIntervalS = 1.0;

class CpuEstimateSensor final : public Sensor {
 public:
  CpuEstimateSensor(SensorInfo info, CpuPowerModel model, int threads, const std::string& procfs_root)
      : info_(std::move(info)), model_(std::move(model)), threads_(std::max(1, threads)),
        stat_(procfs_root + "/stat") {}

  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }

  SensorReading read() override {
    const double now = steady_now_s();
    double busy_s = 0;
    try {
      busy_s = procfs::parse_stat(stat_.read_or_throw(), stat_.path()).total.busy_s();
    } catch (const Error& e) {
      return SensorReading::failure(info_.name + ": " + e.what());
    }
    if (!have_last_) {
      have_last_ = true;
    } else {
      const double elapsed_s = std::max(0.0, now - last_time_s_);
      if (busy_s < last_busy_s_) {
        last_busy_s_ = busy_s;
        last_time_s_ = now;
        return SensorReading::failure(info_.name + ": CPU time in " + stat_.path() +
                                      " went backwards; interval not counted");
      }
      if (elapsed_s > 0.0) {
        const double load = (busy_s - last_busy_s_) / (threads_ * elapsed_s);
        energy_j_ += model_.power_w(load) * elapsed_s;
      }
    }
    last_busy_s_ = busy_s;
    last_time_s_ = now;
    return SensorReading::success({now, energy_j_});
  }

 private:
  SensorInfo info_;
  CpuPowerModel model_;
  int threads_;
  procfs::ProcFile stat_;
  bool have_last_ = false;
  double last_busy_s_ = 0, last_time_s_ = 0, energy_j_ = 0;
};

SensorInfo base_info(const std::string& what, Component component) {
  SensorInfo info;
  info.name = std::string(kBackend) + ":" + what;
  info.backend = kBackend;
  info.component = component;
  info.device = "machine";
  return info;
}

void discover_cpu(const SensorOptions& options, SensorList& out) {
  SensorInfo info = base_info("cpu", Component::cpu);
  info.kind = SensorKind::energy_counter;
  info.min_useful_interval_s = kCpuReadIntervalS;
  info.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
  info.description = "estimated CPU energy from CPU time used";
  CpuIdentity identity;
  try {
    identity = read_cpu_identity(options.paths.procfs_root);
    procfs::read_stat(options.paths.procfs_root);
  } catch (const Error& e) {
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), e.what()));
    return;
  }
  CpuPowerModel model = CpuPowerModel::for_cpu(identity);
  info.provenance = {ProvenanceKind::estimated, model.name() == "tdp-curve" ? "cpu-tdp" : "cpu-power-model"};
  info.description = "estimated: " + model.description() + "; L = CPU time used / (threads x time), from /proc/stat";
  info.band_factor = model.band_factor();
  auto sensor = std::make_unique<CpuEstimateSensor>(std::move(info), std::move(model), identity.threads,
                                                    options.paths.procfs_root);
  sensor->read();  // baseline: cumulative energy counts from here
  out.push_back(std::move(sensor));
}

void discover_ram(const SensorOptions& options, SensorList& out) {
  SensorInfo info = base_info("ram", Component::dram);
  info.kind = SensorKind::power;
  info.min_useful_interval_s = kRamReadIntervalS;
  info.provenance = {ProvenanceKind::estimated, "ram-model"};
  info.band_factor = kRamBandFactor;
  info.description = fmt::format(
      "estimated: {} W per GB (GiB) of memory in use (MemTotal - MemAvailable in /proc/meminfo), the Cloud "
      "Carbon Footprint coefficient (CodeCarbon's older rule: 3 W per 8 GB), band x/÷ {:g} (an assumption: "
      "no public memory load profile to calibrate it)",
      kRamWattsPerGb, kRamBandFactor);
  const std::string root = options.paths.procfs_root;
  try {
    procfs::read_meminfo(root);
  } catch (const Error& e) {
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), e.what()));
    return;
  }
  auto meminfo = std::make_shared<procfs::ProcFile>(root + "/meminfo");
  out.push_back(std::make_unique<PowerSensor>(std::move(info), [meminfo](double& power_w) -> std::string {
    try {
      const auto mem = procfs::parse_meminfo(meminfo->read_or_throw(), meminfo->path());
      power_w = estimate_ram_power(static_cast<double>(mem.used_bytes()) / kBytesPerGb).power_w;
      return {};
    } catch (const Error& e) {
      return std::string("estimate:ram: ") + e.what();
    }
  }));
}

}  // namespace

void discover_estimate(const SensorOptions& options, SensorList& out) {
  discover_cpu(options, out);
  discover_ram(options, out);
}

}  // namespace joulebench::sensors
