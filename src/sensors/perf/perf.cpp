// RAPL through the perf `power` PMU, for hosts where powercap is root-only
// but perf is allowed (CAP_PERFMON, or kernel.perf_event_paranoid <= 0):
//   /sys/bus/event_source/devices/power/type                 PMU type for perf_event_attr
//   .../power/events/energy-pkg        "event=0x02"          -> attr.config (through .../format/event)
//   .../power/events/energy-pkg.scale  "2.3283064365386962890625e-10"  joules per count
//   .../power/events/energy-pkg.unit   "Joules"
// One system-wide event (pid -1) per package, on the CPUs in .../power/cpumask
// (else the first CPU of each package from the sysfs topology). The kernel
// keeps 64-bit counts, so there is no wrap to handle here.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/sysfs.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "rapl-perf";

struct EventKind {
  const char* event;
  const char* domain;  // "" for the package itself
  Component component;
  const char* what;
};
constexpr EventKind kEvents[] = {
    {"energy-pkg", "", Component::cpu, "whole socket"},
    {"energy-cores", "core", Component::core, "CPU cores only"},
    {"energy-gpu", "uncore", Component::uncore, "integrated GPU / uncore"},
    {"energy-ram", "dram", Component::dram, "memory attached to the socket"},
    {"energy-psys", "", Component::psys, "whole platform"},
};

const EventKind* find_kind(const std::string& event) {
  for (const auto& k : kEvents)
    if (event == k.event) return &k;
  return nullptr;
}

// "event=0x02" (terms key=value, comma-separated) -> config bits, placed by
// the PMU's format files ("config:0-7"). Returns "" or an error.
std::string parse_config(const std::string& pmu, const std::string& text, std::uint64_t& config) {
  config = 0;
  std::string_view rest = trim(text);
  if (rest.empty()) return "empty event description";
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto term = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = term.find('=');
    const std::string key(trim(term.substr(0, eq)));
    const auto value = eq == std::string_view::npos ? std::optional<std::uint64_t>(1)
                                                    : parse_u64_any_base(term.substr(eq + 1));
    if (key.empty() || !value) return fmt::format("cannot parse term '{}'", term);
    // Bit range of the term inside attr.config; the rapl PMU has only "event", config:0-7.
    unsigned lo = 0, hi = 63;
    std::string format;
    if (read_text(pmu + "/format/" + key, format) == 0) {
      if (format.rfind("config:", 0) != 0) return fmt::format("format of '{}' is '{}', not config bits", key, format);
      const auto bits = std::string_view(format).substr(7);
      const auto dash = bits.find('-');
      const auto l = parse_u64(bits.substr(0, dash));
      const auto h = dash == std::string_view::npos ? l : parse_u64(bits.substr(dash + 1));
      if (!l || !h || *h < *l || *h > 63) return fmt::format("bad format '{}' for '{}'", format, key);
      lo = static_cast<unsigned>(*l);
      hi = static_cast<unsigned>(*h);
    } else if (key != "event") {
      return fmt::format("unknown term '{}' (no {}/format/{})", key, pmu, key);
    }
    const unsigned width = hi - lo + 1;
    if (width < 64 && (*value >> width) != 0) return fmt::format("value of '{}' does not fit its bits", term);
    config |= *value << lo;
  }
  return {};
}

std::string permission_reason(const SensorOptions& options, const std::string& what, int err) {
  std::string paranoid;
  const bool have = read_text(options.paths.procfs_root + "/sys/kernel/perf_event_paranoid", paranoid) == 0;
  return fmt::format(
      "perf_event_open({}): {}: system-wide perf events need root, CAP_PERFMON, or kernel.perf_event_paranoid "
      "<= 0 (it is {}): `sysctl -w kernel.perf_event_paranoid=0`, or use rapl-powercap as root",
      what, errno_text(err), have ? paranoid : std::string("unknown"));
}

// Closes the event when the last sensor using it goes.
struct EventFd {
  EventFd(int f, std::function<void(int)> c) : fd(f), close(std::move(c)) {}
  ~EventFd() {
    if (close) close(fd);
  }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd;
  std::function<void(int)> close;
};

}  // namespace

PerfSyscalls PerfSyscalls::system() {
  PerfSyscalls s;
  s.open = [](perf_event_attr& attr, int pid, int cpu) {
    return static_cast<int>(::syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  };
  s.read = [](int fd, std::uint64_t& count) -> std::string {
    ssize_t n;
    do {
      n = ::read(fd, &count, sizeof count);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof count)) return {};
    return fmt::format("read of perf event fd {}: {}", fd, n < 0 ? errno_text(errno) : "short read");
  };
  s.close = [](int fd) { ::close(fd); };
  return s;
}

void discover_perf(const SensorOptions& options, SensorList& out) {
  discover_perf(options, PerfSyscalls::system(), out);
}

