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

void discover_perf(const SensorOptions& options, const PerfSyscalls& syscalls, SensorList& out) {
  const std::string pmu = options.paths.sysfs_root + "/bus/event_source/devices/power";
  auto base_info = [](const std::string& device, const std::string& domain, Component component) {
    SensorInfo info;
    info.backend = kBackend;
    info.provenance = {ProvenanceKind::measured, kBackend};
    info.component = component;
    info.update_period_s = kRaplUpdatePeriodS;
    info.device = device;
    info.name = std::string(kBackend) + ":" + device + (domain.empty() ? "" : "/" + domain);
    return info;
  };
  auto unavailable_pmu = [&](const std::string& why) {
    auto info = base_info("", "", Component::cpu);
    info.name = kBackend;
    info.description = "RAPL energy counters through the perf power PMU";
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
  };

  std::uint64_t type = 0;
  if (!is_directory(pmu)) {
    unavailable_pmu(pmu + " does not exist (no RAPL perf PMU: not an Intel/AMD host, a kernel without the rapl "
                          "perf driver, or a VM)");
    return;
  }
  if (auto error = read_u64(pmu + "/type", type); !error.empty()) {
    unavailable_pmu(error);
    return;
  }
  std::vector<std::string> events;
  for (const auto& name : list_dir(pmu + "/events", "energy-"))
    if (name.find('.') == std::string::npos) events.push_back(name);
  if (events.empty()) {
    unavailable_pmu(pmu + "/events lists no energy-* event");
    return;
  }

  // Package -> CPU to open the events on.
  const auto topology = read_cpu_topology(options.paths.sysfs_root);
  std::map<int, int> package_of_cpu;
  for (const auto& t : topology) package_of_cpu[t.cpu] = t.package;
  std::vector<std::pair<int, int>> packages;  // {package, cpu}
  std::string cpumask;
  if (read_text(pmu + "/cpumask", cpumask) == 0) {
    const auto cpus = parse_cpu_list(cpumask);
    if (!cpus) {
      unavailable_pmu(fmt::format("{}/cpumask: cannot parse '{}'", pmu, cpumask));
      return;
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

  for (const auto& event : events) {
    const EventKind* kind = find_kind(event);
    const std::string event_path = pmu + "/events/" + event;
    std::string description, unit;
    std::uint64_t config = 0;
    std::optional<double> scale;
    std::string problem;
    if (const int err = read_text(event_path, description); err != 0) {
      problem = "cannot read " + event_path + ": " + errno_text(err);
    } else if (auto e = parse_config(pmu, description, config); !e.empty()) {
      problem = event_path + ": " + e;
    } else {
      std::string scale_text;
      if (const int err2 = read_text(event_path + ".scale", scale_text); err2 != 0) {
        problem = "cannot read " + event_path + ".scale: " + errno_text(err2);
      } else if (scale = parse_double(scale_text); !scale || *scale <= 0) {
        problem = fmt::format("{}.scale: '{}' is not a positive number", event_path, scale_text);
      } else if (read_text(event_path + ".unit", unit) == 0 && unit != "Joules") {
        problem = fmt::format("{}.unit is '{}', expected 'Joules'", event_path, unit);
      }
    }

    const bool platform = kind && kind->component == Component::psys;
    for (const auto& [package_id, cpu] : packages) {
      const std::string device = platform ? "psys" : "package-" + std::to_string(package_id);
      SensorInfo info = kind ? base_info(device, kind->domain, kind->component)
                             : base_info(device, event.substr(7), Component::other);
      const std::string what = fmt::format("power/{} on CPU {}", event, cpu);
      info.description = fmt::format("RAPL {} ({}) via perf_event_open({})", info.name.substr(10),
                                     kind ? kind->what : "unknown RAPL event", what);
      if (!problem.empty()) {
        out.push_back(std::make_unique<UnavailableSensor>(std::move(info), problem));
        if (platform) break;
        continue;
      }
      perf_event_attr attr;
      std::memset(&attr, 0, sizeof attr);
      attr.type = static_cast<std::uint32_t>(type);
      attr.size = sizeof attr;
      attr.config = config;
      const int fd = syscalls.open(attr, -1, cpu);
      if (fd < 0) {
        const int err = errno;
        std::string why;
        if (err == EACCES || err == EPERM) {
          why = permission_reason(options, what, err);
        } else if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP || err == EINVAL) {
          why = fmt::format("perf_event_open({}): {}: event not supported by this CPU or kernel", what,
                            errno_text(err));
        } else {
          why = fmt::format("perf_event_open({}): {}", what, errno_text(err));
        }
        out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
      } else {
        auto holder = std::make_shared<EventFd>(fd, syscalls.close);
        auto read = syscalls.read;
        std::vector<CounterSensor::Part> parts;
        parts.push_back({[holder, read](std::uint64_t& raw) { return read(holder->fd, raw); },
                         EnergyCounter(*scale, 0, kAssumedRaplPeakPowerW), what});
        out.push_back(CounterSensor::make(std::move(info), std::move(parts)));
      }
      if (platform) break;  // platform-wide: one event is enough
    }
  }
}

}  // namespace joulebench::sensors
