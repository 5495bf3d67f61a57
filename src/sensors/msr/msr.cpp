// RAPL through the MSR device: pread(8 bytes) at the register address on
// <dev>/cpu/N/msr, for one CPU of each package (topology from sysfs).
//   Intel: units 0x606 (energy status units, bits 12:8), package 0x611,
//          DRAM 0x619, PP0 (cores) 0x639.
//   AMD Zen (family >= 0x17): units 0xC0010299, package 0xC001029B,
//          core 0xC001029A (per core: summed over the package's cores).
// Energy status registers are 32-bit counters: masked, then wrapped at 2^32.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "core/procfs.h"
#include "joulebench/error.h"
#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/sysfs.h"

namespace joulebench::sensors {
namespace {

constexpr const char* kBackend = "rapl-msr";
constexpr std::uint64_t kCounterRange = 1ull << 32;

struct Registers {
  std::uint32_t units;
  std::uint32_t package;
  std::uint32_t dram;  // 0 = none
  std::uint32_t core;
  bool core_per_core;  // AMD: one counter per core, not per package
};
constexpr Registers kIntel{0x606, 0x611, 0x619, 0x639, false};
constexpr Registers kAmd{0xC0010299, 0xC001029B, 0, 0xC001029A, true};

// Intel server parts whose DRAM domain counts in fixed 2^-16 J units whatever
// 0x606 says (as Linux's intel_rapl_common does for them): Haswell-X,
// Broadwell-X/-D, Skylake/Cascade Lake-X, Xeon Phi, Ice Lake-X/-D, Sapphire
// and Emerald Rapids, Granite Rapids, Sierra Forest.
bool intel_fixed_dram_unit(int family, int model) {
  if (family != 6) return false;
  for (int m : {63, 79, 86, 85, 87, 133, 106, 108, 143, 207, 173, 174, 175})
    if (model == m) return true;
  return false;
}

// One open msr device file, shared by the sensors of that CPU.
class MsrFile {
 public:
  explicit MsrFile(std::string path) : path_(std::move(path)) {}
  ~MsrFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MsrFile(const MsrFile&) = delete;
  MsrFile& operator=(const MsrFile&) = delete;
  const std::string& path() const { return path_; }

  int open() {
    if (fd_ >= 0) return 0;
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    return fd_ < 0 ? errno : 0;
  }

  // "" and the register's 64 bits, or an error message naming file and register.
  std::string read(std::uint32_t reg, std::uint64_t& value) {
    if (const int err = open(); err != 0) return open_error(err);
    std::uint64_t v = 0;
    ssize_t n;
    do {
      n = ::pread(fd_, &v, sizeof v, static_cast<off_t>(reg));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EIO) return fmt::format("{}: register {:#x} cannot be read (EIO: not implemented by this CPU "
                                           "or hidden by the hypervisor)", path_, reg);
      return fmt::format("{}: reading register {:#x}: {}", path_, reg, errno_text(errno));
    }
    if (n != static_cast<ssize_t>(sizeof v))
      return fmt::format("{}: register {:#x}: short read ({} of 8 bytes)", path_, reg, n);
    value = v;  // the msr driver gives the register in host (little-endian x86) order
    return {};
  }

  std::string open_error(int err) const {
    if (err == EACCES || err == EPERM)
      return path_ + " is readable by root only (needs CAP_SYS_RAWIO); run as root, or use the powercap "
                     "(rapl-powercap) or perf (rapl-perf) backend";
    if (err == ENOENT || err == ENXIO || err == ENODEV)
      return path_ + " does not exist: load the msr module (`modprobe msr`, as root)";
    return "cannot open " + path_ + ": " + errno_text(err);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

SensorInfo make_info(const std::string& package, const std::string& domain, Component component,
                     const std::string& what) {
  SensorInfo info = rapl_sensor_info(kBackend, package, domain, component);
  info.description = what;
  return info;
}

RawReader register_reader(std::shared_ptr<MsrFile> file, std::uint32_t reg) {
  return [file = std::move(file), reg](std::uint64_t& raw) {
    std::uint64_t v = 0;
    auto error = file->read(reg, v);
    if (error.empty()) raw = v & 0xFFFFFFFFull;  // bits 31:0 are the counter
    return error;
  };
}

// The RAPL registers of this CPU's vendor: Intel, or AMD (and Hygon) Zen
// and later; nullptr for any other.
const Registers* registers_for(const procfs::CpuInfo& cpu) {
  if (cpu.vendor == "GenuineIntel") return &kIntel;
  if ((cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine") && cpu.family >= 0x17) return &kAmd;
  return nullptr;
}

}  // namespace

void discover_msr(const SensorOptions& options, SensorList& out) {
  const auto& paths = options.paths;
  auto unavailable = [&](const std::string& why) {
    auto info = make_info("", "", Component::cpu, "RAPL energy counters read from model-specific registers");
    info.name = kBackend;
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), why));
  };

