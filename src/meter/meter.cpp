// The sampler thread and named windows. The thread sleeps on a condition
// variable until a steady-clock deadline (no busy loop) and, per sample, only
// calls read() on each usable sensor and folds the result into preallocated
// per-sensor state: no allocation on the hot path unless a read fails.
// Windows only copy that state at their begin and end.
#include <fmt/core.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "attribution.h"
#include "joulebench/error.h"
#include "joulebench/meter.h"
#include "joulebench/readable.h"
#include "sensor_track.h"
#include "window.h"

namespace joulebench {

using SteadyClock = std::chrono::steady_clock;

const IdlePower* IdleBaseline::find(Component c) const {
  for (const auto& p : components)
    if (p.component == c) return &p;
  return nullptr;
}

namespace {
constexpr double kMinIntervalS = 0.001;  // below this the sampler itself becomes the load
constexpr double kSamplerBudget = 0.01;   // of one core: above it, Meter::notes() says so

double thread_cpu_s(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0.0;
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}
}  // namespace

struct Meter::Impl {
  struct Window {
    SteadyClock::time_point start;
    std::chrono::system_clock::time_point start_time;
    std::vector<meter::TrackSnapshot> snapshots;
    meter::CpuSnapshot cpu;
  };

  SensorList sensors;
  MeterOptions options;
  std::vector<ComponentChoice> choices;
  std::vector<std::size_t> sampled;        // indices of usable sensors (read at window edges)
  std::vector<std::size_t> periodic;       // those the sampler also reads between edges
  std::vector<std::size_t> gpu_sensors;    // usable gpu sensors that may list their processes
  std::vector<meter::SensorTrack> tracks;  // one per sensor (unusable ones never read)
  std::vector<double> period_s;            // per sensor: its time between periodic reads
  std::vector<double> last_read_s;         // per sensor: steady time of its last read
  // Hardware counters that stand still (stuck, docs/measurement.md) are left
  // out of periodic reads until an edge read sees them move: reading a dead
  // perf event at 10 Hz cost 10x the sampler's own budget.
  std::vector<double> stuck_after_s;  // per sensor: 0 = never rests
  std::vector<double> last_value;     // per sensor: the last value read (a reset is a move too)
  std::vector<double> moved_at_s;     // per sensor: when that value last changed
  // Whether sensor i had stood still for its stuck bound at steady time t.
  bool still_at(std::size_t i, double t) const { return stuck_after_s[i] > 0.0 && t - moved_at_s[i] >= stuck_after_s[i]; }
  double interval_s = 0.1;                 // the requested rate (after the wrap bound)
  double tick_s = 0.1;                     // the sampler's wake-up period
  std::vector<std::string> notes;
  std::vector<std::string> missing_required;  // warnings for every window (MeterOptions::required_components)

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  std::thread thread;
  bool running = false;
  bool stop_requested = false;
  std::uint64_t requested = 0;  // sample requests from windows
  std::uint64_t served = 0;
  std::atomic<std::uint64_t> samples{0};
  std::atomic<double> final_thread_cpu_s{0.0};
  std::chrono::steady_clock::time_point started{};  // of the sampler thread, for its CPU share

  std::map<std::string, Window> windows;
  std::optional<IdleBaseline> idle;
  AttributionTarget attribution;
  // end_window and lap_window; `self` does the read (through the sampler
  // thread when it runs) and knows the resolution.
  Measurement finish_window(Meter& self, const std::string& name, bool lap);
  // Construction, in order (Meter::Meter).
  void init_tracks();
  void choose_periodic();
  std::string schedule();  // returns the sampling note

  // Caller holds `mutex`. A window's edge reads every usable sensor; a
  // periodic sample only the periodic ones.
  void sample_locked(bool edge = true) {
    const double now = std::chrono::duration<double>(SteadyClock::now().time_since_epoch()).count();
    for (std::size_t i : edge ? sampled : periodic) {
      // Half a tick of slack: a sensor due at this tick is not put off to the next.
      if (!edge && now - last_read_s[i] < period_s[i] - 0.5 * tick_s) continue;
      if (!edge && still_at(i, now)) continue;  // resting
      const SensorReading r = sensors[i]->read();
      if (r.ok && r.sample.value != last_value[i]) {
        last_value[i] = r.sample.value;
        moved_at_s[i] = now;
      }
      tracks[i].apply(r);
      last_read_s[i] = now;
    }
    if (attribution.pid > 0 && !gpu_sensors.empty()) check_gpu_processes_locked();
    samples.fetch_add(1, std::memory_order_relaxed);
  }