namespace {

// The PMU's energy-* events, or why there are none.
struct Pmu {
  std::uint64_t type = 0;
  std::vector<std::string> events;
  std::string why_not;
};

Pmu read_pmu(const std::string& pmu) {
  Pmu p;
  if (!is_directory(pmu)) {
    p.why_not = pmu + " does not exist (no RAPL perf PMU: not an Intel/AMD host, a kernel without the rapl perf "
                      "driver, or a VM)";
    return p;
  }
  if (auto error = read_u64(pmu + "/type", p.type); !error.empty()) {
    p.why_not = error;
    return p;
  }
  for (const auto& name : list_dir(pmu + "/events", "energy-"))
    if (name.find('.') == std::string::npos) p.events.push_back(name);
  if (p.events.empty()) p.why_not = pmu + "/events lists no energy-* event";
  return p;
}

// {package, cpu}: the CPU to open each package's events on (the PMU's
// cpumask, else the first CPU of each package). Empty with `why_not` set
// when the cpumask cannot be read as a list.
std::vector<std::pair<int, int>> package_cpus(const std::string& pmu, const std::string& sysfs_root,
                                              std::string& why_not) {
  const auto topology = read_cpu_topology(sysfs_root);
  std::map<int, int> package_of_cpu;
  for (const auto& t : topology) package_of_cpu[t.cpu] = t.package;
  std::vector<std::pair<int, int>> packages;
  std::string cpumask;
  if (read_text(pmu + "/cpumask", cpumask) == 0) {
    const auto cpus = parse_cpu_list(cpumask);
    if (!cpus) {
      why_not = fmt::format("{}/cpumask: cannot parse '{}'", pmu, cpumask);
      return {};
    }
    for (std::size_t i = 0; i < cpus->size(); ++i) {
      const int cpu = (*cpus)[i];
      const auto it = package_of_cpu.find(cpu);
      packages.emplace_back(it != package_of_cpu.end() ? it->second : static_cast<int>(i), cpu);
    }
  } else {
    packages = first_cpu_per_package(topology);
  }
  if (packages.empty()) packages.emplace_back(0, 0);
  return packages;
}

// An event's config, scale and unit from sysfs; `problem` says what is wrong.
struct EventSpec {
  std::uint64_t config = 0;
  double scale = 0.0;
  std::string problem;
};

EventSpec read_event(const std::string& pmu, const std::string& event) {
  EventSpec spec;
  const std::string event_path = pmu + "/events/" + event;
  std::string description, unit, scale_text;
  if (const int err = read_text(event_path, description); err != 0) {
    spec.problem = "cannot read " + event_path + ": " + errno_text(err);
  } else if (auto e = parse_config(pmu, description, spec.config); !e.empty()) {
    spec.problem = event_path + ": " + e;
  } else if (const int err2 = read_text(event_path + ".scale", scale_text); err2 != 0) {
    spec.problem = "cannot read " + event_path + ".scale: " + errno_text(err2);
  } else if (auto scale = parse_double(scale_text); !scale || *scale <= 0) {
    spec.problem = fmt::format("{}.scale: '{}' is not a positive number", event_path, scale_text);
  } else {
    spec.scale = *scale;
    if (read_text(event_path + ".unit", unit) == 0 && unit != "Joules")
      spec.problem = fmt::format("{}.unit is '{}', expected 'Joules'", event_path, unit);
  }
  return spec;
}

// One event on one CPU: a counter sensor, or why not (permission, support).
std::unique_ptr<Sensor> open_event(SensorInfo info, const EventSpec& spec, std::uint64_t type, int cpu, const std::string& what,
                     const SensorOptions& options, const PerfSyscalls& syscalls) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.type = static_cast<std::uint32_t>(type);
  attr.size = sizeof attr;
  attr.config = spec.config;
  const int fd = syscalls.open(attr, -1, cpu);
  if (fd < 0) {
    const int err = errno;
    std::string why;
    if (err == EACCES || err == EPERM)
      why = permission_reason(options, what, err);
    else if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP || err == EINVAL)
      why = fmt::format("perf_event_open({}): {}: event not supported by this CPU or kernel", what, errno_text(err));
    else
      why = fmt::format("perf_event_open({}): {}", what, errno_text(err));
    return std::make_unique<UnavailableSensor>(std::move(info), why);
  }
  auto holder = std::make_shared<EventFd>(fd, syscalls.close);
  auto read = syscalls.read;
  std::vector<CounterSensor::Part> parts;
  parts.push_back({[holder, read](std::uint64_t& raw) { return read(holder->fd, raw); },
                   EnergyCounter(spec.scale, 0, kAssumedRaplPeakPowerW), what});
  return CounterSensor::make(std::move(info), std::move(parts));
}

}  // namespace

void discover_perf(const SensorOptions& options, const PerfSyscalls& syscalls, SensorList& out) {
  const std::string pmu = options.paths.sysfs_root + "/bus/event_source/devices/power";
  auto unavailable_pmu = [&](const std::string& why) {
    auto info = rapl_sensor_info(kBackend, "", "", Component::cpu);
    info.name = kBackend;
    info.description = "RAPL energy counters through the perf power PMU";
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
  };
  const Pmu found = read_pmu(pmu);
  if (!found.why_not.empty()) return unavailable_pmu(found.why_not);
  std::string why_not;
  const auto packages = package_cpus(pmu, options.paths.sysfs_root, why_not);
  if (!why_not.empty()) return unavailable_pmu(why_not);

  for (const auto& event : found.events) {
    const EventKind* kind = find_kind(event);
    const EventSpec spec = read_event(pmu, event);
    const bool platform = kind && kind->component == Component::psys;
    for (const auto& [package_id, cpu] : packages) {
      const std::string device = platform ? "psys" : "package-" + std::to_string(package_id);
      SensorInfo info = kind ? rapl_sensor_info(kBackend, device, kind->domain, kind->component)
                             : rapl_sensor_info(kBackend, device, event.substr(7), Component::other);
      const std::string what = fmt::format("power/{} on CPU {}", event, cpu);
      info.description = fmt::format("RAPL {} ({}) via perf_event_open({})", info.name.substr(10),
                                     kind ? kind->what : "unknown RAPL event", what);
      if (!spec.problem.empty())
        out.push_back(std::make_unique<UnavailableSensor>(std::move(info), spec.problem));
      else
        out.push_back(open_event(std::move(info), spec, found.type, cpu, what, options, syscalls));
      if (platform) break;  // platform-wide: one event is enough
    }
  }
}

}  // namespace joulebench::sensors
