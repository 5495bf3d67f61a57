// The exporter's collector: per-sensor monotonic counters, per-component
// totals from the meter's choice of sources, CPU-time attribution to
// processes and cgroups, carbon, and the exporter's own cost.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "core/procfs.h"
#include "export/shares.h"
#include "joulebench/error.h"
#include "joulebench/exporter.h"
#include "joulebench/meter.h"

namespace joulebench {
namespace {

double self_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

std::uint64_t self_rss_bytes() {
  // The real /proc (the exporter's own process), not the configurable root.
  std::string text;
  if (procfs::read_file("/proc/self/statm", text) != 0) return 0;
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(text.c_str(), "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The cgroup of a process from <root>/<pid>/cgroup: the unified (v2) "0::"
// line, else the v1 cpu controller's, else the first line.
std::string read_cgroup(const std::string& procfs_root, int pid) {
  std::string text;
  if (procfs::read_file(procfs_root + "/" + std::to_string(pid) + "/cgroup", text) != 0) return {};
  std::string first, cpu;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string::npos ? std::string::npos : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string path = line.substr(c2 + 1);
    if (line.compare(0, 3, "0::") == 0) return path;
    if (first.empty()) first = path;
    if (cpu.empty() && ("," + controllers + ",").find(",cpu,") != std::string::npos) cpu = path;
  }
  return cpu.empty() ? first : cpu;
}

// A 64-hex-digit container id in a cgroup path (docker, containerd, cri-o),
// or "".
std::string container_id(const std::string& cgroup) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < cgroup.size(); ++i) {
    if (std::isxdigit(static_cast<unsigned char>(cgroup[i])) && !std::isupper(static_cast<unsigned char>(cgroup[i]))) {
      if (++run == 64 && (i + 1 == cgroup.size() || !std::isxdigit(static_cast<unsigned char>(cgroup[i + 1]))))
        return cgroup.substr(i + 1 - 64, 64);
    } else {
      run = 0;
    }
  }
  return {};
}

struct ProcessState {
  double cpu_s = 0.0;
  std::string cgroup;
  bool seen = false;
};

}  // namespace

// The collector is a client of the meter: one lap per tick on a meter with
// no thread of its own, so the same readings give the same joules per
// component as `measure` (source choice, failures, stuck counters, wraps).
struct EnergyCollector::Impl {
  Meter meter;
  CollectorOptions options;
  std::vector<bool> usable;                        // per sensor, at start
  std::vector<Meter::SensorTotal> last_totals;     // per sensor, at the last tick
  std::unordered_map<std::string, std::size_t> sensor_index;  // by name

  // Sampler-thread state.
  std::unordered_map<int, ProcessState> processes;
  double last_busy_s = -1.0;
  double last_self_cpu_s = 0.0;
  exporter::ShareTable process_table;
  exporter::ShareTable container_table;

  // Published under the mutex.
  mutable std::mutex mutex;
  ExporterSnapshot published;

  // The meter refuses an interval that is not a positive number.
  static MeterOptions meter_options(const CollectorOptions& o) {
    MeterOptions m;
    m.interval_s = o.interval_s;
    m.procfs_root = o.procfs_root;
    return m;
  }

  Impl(SensorList s, CollectorOptions o)
      : meter(std::move(s), meter_options(o)),
        options(std::move(o)),
        process_table(options.top_k),
        container_table(options.top_k) {}

  void publish_sensors(ExporterSnapshot& snap, const std::vector<Meter::SensorTotal>& totals) const;
  // Each used GPU sensor's energy this tick split evenly among the processes
  // holding a context on it (a sensor that cannot tell attributes nothing).
  std::unordered_map<int, double> gpu_by_process(const ComponentEnergy& gpu,
                                                 const std::vector<Meter::SensorTotal>& totals) const;
  void attribute(double attributable_j, const std::unordered_map<int, double>& gpu_by_pid, double self_cpu_delta_s,
                 ExporterSnapshot& snap);
};

namespace {
constexpr const char* kTickWindow = "joulebench:exporter-tick";
}

