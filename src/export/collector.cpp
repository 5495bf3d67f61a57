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

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

struct SensorState {
  bool usable = false;
  bool up = false;
  bool has_last = false;
  Sample last{};
  double energy_j = 0.0;
  double tick_delta_j = 0.0;
  bool tick_ok = false;  // tick_delta_j is a valid delta this tick
  std::optional<double> power_w;
};

struct ProcessState {
  double cpu_s = 0.0;
  std::string cgroup;
  bool seen = false;
};

}  // namespace

struct EnergyCollector::Impl {
  SensorList sensors;
  CollectorOptions options;
  std::vector<ComponentChoice> choices;
  double interval_s = 1.0;

  // Sampler-thread state.
  std::vector<SensorState> states;
  double last_tick_s = 0.0;
  bool has_tick = false;
  std::unordered_map<int, ProcessState> processes;
  double last_busy_s = -1.0;
  double last_self_cpu_s = 0.0;
  exporter::ShareTable process_table;
  exporter::ShareTable container_table;

  // Published under the mutex.
  mutable std::mutex mutex;
  ExporterSnapshot published;

  Impl(SensorList s, CollectorOptions o)
      : sensors(std::move(s)), options(std::move(o)), process_table(options.top_k), container_table(options.top_k) {}

  void attribute(double attributable_j, const std::unordered_map<int, double>& gpu_by_pid, double self_cpu_delta_s,
                 ExporterSnapshot& snap);
};

EnergyCollector::EnergyCollector(SensorList sensors, CollectorOptions options)
    : impl_(std::make_unique<Impl>(std::move(sensors), std::move(options))) {
  auto& d = *impl_;
  if (!(d.options.interval_s > 0.0)) throw InputError("exporter: the sampling interval must be > 0 s");
  d.interval_s = d.options.interval_s;
  d.states.resize(d.sensors.size());
  for (std::size_t i = 0; i < d.sensors.size(); ++i) {
    d.states[i].usable = d.sensors[i]->status().available;
    const double bound = d.sensors[i]->info().max_read_interval_s;
    if (d.states[i].usable && bound > 0.0) d.interval_s = std::min(d.interval_s, bound);
  }
  d.choices = choose_sensors(d.sensors);
  for (const auto& c : d.choices) d.published.components.push_back({c.component, {}, 0.0, std::nullopt});
  for (std::size_t i = 0; i < d.sensors.size(); ++i) {
    if (!d.states[i].usable) continue;
    const auto& info = d.sensors[i]->info();
    d.published.sensors.push_back({info.name, info.backend, info.component, false, 0.0, std::nullopt, {}});
  }
  // Sensors that cannot be used (a stuck counter, a root-only file) are served
  // as down with the reason, after the usable ones, so a fleet sees why.
  for (std::size_t i = 0; i < d.sensors.size(); ++i) {
    if (d.states[i].usable) continue;
    const auto& info = d.sensors[i]->info();
    d.published.sensors.push_back(
        {info.name, info.backend, info.component, false, 0.0, std::nullopt, d.sensors[i]->status().reason});
  }
  d.published.intensity_g_per_kwh = d.options.carbon.intensity.g_per_kwh;
  d.published.intensity_zone = d.options.carbon.intensity.zone;
  d.published.pue = d.options.carbon.pue.value;
  d.published.interval_s = d.interval_s;
  d.last_self_cpu_s = self_cpu_s();
}

EnergyCollector::~EnergyCollector() = default;