  // GPU attribution: does the tree hold a context on each GPU right now?
  // Runs only while a tree is being attributed, at the sampling rate, so a
  // short-lived GPU use between two samples can be missed (window warns).
  void check_gpu_processes_locked() {
    for (auto it = gpu_sensors.begin(); it != gpu_sensors.end();) {
      const auto pids = sensors[*it]->device_process_ids();
      if (!pids) {
        it = gpu_sensors.erase(it);  // this sensor cannot tell: stop asking
        continue;
      }
      bool tree = false, others = false;
      for (int pid : *pids) {
        if (meter::in_process_tree(options.procfs_root, attribution.pid, pid))
          tree = true;
        else
          others = true;
      }
      tracks[*it].record_process_check(tree, others);
      ++it;
    }
  }

  std::vector<meter::TrackSnapshot> snapshots_locked() const {
    std::vector<meter::TrackSnapshot> out(tracks.size());
    for (std::size_t i : sampled) out[i] = tracks[i].snapshot();
    return out;
  }

  void loop() {
    const auto interval = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(tick_s));
    std::unique_lock lock(mutex);
    auto deadline = SteadyClock::now() + interval;
    while (!stop_requested) {
      wake.wait_until(lock, deadline, [&] { return stop_requested || requested != served; });
      if (stop_requested) break;
      const std::uint64_t serving = requested;
      sample_locked(serving != served);
      if (serving != served) {
        served = serving;  // a window's sample: keep the periodic schedule
        done.notify_all();
        continue;
      }
      const auto now = SteadyClock::now();
      deadline += interval;
      if (deadline <= now) deadline = now + interval;  // fell behind (suspend, overload): do not burst
    }
    final_thread_cpu_s.store(thread_cpu_s(CLOCK_THREAD_CPUTIME_ID));
    served = requested;
    done.notify_all();
  }
};

namespace {

// "cpu measured:rapl-powercap from rapl-powercap:package-0 (fallback: estimated:cpu-model)"
// per group: what serves each component, for Meter::notes(). A counter seen
// standing still for its stuck bound (`still`) says so: the windows fell back
// or gave no figure, as their warnings tell.
std::string sources_note(const std::vector<ComponentChoice>& choices, const SensorList& sensors,
                         const std::vector<bool>& still) {
  std::vector<std::string> sources;
  for (const ComponentChoice& choice : choices) {
    for (const auto& group : choice.groups) {
      const auto& best = group.front();
      std::vector<std::string> names;
      for (std::size_t i : best.sensors) names.push_back(sensors[i]->info().name + (still[i] ? " (stuck)" : ""));
      std::string note = fmt::format("{}{} {} from {}", to_string(choice.component),
                                     best.device.empty() ? "" : " " + best.device, best.provenance.to_string(),
                                     fmt::join(names, ", "));
      if (group.size() > 1) {
        std::vector<std::string> fallbacks;
        for (std::size_t k = 1; k < group.size(); ++k) fallbacks.push_back(group[k].provenance.to_string());
        note += fmt::format(" (fallback: {})", fmt::join(fallbacks, ", "));
      }
      sources.push_back(std::move(note));
    }
  }
  return sources.empty() ? std::string() : fmt::format("sources: {}", fmt::join(sources, "; "));
}

// "gpu was asked for but no sensor can read it: nvml: libnvidia-ml.so.1 not
// found ..." per required component that no usable sensor covers.
std::vector<std::string> missing_required_warnings(const std::vector<Component>& required, const SensorList& sensors) {
  std::vector<std::string> out;
  for (Component c : required) {
    std::vector<std::string> reasons;
    bool covered = false;
    for (const auto& sensor : sensors) {
      if (sensor->info().component != c) continue;
      if (sensor->status().available) covered = true;
      else reasons.push_back(fmt::format("{}: {}", sensor->info().name, sensor->status().reason));
    }
    if (covered) continue;
    if (reasons.empty()) reasons.push_back("no sensor of it was found");
    out.push_back(fmt::format("{} was asked for but no sensor can read it, so it has no row and is not in the total: {}",
                              to_string(c), fmt::join(reasons, "; ")));
  }
  return out;
}

}  // namespace

