// Models for machines where nothing can be read (VMs, containers):
//  - cpu: per-thread watts by microarchitecture (Cloud Carbon Footprint's
//    min/max coefficients) times the CPU time actually used, from /proc/stat;
//    else the CPU's TDP divided by its threads, times the CPU time used;
//    else CCF's mean coefficients. An energy counter: cumulative joules.
//  - dram: 0.392 W per GB of memory in use (CCF), a power reading.
// Always discovered; the meter uses them only where no measured or sampled
// sensor covers the component. Every figure is flagged estimated:*.
#include <fmt/format.h>

#include <memory>

#include "core/procfs.h"
#include "joulebench/error.h"
#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/estimate/cpu_tables.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "estimate";
// Cloud Carbon Footprint's memory coefficient. CodeCarbon's older rule, 3 W
// per 8 GB (0.375 W/GB), is close; both count memory in use, not installed.
constexpr double kRamWattsPerGb = 0.392;
// Memory in use changes over seconds, and the model is a rough W per GB:
// one read a second is plenty (CodeCarbon reads it every 15 s).
constexpr double kRamReadIntervalS = 1.0;
constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;  // GB as the OS and cloud sizes count it (GiB)

// Energy = threads x idle_w x elapsed + busy thread-seconds x (busy_w - idle_w).
struct CpuModel {
  Provenance provenance;
  double idle_w_per_thread = 0;
  double busy_w_per_thread = 0;
  int threads = 0;
  std::string description;
};

class CpuEstimateSensor final : public Sensor {
 public:
  CpuEstimateSensor(SensorInfo info, CpuModel model, const std::string& procfs_root)
      : info_(std::move(info)), model_(std::move(model)), stat_(procfs_root + "/stat") {}

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
      const double used_s = busy_s - last_busy_s_;
      energy_j_ += model_.threads * model_.idle_w_per_thread * elapsed_s +
                   used_s * (model_.busy_w_per_thread - model_.idle_w_per_thread);
    }
    last_busy_s_ = busy_s;
    last_time_s_ = now;
    return SensorReading::success({now, energy_j_});
  }

 private:
  SensorInfo info_;
  CpuModel model_;
  procfs::ProcFile stat_;
  bool have_last_ = false;
  double last_busy_s_ = 0, last_time_s_ = 0, energy_j_ = 0;
};

std::string cpu_identity(const procfs::CpuInfo& cpu) {
  std::string who = cpu.model_name.empty() ? std::string("CPU") : "'" + cpu.model_name + "'";
  if (!cpu.vendor.empty()) who += fmt::format(" ({} family {} model {} stepping {})", cpu.vendor, cpu.family,
                                              cpu.model, cpu.stepping);
  return who;
}

CpuModel choose_cpu_model(const procfs::CpuInfo& cpu) {
  CpuModel m;
  m.threads = cpu.logical_cpus;
  if (auto row = match_microarchitecture(cpu, builtin_power_model())) {
    m.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
    m.idle_w_per_thread = row->min_w;
    m.busy_w_per_thread = row->max_w;
    m.description = fmt::format(
        "estimated: {} is {}; {} threads x ({:.2f} W idle + utilisation x {:.2f} W) per thread "
        "(Cloud Carbon Footprint coefficients), utilisation from CPU time in /proc/stat",
        cpu_identity(cpu), row->microarchitecture, m.threads, row->min_w, row->max_w - row->min_w);
    return m;
  }
  if (auto tdp = lookup_builtin_tdp(cpu.model_name)) {
    m.provenance = {ProvenanceKind::estimated, "cpu-tdp"};
    const int per_package = std::max(1, cpu.threads_per_package);
    m.busy_w_per_thread = tdp->tdp_w / per_package;
    m.description = fmt::format(
        "estimated: {} matched '{}' (TDP {:g} W) in the TDP table; {:.2f} W per thread ({:g} W / {} threads "
        "per package) x CPU time used from /proc/stat. In a VM the threads per package it sees may be fewer "
        "than the chip has, which overstates this",
        cpu_identity(cpu), tdp->model, tdp->tdp_w, m.busy_w_per_thread, tdp->tdp_w, per_package);
    return m;
  }
  const auto mean = mean_power_model(builtin_power_model());
  m.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
  m.idle_w_per_thread = mean.min_w;
  m.busy_w_per_thread = mean.max_w;
  m.description = fmt::format(
      "estimated: {} is in neither the microarchitecture nor the TDP table; {} threads x ({:.2f} W idle + "
      "utilisation x {:.2f} W) per thread, the {} of the power-model table (Cloud Carbon Footprint's rule "
      "for an unknown microarchitecture), utilisation from CPU time in /proc/stat",
      cpu_identity(cpu), m.threads, mean.min_w, mean.max_w - mean.min_w, mean.microarchitecture);
  return m;
}

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
  info.exact_at_edges = true;  // linear in the CPU time counters: edges suffice
  info.provenance = {ProvenanceKind::estimated, "cpu-power-model"};
  info.description = "estimated CPU energy from CPU time used";
  procfs::CpuInfo cpu;
  try {
    cpu = procfs::read_cpuinfo(options.paths.procfs_root);
    procfs::read_stat(options.paths.procfs_root);
  } catch (const Error& e) {
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), e.what()));
    return;
  }
  CpuModel model = choose_cpu_model(cpu);
  info.provenance = model.provenance;
  info.description = model.description;
  auto sensor = std::make_unique<CpuEstimateSensor>(std::move(info), std::move(model), options.paths.procfs_root);
  sensor->read();  // baseline: cumulative energy counts from here
  out.push_back(std::move(sensor));
}

void discover_ram(const SensorOptions& options, SensorList& out) {
  SensorInfo info = base_info("ram", Component::dram);
  info.kind = SensorKind::power;
  info.min_useful_interval_s = kRamReadIntervalS;
  info.provenance = {ProvenanceKind::estimated, "ram-model"};
  info.description = fmt::format(
      "estimated: {} W per GB (GiB) of memory in use (MemTotal - MemAvailable in /proc/meminfo), the Cloud "
      "Carbon Footprint coefficient (CodeCarbon's older rule: 3 W per 8 GB)",
      kRamWattsPerGb);
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
      power_w = static_cast<double>(mem.used_bytes()) / kBytesPerGb * kRamWattsPerGb;
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