double EnergyCollector::interval_s() const { return impl_->interval_s; }

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
  const double now = steady_now_s();
  const double tick_s = d.has_tick ? now - d.last_tick_s : 0.0;
  d.last_tick_s = now;
  d.has_tick = true;

  // 1. Every usable sensor: fold the reading into its monotonic counter.
  for (std::size_t i = 0; i < d.sensors.size(); ++i) {
    auto& st = d.states[i];
    st.tick_ok = false;
    st.tick_delta_j = 0.0;
    if (!st.usable) continue;
    const SensorReading r = d.sensors[i]->read();
    if (!r.ok) {
      // Down: the counter keeps its value. An energy counter's next good read
      // continues from the last one (nothing lost over a transient failure)
      // unless it went backwards (restarted); power cannot be integrated
      // across the gap, so a power sensor re-bases.
      st.up = false;
      if (d.sensors[i]->info().kind == SensorKind::power) st.has_last = false;
      st.power_w.reset();
      continue;
    }
    st.up = true;
    const bool counter = d.sensors[i]->info().kind == SensorKind::energy_counter;
    if (st.has_last && r.sample.time_s > st.last.time_s) {
      const double dt = r.sample.time_s - st.last.time_s;
      if (counter) {
        // Backwards: the sensor restarted (reopened device, driver reload);
        // re-base instead of subtracting.
        if (r.sample.value >= st.last.value) {
          st.tick_delta_j = r.sample.value - st.last.value;
          st.tick_ok = true;
        }
      } else if (r.sample.value >= 0.0 && st.last.value >= 0.0) {
        st.tick_delta_j = 0.5 * (r.sample.value + st.last.value) * dt;
        st.tick_ok = true;
      }
      if (st.tick_ok) st.power_w = st.tick_delta_j / dt;
    }
    st.energy_j += st.tick_delta_j;
    st.last = r.sample;
    st.has_last = true;
  }

  // 2. Components: per device group, the most trusted candidate that gave a
  // valid delta this tick.
  ExporterSnapshot snap;
  {
    std::lock_guard lock(d.mutex);
    snap = d.published;
  }
  double additive_j = 0.0, additive_low_j = 0.0, additive_high_j = 0.0, attributable_j = 0.0;
  std::vector<std::size_t> gpu_used;  // sensors that gave each GPU's energy this tick
  for (std::size_t c = 0; c < d.choices.size(); ++c) {
    const auto& choice = d.choices[c];
    auto& out = snap.components[c];
    double delta = 0.0, delta_low = 0.0, delta_high = 0.0;
    bool any = false;
    for (const auto& group : choice.groups) {
      for (const auto& cand : group) {
        const bool all_ok = !cand.sensors.empty() && std::all_of(cand.sensors.begin(), cand.sensors.end(),
                                                                  [&](std::size_t i) { return d.states[i].tick_ok; });
        if (!all_ok) continue;
        for (std::size_t i : cand.sensors) {
          const double band = d.sensors[i]->info().band_factor;
          delta += d.states[i].tick_delta_j;
          delta_low += d.states[i].tick_delta_j / band;
          delta_high += d.states[i].tick_delta_j * band;
          if (choice.component == Component::gpu) gpu_used.push_back(i);
        }
        out.provenance = cand.provenance.to_string();
        any = true;
        break;
      }
    }
    out.energy_j += delta;
    out.energy_low_j += delta_low;
    out.energy_high_j += delta_high;
    if (any && tick_s > 0.0) out.power_w = delta / tick_s;
    else out.power_w.reset();
    if (is_additive(choice.component)) {
      additive_j += delta;
      additive_low_j += delta_low;
      additive_high_j += delta_high;
    }
    if (choice.component == Component::cpu || choice.component == Component::dram) attributable_j += delta;
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i < d.sensors.size(); ++i) {
    if (!d.states[i].usable) continue;
    auto& out = snap.sensors[k++];
    out.up = d.states[i].up;
    out.energy_j = d.states[i].energy_j;
    out.power_w = d.states[i].power_w;
  }

  // 3. Carbon of the additive energy, with PUE.
  if (additive_j > 0.0) {
    // Carbon is linear in energy: the band's ends scale alike.
    const double g = compute_carbon_j(additive_j, d.options.carbon).g_co2e;
    snap.emissions_g += g;
    snap.emissions_low_g += g * additive_low_j / additive_j;
    snap.emissions_high_g += g * additive_high_j / additive_j;
  }

  // 4. GPU energy split evenly among the processes holding a context on the
  // device (the driver tells; a sensor that cannot tell attributes nothing).
  std::unordered_map<int, double> gpu_by_pid;
  for (std::size_t i : gpu_used) {
    const auto pids = d.sensors[i]->device_process_ids();
    if (!pids || pids->empty()) continue;
    for (int pid : *pids) gpu_by_pid[pid] += d.states[i].tick_delta_j / static_cast<double>(pids->size());
  }

  // 5. Attribution by CPU time (+ GPU by process), and the exporter's own share.
  const double self_now = self_cpu_s();
  d.attribute(attributable_j, gpu_by_pid, self_now - d.last_self_cpu_s, snap);
  d.last_self_cpu_s = self_now;
  ++snap.samples;

  std::lock_guard lock(d.mutex);
  snap.scrapes = d.published.scrapes;
  d.published = std::move(snap);
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