// Usable sensors, their tracks, and the shortest wrap bound among them.
void Meter::Impl::init_tracks() {
  tracks.reserve(sensors.size());
  const Sensor* bound_sensor = nullptr;
  double bound_s = 0.0;
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const Sensor& sensor = *sensors[i];
    tracks.emplace_back(sensor.info().kind);
    if (!sensor.status().available) continue;
    sampled.push_back(i);
    if (sensor.info().component == Component::gpu) gpu_sensors.push_back(i);
    const double b = sensor.info().max_read_interval_s;
    if (b > 0.0 && (bound_s == 0.0 || b < bound_s)) {
      bound_s = b;
      bound_sensor = &sensor;
    }
  }
  interval_s = options.interval_s;
  if (bound_sensor && bound_s < interval_s) {
    interval_s = std::max(bound_s, kMinIntervalS);
    notes.push_back(fmt::format(
        "sampling interval shortened from {:.1f} ms to {:.1f} ms: sensor {} must be read at least that often "
        "so that its counter cannot wrap twice between reads",
        options.interval_s * 1000.0, interval_s * 1000.0, bound_sensor->info().name));
  }
}

// Between window edges the sampler reads the sensors in use (first choice of
// their group) and any counter that must be read often to survive a wrap.
// Fallbacks are read at window edges only: exact for counters, a two-point
// trapezoid for power (said in a warning if one is ever used). This keeps,
// e.g., the /proc-based estimates off the hot path on a machine with RAPL.
// Counters exact at their edges are never read between.
void Meter::Impl::choose_periodic() {
  std::vector<bool> first_choice(sensors.size(), false);
  for (const ComponentChoice& choice : choices)
    for (const auto& group : choice.groups)
      for (std::size_t i : group.front().sensors) first_choice[i] = true;
  for (std::size_t i : sampled) {
    const SensorInfo& info = sensors[i]->info();
    if ((first_choice[i] && !info.exact_at_edges) || info.max_read_interval_s > 0.0) periodic.push_back(i);
  }
}

// Each periodic sensor's pace, and the sampler's wake-up period. Models of
// slowly changing state are read at their own, slower pace; when they are
// all the sampler has between edges, it wakes only at that pace (a wake-up
// alone costs ~30 us of CPU in a VM, docs/benchmarks.md).
std::string Meter::Impl::schedule() {
  period_s.assign(sensors.size(), interval_s);
  last_read_s.assign(sensors.size(), -1e300);
  stuck_after_s.assign(sensors.size(), 0.0);
  last_value.assign(sensors.size(), std::numeric_limits<double>::quiet_NaN());
  moved_at_s.assign(sensors.size(), std::chrono::duration<double>(SteadyClock::now().time_since_epoch()).count());
  for (std::size_t i : sampled) {
    const SensorInfo& info = sensors[i]->info();
    if (is_hardware_counter(info) && info.update_period_s > 0.0) stuck_after_s[i] = counter_stuck_after_s(info);
  }
  double slowest_tick_s = 0.0;
  bool every_tick = !gpu_sensors.empty() || periodic.empty();
  std::vector<std::string> slow;
  for (std::size_t i : periodic) {
    const SensorInfo& info = sensors[i]->info();
    if (info.min_useful_interval_s > interval_s && info.max_read_interval_s == 0.0) {
      period_s[i] = info.min_useful_interval_s;
      slowest_tick_s = slowest_tick_s == 0.0 ? period_s[i] : std::min(slowest_tick_s, period_s[i]);
      slow.push_back(fmt::format("{} every {:g} s", info.name, period_s[i]));
    } else {
      every_tick = true;
    }
  }
  tick_s = every_tick ? interval_s : slowest_tick_s;
  std::string sampling = fmt::format("sampling every {:.1f} ms", interval_s * 1000.0);
  if (!slow.empty())
    sampling += fmt::format("; models read at their own pace (once a second is their resolution): {}",
                            fmt::join(slow, ", "));
  return sampling;
}

Meter::Meter(SensorList sensors, MeterOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (!(options.interval_s > 0.0) || !std::isfinite(options.interval_s))
    throw InputError(fmt::format("sampling interval must be a positive number of seconds (got {})", options.interval_s));
  s.sensors = std::move(sensors);
  s.options = std::move(options);
  s.attribution = s.options.attribution;
  s.choices = choose_sensors(s.sensors);
  s.missing_required = missing_required_warnings(s.options.required_components, s.sensors);
  s.init_tracks();
  s.choose_periodic();
  // One line for how often, one for what from (Meter::notes()): a short `measure` is read at a glance.
  s.notes.push_back(s.schedule());
}

