// What a run record needs besides the measurements: ids, times, the machine, the user.
#include <fmt/format.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>

#include "core/procfs.h"
#include "joulebench/store.h"
#include "joulebench/version.h"

namespace joulebench {

std::string_view to_string(RunKind k) {
  switch (k) {
    case RunKind::measure: return "measure";
    case RunKind::bench: return "bench";
    case RunKind::import: return "import";
  }
  return "unknown";
}

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::complete: return "complete";
    case RunStatus::failed: return "failed";
    case RunStatus::interrupted: return "interrupted";
  }
  return "unknown";
}

std::optional<RunKind> run_kind_from_string(std::string_view s) {
  for (auto k : {RunKind::measure, RunKind::bench, RunKind::import})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::optional<RunStatus> run_status_from_string(std::string_view s) {
  for (auto k : {RunStatus::running, RunStatus::complete, RunStatus::failed, RunStatus::interrupted})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::string make_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          static_cast<std::uint64_t>(std::time(nullptr)) ^
                                          static_cast<std::uint64_t>(::getpid()) << 32};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFULL);
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text) {
  // YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|+00:00]
  int y, mo, d, h, mi;
  double s;
  char sep;
  std::string t(text);
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%n", &y, &mo, &d, &sep, &h, &mi, &s, &consumed) != 7 ||
      (sep != 'T' && sep != ' '))
    return std::nullopt;
  std::string rest = t.substr(static_cast<std::size_t>(consumed));
  int offset_min = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    offset_min = (std::atoi(rest.substr(1, 2).c_str()) * 60 + std::atoi(rest.substr(4, 2).c_str())) *
                 (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s < 0 || s >= 61) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  const std::time_t secs = timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(secs) +
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s)) -
            std::chrono::minutes(offset_min);
  return tp;
}

MachineInfo detect_machine(const std::string& procfs_root) {
  MachineInfo m;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) m.hostname = host;
  struct utsname u {};
  if (::uname(&u) == 0) m.os = fmt::format("{}-{}-{}", u.sysname, u.release, u.machine);
  try {
    const auto cpu = procfs::read_cpuinfo(procfs_root);
    m.cpu_model = cpu.model_name;
    m.cpu_count = cpu.logical_cpus;
  } catch (const std::exception&) {
  }
  try {
    const auto mem = procfs::read_meminfo(procfs_root);
    m.ram_total_gb = static_cast<double>(mem.total_bytes) / (1024.0 * 1024.0 * 1024.0);  // GiB, as CodeCarbon
  } catch (const std::exception&) {
  }
  return m;
}

std::string current_user() {
  for (const char* var : {"USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return {};
}

RunRecord measured_run_record(const Measurement& m, const CarbonSettings& settings, std::optional<double> g_co2e,
                              const MeasuredRunInfo& info) {
  RunRecord run;
  run.kind = RunKind::measure;
  run.status = RunStatus::complete;
  run.started_at = m.start_time;
  run.ended_at = m.start_time + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                    std::chrono::duration<double>(m.duration_s));
  run.user = current_user();
  run.machine = detect_machine(info.procfs_root);
  run.software["joulebench"] = JOULEBENCH_VERSION;
  run.intensity = settings.intensity;
  run.pue = settings.pue.value;
  run.pue_source = settings.pue.source;
  run.config_json = info.config_json;
  run.source = info.source;
  run.project = info.project;
  run.note = info.note;
  WindowRecord w;
  w.measurement = m;
  w.task = info.task;
  w.model = info.model;
  w.phase = info.inferences ? "inference" : "whole";
  w.inferences = info.inferences;
  w.g_co2e = g_co2e;
  run.windows.push_back(std::move(w));
  return run;
}

}  // namespace joulebench
