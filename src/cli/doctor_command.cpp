// joulebench doctor [--json]: what on this machine stands between its user and
// honest measurements or fast inference, each with what to do about it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/sensor.h"
#include "json_text.h"
#include "sensor_options.h"

namespace joulebench::cli {
namespace {

struct Check {
  std::string name;
  std::string status;  // "ok", "warn", "fail"
  std::string detail;
  std::string fix;     // "" when nothing to do
};

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// OpenBLAS's generic kernels: a modern CPU on one of them runs 5-6x slower.
bool generic_openblas_core(const std::string& core) {
  for (const char* g : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                        "Northwood", "Banias", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat"})
    if (core == g) return true;
  return false;
}

std::vector<Check> sensor_checks(const SensorOptions& options) {
  std::vector<Check> out;
  const SensorList sensors = discover_sensors(options);
  // Per component: the best provenance available.
  struct Best {
    ProvenanceKind kind = ProvenanceKind::estimated;
    bool any = false;
    std::string name;
  };
  std::map<Component, Best> best;
  std::vector<std::string> stuck, unavailable;
  for (const auto& s : sensors) {
    const SensorInfo& info = s->info();
    const SensorStatus st = s->status();
    if (!st.available) {
      (st.reason.rfind("stuck:", 0) == 0 ? stuck : unavailable).push_back(info.name + ": " + st.reason);
      continue;
    }
    Best& b = best[info.component];
    if (!b.any || info.provenance.kind < b.kind) b = {info.provenance.kind, true, info.name};
  }
  for (Component c : {Component::cpu, Component::dram, Component::gpu}) {
    const std::string name = fmt::format("energy source: {}", to_string(c));
    const auto it = best.find(c);
    if (it == best.end()) {
      out.push_back({name, c == Component::cpu ? "fail" : "ok",
                     c == Component::gpu ? "no GPU energy source (no NVIDIA driver or amdgpu hwmon found)"
                                         : "no source at all",
                     c == Component::cpu ? "see the unavailable sources below" : ""});
      continue;
    }
    const Best& b = it->second;
    if (b.kind == ProvenanceKind::estimated)
      out.push_back({name, "warn", fmt::format("only estimated ({}): no hardware counter can be read", b.name),
                     "make one of the counters below readable (their reasons say how)"});
    else
      out.push_back({name, "ok", fmt::format("{} ({})", to_string(b.kind), b.name), ""});
  }
  if (!stuck.empty())
    out.push_back({"stuck counters", "warn", fmt::format("{}", fmt::join(stuck, "; ")),
                   "nothing on this host (a hypervisor that exposes counters it never updates); joulebench does not "
                   "use them"});
  else
    out.push_back({"stuck counters", "ok", "none of the readable counters stands still", ""});
  if (!unavailable.empty())
    out.push_back({"unavailable sources", "ok", fmt::format("{}", fmt::join(unavailable, "; ")),
                   "each reason says what would make it readable"});
  return out;
}

std::vector<Check> system_checks(const SensorOptions& options) {
  std::vector<Check> out;
  const std::string paranoid = first_line_of(options.paths.procfs_root + "/sys/kernel/perf_event_paranoid");
  if (paranoid.empty())
    out.push_back({"perf_event_paranoid", "ok", "not exposed", ""});
  else if (std::atoi(paranoid.c_str()) <= 0 || ::geteuid() == 0)
    out.push_back({"perf_event_paranoid", "ok",
                   fmt::format("{}{}: system-wide perf power events allowed", paranoid,
                               ::geteuid() == 0 ? " (running as root)" : ""),
                   ""});
  else
    out.push_back({"perf_event_paranoid", "warn",
                   fmt::format("{}: a user cannot open the perf power (RAPL) events", paranoid),
                   "sudo sysctl kernel.perf_event_paranoid=0 (or run as root, or give CAP_PERFMON)"});
  const std::string governor =
      first_line_of(options.paths.sysfs_root + "/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (governor.empty())
    out.push_back({"CPU frequency governor", "ok", "not exposed (a VM, or no cpufreq driver)", ""});
  else if (governor == "performance")
    out.push_back({"CPU frequency governor", "ok", governor, ""});
  else
    out.push_back({"CPU frequency governor", "warn",
                   fmt::format("{}: the clock follows the load, so energy per inference varies run to run", governor),
                   "for benchmarks: sudo cpupower frequency-set -g performance"});
  const unsigned cores = std::thread::hardware_concurrency();
  const char* omp = std::getenv("OMP_NUM_THREADS");
  if (omp && std::atoi(omp) > static_cast<int>(cores))
    out.push_back({"threads", "warn", fmt::format("OMP_NUM_THREADS={} is more than the {} CPUs", omp, cores),
                   fmt::format("unset OMP_NUM_THREADS or set it to at most {}", cores)});
  else
    out.push_back({"threads", "ok",
                   fmt::format("{} CPUs{}", cores, omp ? fmt::format(", OMP_NUM_THREADS={}", omp) : std::string()),
                   ""});
  return out;
}

}  // namespace

void register_doctor_command(CommandRegistry& registry) {
  struct Args {
    bool json = false;
    SensorOptions sensors;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "doctor", "check this machine for honest measurement and fast inference: each check with what to do");
  if (!registry.wanted(sub)) return;
  sub->add_flag("--json", args->json, "{checks: [{name, status, detail, fix}], blas: {...}} on stdout (docs/cli.md)");
  add_sensor_options(*sub, args->sensors);
  registry.add(sub, [args] {
    std::vector<Check> checks = sensor_checks(args->sensors);
    for (auto& c : system_checks(args->sensors)) checks.push_back(std::move(c));
    nlohmann::json blas = {{"library", nullptr}, {"version", nullptr}, {"core", nullptr}, {"chosen_by", nullptr}};
    try {
      const RuntimeInfo rt = zoo_runtime_info();
      checks.push_back({"libtorch", "ok",
                        fmt::format("{}; {} intra-op threads; CUDA {}", rt.torch_version, rt.intra_op_threads,
                                    rt.cuda_available ? fmt::format("available ({} device(s))", rt.cuda_devices)
                                                      : "not available"),
                        ""});
      if (rt.blas_core.empty()) {
        checks.push_back({"BLAS", "warn", "libtorch's BLAS is not OpenBLAS (its kernel cannot be checked)",
                          "install libopenblas0-pthread and select it: update-alternatives --set "
                          "libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"});
      } else {
        const bool generic = generic_openblas_core(rt.blas_core);
        checks.push_back({"BLAS", generic ? "fail" : "ok",
                          fmt::format("OpenBLAS kernel {} (chosen by {})", rt.blas_core, rt.blas_core_chosen_by),
                          generic ? "a generic kernel: matrix products 5-6x slower than this CPU allows; set "
                                    "OPENBLAS_CORETYPE (Haswell or Zen with AVX2, SkylakeX with AVX-512)"
                                  : ""});
        std::string version;
        if (rt.blas_library.rfind("OpenBLAS ", 0) == 0) version = rt.blas_library.substr(9, rt.blas_library.find(' ', 9) - 9);
        blas = {{"library", rt.blas_library},
                {"version", version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version)},
                {"core", rt.blas_core},
                {"chosen_by", rt.blas_core_chosen_by}};
      }
    } catch (const std::exception& e) {
      checks.push_back({"libtorch", "warn", fmt::format("the model zoo cannot be loaded: {}", e.what()),
                        "build with libtorch-dev installed (scripts/setup.sh deps)"});
    }
    bool failed = false;
    for (const auto& c : checks) failed = failed || c.status == "fail";
    if (args->json) {
      auto arr = nlohmann::json::array();
      for (const auto& c : checks)
        arr.push_back({{"name", c.name}, {"status", c.status}, {"detail", c.detail},
                       {"fix", c.fix.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.fix)}});
      fmt::print("{}", json_text(nlohmann::json{{"checks", arr}, {"blas", blas}}));
    } else {
      for (const auto& c : checks) {
        fmt::print("{:<5} {}: {}\n", c.status, c.name, c.detail);
        if (!c.fix.empty()) fmt::print("      fix: {}\n", c.fix);
      }
    }
    return exit_status(failed ? ExitCode::failure : ExitCode::ok);
  });
}

}  // namespace joulebench::cli