Meter::~Meter() { stop(); }

void Meter::start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (s.running) return;
  s.stop_requested = false;
  s.running = true;
  // The sampler takes no signals: they go to the application's threads (and
  // to run_command's forwarding), and sensor reads are never interrupted.
  sigset_t all{}, old{};
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  s.started = std::chrono::steady_clock::now();
  s.thread = std::thread([&s] { s.loop(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Meter::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.running) return;
    s.stop_requested = true;
  }
  s.wake.notify_all();
  s.thread.join();
  std::lock_guard lock(s.mutex);
  s.running = false;
}

bool Meter::running() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->running;
}

double Meter::interval_s() const { return impl_->interval_s; }
std::vector<std::string> Meter::notes() const {
  const Impl& s = *impl_;
  std::vector<std::string> out = s.notes;
  // The sampler's own CPU time is part of what the machine's counters see: a
  // note when it is over 1 % of a core (docs/measurement.md "Sampling cost").
  double elapsed_s = 0.0;
  std::vector<bool> still(s.sensors.size(), false);
  {
    std::lock_guard lock(s.mutex);
    if (s.started != std::chrono::steady_clock::time_point{})
      elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
    for (std::size_t i : s.sampled) still[i] = s.still_at(i, s.last_read_s[i]);  // as of its last read
  }
  // After the construction's notes, as one line per meter.
  if (std::string sources = sources_note(s.choices, s.sensors, still); !sources.empty()) out.push_back(std::move(sources));
  const double cpu_s = sampler_cpu_s();
  if (elapsed_s > 0.5 && cpu_s / elapsed_s > kSamplerBudget)
    out.push_back(fmt::format("the sampler itself used {:.1f} % of a core (every {:.1f} ms); that energy is in "
                              "the figures: a longer --interval costs less",
                              100.0 * cpu_s / elapsed_s, impl_->interval_s * 1000.0));
  return out;
}
const SensorList& Meter::sensors() const { return impl_->sensors; }
const std::vector<ComponentChoice>& Meter::choices() const { return impl_->choices; }

Meter::Resolution Meter::resolution() const {
  Resolution r;
  auto consider = [&](double seconds, std::string why) {
    if (seconds > r.seconds) r = {seconds, std::move(why)};
  };
  for (const auto& choice : impl_->choices)
    for (const auto& group : choice.groups) {
      if (group.empty()) continue;
      for (std::size_t i : group.front().sensors) {  // the sensors in use, not the fallbacks
        const SensorInfo& info = impl_->sensors[i]->info();
        if (info.min_useful_interval_s > 0.0)
          consider(info.min_useful_interval_s,
                   fmt::format("{} is read every {}", info.name, readable_seconds(info.min_useful_interval_s)));
        if (info.kind == SensorKind::power)
          consider(10.0 * impl_->interval_s,
                   fmt::format("{} gives power, sampled every {}", info.name, readable_seconds(impl_->interval_s)));
        else if (info.update_period_s > 0.0)
          consider(100.0 * info.update_period_s,
                   fmt::format("{} updates every {}", info.name, readable_seconds(info.update_period_s)));
      }
    }
  return r;
}

void Meter::sample_now() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  if (!s.running || s.stop_requested) {
    s.sample_locked();  // no sampler thread: this thread is the only reader
    return;
  }
  // Sensors are read from the sampler thread only (sensor.h): ask it.
  const std::uint64_t ticket = ++s.requested;
  s.wake.notify_all();
  s.done.wait(lock, [&] { return s.served >= ticket || !s.running; });
}

void Meter::begin_window(const std::string& name) {
  Impl& s = *impl_;
  AttributionTarget target;
  {
    std::lock_guard lock(s.mutex);
    if (s.windows.count(name)) throw InputError("window '" + name + "' is already open; end it before beginning it again");
    target = s.attribution;
  }
  meter::CpuSnapshot cpu = meter::take_cpu_snapshot(s.options.procfs_root, target);
  sample_now();
  std::lock_guard lock(s.mutex);
  if (s.windows.count(name)) throw InputError("window '" + name + "' is already open; end it before beginning it again");
  Impl::Window w{SteadyClock::now(), std::chrono::system_clock::now(), s.snapshots_locked(), std::move(cpu)};
  s.windows.emplace(name, std::move(w));
}

bool Meter::window_open(const std::string& name) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->windows.count(name) != 0;
}