EnergyCollector::EnergyCollector(SensorList sensors, CollectorOptions options)
    : impl_(std::make_unique<Impl>(std::move(sensors), std::move(options))) {
  auto& d = *impl_;
  const SensorList& list = d.meter.sensors();
  d.usable.resize(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    d.usable[i] = list[i]->status().available;
    d.sensor_index[list[i]->info().name] = i;
  }
  for (const auto& c : d.meter.choices()) d.published.components.push_back({c.component, {}, 0.0, std::nullopt});
  // Sensors that cannot be used (a stuck counter, a root-only file) are served
  // as down with the reason, after the usable ones, so a fleet sees why.
  for (bool want_usable : {true, false})
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (d.usable[i] != want_usable) continue;
      const auto& info = list[i]->info();
      d.published.sensors.push_back({info.name, info.backend, info.component, false, 0.0, std::nullopt,
                                     want_usable ? std::string() : list[i]->status().reason});
    }
  d.published.intensity_g_per_kwh = d.options.carbon.intensity.g_per_kwh;
  d.published.intensity_zone = d.options.carbon.intensity.zone;
  d.published.pue = d.options.carbon.pue.value;
  d.published.interval_s = d.meter.interval_s();
  d.last_self_cpu_s = self_cpu_s();
}

EnergyCollector::~EnergyCollector() = default;

double EnergyCollector::interval_s() const { return impl_->meter.interval_s(); }

void EnergyCollector::count_scrape() {
  std::lock_guard lock(impl_->mutex);
  ++impl_->published.scrapes;
}

ExporterSnapshot EnergyCollector::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  ExporterSnapshot s = impl_->published;
  s.self_cpu_s = self_cpu_s();
  s.self_rss_bytes = self_rss_bytes();
  return s;
}

void EnergyCollector::sample() {
  auto& d = *impl_;
  ExporterSnapshot snap;
  {
    std::lock_guard lock(d.mutex);
    snap = d.published;
  }
  // 1. The tick's lap: the meter reads every usable sensor and composes the
  // components exactly as for a `measure` window. The first tick opens it.
  if (!d.meter.window_open(kTickWindow)) {
    d.meter.begin_window(kTickWindow);
    d.last_totals = d.meter.sensor_totals();
    d.publish_sensors(snap, d.last_totals);
  } else {
    const Measurement lap = d.meter.lap_window(kTickWindow);
    const auto totals = d.meter.sensor_totals();
    d.publish_sensors(snap, totals);

    // 2. Components: monotonic totals and their band.
    double additive_j = 0.0, additive_low_j = 0.0, additive_high_j = 0.0, attributable_j = 0.0;
    std::unordered_map<int, double> gpu_by_pid;
    for (auto& out : snap.components) {
      const ComponentEnergy* ce = lap.find(out.component);
      if (!ce) {
        out.power_w.reset();  // no source gave a figure this tick: the total holds
        continue;
      }
      out.provenance = ce->provenance.to_string();
      out.energy_j += ce->energy_j;
      out.energy_low_j += ce->low(ce->energy_j);
      out.energy_high_j += ce->high(ce->energy_j);
      out.power_w = lap.duration_s > 0.0 ? std::optional<double>(ce->energy_j / lap.duration_s) : std::nullopt;
      if (is_additive(out.component)) {
        additive_j += ce->energy_j;
        additive_low_j += ce->low(ce->energy_j);
        additive_high_j += ce->high(ce->energy_j);
      }
      if (out.component == Component::cpu || out.component == Component::dram) attributable_j += ce->energy_j;
      if (out.component == Component::gpu) gpu_by_pid = d.gpu_by_process(*ce, totals);
    }

    // 3. Carbon of the additive energy, with PUE. Carbon is linear in energy:
    // the band's ends scale alike.
    if (additive_j > 0.0) {
      const double g = compute_carbon_j(additive_j, d.options.carbon).g_co2e;
      snap.emissions_g += g;
      snap.emissions_low_g += g * additive_low_j / additive_j;
      snap.emissions_high_g += g * additive_high_j / additive_j;
    }

    // 4. Attribution by CPU time (+ GPU by process), and the exporter's own share.
    const double self_now = self_cpu_s();
    d.attribute(attributable_j, gpu_by_pid, self_now - d.last_self_cpu_s, snap);
    d.last_self_cpu_s = self_now;
    d.last_totals = totals;
  }
  if (snap.samples == 0) {
    // Attribution needs a first look at /proc to take deltas from.
    d.attribute(0.0, {}, 0.0, snap);
    d.last_self_cpu_s = self_cpu_s();
  }
  ++snap.samples;

  std::lock_guard lock(d.mutex);
  snap.scrapes = d.published.scrapes;
  d.published = std::move(snap);
}