  procfs::CpuInfo cpu;
  try {
    cpu = procfs::read_cpuinfo(paths.procfs_root);
  } catch (const Error& e) {
    return unavailable(e.what());
  }
  const Registers* known = registers_for(cpu);
  if (!known)
    return unavailable(fmt::format("no RAPL MSRs known for vendor '{}' family {} (Intel, or AMD Zen and later, only)",
                                   cpu.vendor, cpu.family));
  const Registers& regs = *known;

  auto topology = read_cpu_topology(paths.sysfs_root);
  if (topology.empty()) topology.push_back({0, 0, 0});  // no sysfs topology: one package, CPU 0
  std::map<int, std::shared_ptr<MsrFile>> files;
  auto file_for = [&](int cpu_number) {
    auto& f = files[cpu_number];
    if (!f) f = std::make_shared<MsrFile>(paths.dev_root + "/cpu/" + std::to_string(cpu_number) + "/msr");
    return f;
  };

  for (const auto& [package_id, first_cpu] : first_cpu_per_package(topology)) {
    const std::string package = "package-" + std::to_string(package_id);
    auto file = file_for(first_cpu);
    std::uint64_t units_raw = 0;
    if (auto error = file->read(regs.units, units_raw); !error.empty()) {
      out.push_back(std::make_unique<UnavailableSensor>(
          make_info(package, "", Component::cpu, "RAPL package energy (MSR)"), error));
      continue;
    }
    const unsigned esu = static_cast<unsigned>((units_raw >> 8) & 0x1F);
    const double unit_j = 1.0 / static_cast<double>(1ull << esu);
    const std::string unit_text = fmt::format("energy unit 2^-{} J (register {:#x} of {})", esu, regs.units,
                                              file->path());

    auto add = [&](const std::string& domain, Component component, const std::string& what,
                   std::vector<CounterSensor::Part> parts) {
      const double range_j = static_cast<double>(kCounterRange) * parts.front().counter.joules_per_unit();
      auto info = make_info(package, domain, component,
                            fmt::format("RAPL {} ({}) from MSRs; {}; 32-bit counter wraps at {:.0f} J, at most "
                                        "one wrap between reads assumed at <= {:.0f} W",
                                        domain.empty() ? package : package + "/" + domain, what, unit_text,
                                        range_j, kAssumedRaplPeakPowerW));
      out.push_back(CounterSensor::make(std::move(info), std::move(parts)));
    };
    auto part = [&](std::shared_ptr<MsrFile> f, std::uint32_t reg, double joules_per_unit) {
      const std::string source = fmt::format("{} register {:#x}", f->path(), reg);
      return CounterSensor::Part{register_reader(std::move(f), reg),
                                 EnergyCounter(joules_per_unit, kCounterRange, kAssumedRaplPeakPowerW), source};
    };

    add("", Component::cpu, "whole socket", {part(file, regs.package, unit_j)});
    if (regs.dram != 0) {
      const double dram_unit = intel_fixed_dram_unit(cpu.family, cpu.model) ? 1.0 / 65536.0 : unit_j;
      add("dram", Component::dram, "memory attached to the socket", {part(file, regs.dram, dram_unit)});
    }
    std::vector<CounterSensor::Part> core_parts;
    if (regs.core_per_core) {
      std::map<int, int> first_thread_of_core;
      for (const auto& t : topology)
        if (t.package == package_id) first_thread_of_core.try_emplace(t.core, t.cpu);
      for (const auto& [core, thread] : first_thread_of_core)
        core_parts.push_back(part(file_for(thread), regs.core, unit_j));
    } else {
      core_parts.push_back(part(file, regs.core, unit_j));
    }
    add("core", Component::core, regs.core_per_core ? "CPU cores, per-core counters summed" : "CPU cores (PP0)",
        std::move(core_parts));
  }
}

}  // namespace joulebench::sensors