Measurement Meter::end_window(const std::string& name) { return impl_->finish_window(*this, name, false); }
Measurement Meter::lap_window(const std::string& name) { return impl_->finish_window(*this, name, true); }

Measurement Meter::Impl::finish_window(Meter& self, const std::string& name, bool lap) {
  {
    std::lock_guard lock(mutex);
    if (!windows.count(name)) throw InputError("window '" + name + "' is not open; call begin_window first");
  }
  self.sample_now();
  meter::WindowInput in;
  Window window;
  AttributionTarget target;
  std::optional<IdleBaseline> idle_copy;
  const auto now = SteadyClock::now();
  {
    std::lock_guard lock(mutex);
    auto it = windows.find(name);
    if (it == windows.end()) throw InputError("window '" + name + "' is not open; call begin_window first");
    window = it->second;
    in.duration_s = std::chrono::duration<double>(now - window.start).count();
    in.sensors.resize(sensors.size());
    std::vector<meter::TrackSnapshot> end = snapshots_locked();
    for (std::size_t i : sampled) {
      const meter::SensorTrack& t = tracks[i];
      auto& v = in.sensors[i];
      v.info = &sensors[i]->info();
      v.kind = t.kind();
      v.begin = window.snapshots[i];
      v.end = end[i];
      v.recent_power_w = t.recent_power_w();
      v.slow_update_period_s = t.slow_update_period_s();
      v.last_error = t.last_error();
      v.edges_only = std::find(periodic.begin(), periodic.end(), i) == periodic.end();
    }
    if (lap) {
      // The next lap begins at this lap's end reading (its CPU snapshot below).
      it->second.start = now;
      it->second.start_time = std::chrono::system_clock::now();
      it->second.snapshots = std::move(end);
    } else {
      windows.erase(it);
    }
    target = attribution;
    idle_copy = idle;
  }
  meter::CpuSnapshot cpu_end = meter::take_cpu_snapshot(options.procfs_root, target);
  std::vector<std::string> warnings = missing_required;
  in.name = name;
  in.start_time = window.start_time;
  in.choices = &choices;
  in.attribution_enabled = cpu_end.enabled;
  in.cpu_share = meter::cpu_share(window.cpu, cpu_end, name, warnings);
  in.idle = idle_copy ? &*idle_copy : nullptr;
  in.resolution = self.resolution();
  in.lap = lap;
  if (lap) {
    std::lock_guard lock(mutex);
    if (auto it = windows.find(name); it != windows.end()) it->second.cpu = std::move(cpu_end);
  }
  return meter::compose_measurement(in, std::move(warnings));
}

std::vector<Meter::SensorTotal> Meter::sensor_totals() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<SensorTotal> out(impl_->tracks.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const meter::SensorTrack& t = impl_->tracks[i];
    out[i] = {t.energy_j(), t.has_sample(), t.last_read_ok(), t.last_sample().time_s, t.failures()};
  }
  return out;
}

IdleBaseline Meter::measure_idle(double seconds) {
  if (!(seconds > 0.0) || !std::isfinite(seconds))
    throw InputError(fmt::format("idle baseline duration must be a positive number of seconds (got {})", seconds));
  const std::string name = "joulebench:idle-baseline";
  begin_window(name);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const Measurement m = end_window(name);
  IdleBaseline baseline;
  baseline.duration_s = m.duration_s;
  baseline.warnings = m.warnings;
  for (const auto& c : m.components)
    baseline.components.push_back({c.component, c.energy_j / m.duration_s, c.provenance, c.sources});
  set_idle_baseline(baseline);
  return baseline;
}

void Meter::set_idle_baseline(std::optional<IdleBaseline> baseline) {
  std::lock_guard lock(impl_->mutex);
  impl_->idle = std::move(baseline);
}

std::optional<IdleBaseline> Meter::idle_baseline() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->idle;
}

void Meter::set_attribution(AttributionTarget target) {
  std::lock_guard lock(impl_->mutex);
  impl_->attribution = target;
}

AttributionTarget Meter::attribution() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->attribution;
}

std::uint64_t Meter::samples_taken() const { return impl_->samples.load(std::memory_order_relaxed); }

double Meter::sampler_cpu_s() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (s.running && !s.stop_requested) {
    clockid_t clock{};
    if (::pthread_getcpuclockid(s.thread.native_handle(), &clock) == 0) return thread_cpu_s(clock);
  }
  return s.final_thread_cpu_s.load();
}

}  // namespace joulebench