void EnergyCollector::Impl::publish_sensors(ExporterSnapshot& snap,
                                            const std::vector<Meter::SensorTotal>& totals) const {
  std::size_t k = 0;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    if (!usable[i]) continue;
    auto& out = snap.sensors[k++];
    const auto& now = totals[i];
    out.up = now.last_read_ok;
    out.energy_j = now.energy_j;
    out.power_w.reset();
    // Power over the tick when every read since the last tick was counted.
    if (i < last_totals.size()) {
      const auto& before = last_totals[i];
      if (now.last_read_ok && before.has_sample && now.failures == before.failures &&
          now.last_time_s > before.last_time_s)
        out.power_w = (now.energy_j - before.energy_j) / (now.last_time_s - before.last_time_s);
    }
  }
}

std::unordered_map<int, double> EnergyCollector::Impl::gpu_by_process(
    const ComponentEnergy& gpu, const std::vector<Meter::SensorTotal>& totals) const {
  std::unordered_map<int, double> out;
  for (const std::string& source : gpu.sources) {
    const auto it = sensor_index.find(source);
    if (it == sensor_index.end() || it->second >= last_totals.size()) continue;
    const std::size_t i = it->second;
    const auto pids = meter.sensors()[i]->device_process_ids();
    if (!pids || pids->empty()) continue;
    const double tick_j = totals[i].energy_j - last_totals[i].energy_j;
    for (int pid : *pids) out[pid] += tick_j / static_cast<double>(pids->size());
  }
  return out;
}

void EnergyCollector::Impl::attribute(double attributable_j, const std::unordered_map<int, double>& gpu_by_pid,
                                      double self_cpu_delta_s, ExporterSnapshot& snap) {
  double busy_s = 0.0;
  std::vector<procfs::ProcessStat> all;
  try {
    busy_s = procfs::read_stat(options.procfs_root).total.busy_s();
    all = procfs::read_all_process_stats(options.procfs_root);
  } catch (const Error&) {
    snap.attribution_ok = false;
    last_busy_s = -1.0;
    return;
  }
  snap.attribution_ok = true;
  const double busy_delta = last_busy_s >= 0.0 ? busy_s - last_busy_s : 0.0;
  const bool have_delta = last_busy_s >= 0.0 && busy_delta > 0.0;
  last_busy_s = busy_s;
  const double j_per_cpu_s = have_delta ? attributable_j / busy_delta : 0.0;

  std::unordered_map<std::string, double> per_cgroup;
  for (auto& [pid, ps] : processes) ps.seen = false;
  for (const auto& p : all) {
    auto [it, fresh] = processes.try_emplace(p.pid);
    auto& ps = it->second;
    // A pid reused by a new process shows less CPU time than before.
    if (fresh || p.cpu_s() < ps.cpu_s) {
      ps.cgroup = read_cgroup(options.procfs_root, p.pid);
      ps.cpu_s = fresh ? p.cpu_s() : 0.0;
    }
    const double cpu_delta = std::max(0.0, p.cpu_s() - ps.cpu_s);
    ps.cpu_s = p.cpu_s();
    ps.seen = true;
    double energy = std::min(cpu_delta * j_per_cpu_s, attributable_j);
    if (auto g = gpu_by_pid.find(p.pid); g != gpu_by_pid.end()) energy += g->second;
    process_table.add(std::to_string(p.pid), p.comm, energy);
    if (!ps.cgroup.empty()) per_cgroup[ps.cgroup] += energy;
  }
  for (auto it = processes.begin(); it != processes.end();) it = it->second.seen ? std::next(it) : processes.erase(it);
  for (const auto& [cg, energy] : per_cgroup) container_table.add(cg, container_id(cg), energy);
  process_table.end_tick();
  container_table.end_tick();
  snap.processes = process_table.tracked();
  snap.processes_other_j = process_table.other_j();
  snap.containers = container_table.tracked();
  snap.containers_other_j = container_table.other_j();
  if (have_delta) snap.self_energy_j += std::min(attributable_j, std::max(0.0, self_cpu_delta_s) * j_per_cpu_s);
}

}  // namespace joulebench
