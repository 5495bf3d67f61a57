// NVIDIA GPUs through NVML, loaded at run time with dlopen (no CUDA needed to
// build). Per GPU: the total-energy counter (nvmlDeviceGetTotalEnergyConsumption,
// mJ, Volta and later) where it works, else power readings (nvmlDeviceGetPowerUsage,
// mW) that the meter integrates. GPUs are chosen by SensorOptions::gpus (NVML
// index or UUID) or else CUDA_VISIBLE_DEVICES. The processes on each GPU
// (nvmlDeviceGetComputeRunningProcesses) serve attribution.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sensors/backends.h"
#include "sensors/counter.h"
#include "sensors/nvml/nvml_api.h"
#include "sensors/sysfs.h"

namespace joulebench::sensors {

std::string nvml::error_text(Return code) {
  struct Entry {
    Return code;
    const char* name;
    const char* text;
  };
  static constexpr Entry kErrors[] = {
      {0, "SUCCESS", "Success"},
      {1, "UNINITIALIZED", "Uninitialized"},
      {2, "INVALID_ARGUMENT", "Invalid Argument"},
      {3, "NOT_SUPPORTED", "Not Supported"},
      {4, "NO_PERMISSION", "Insufficient Permissions"},
      {5, "ALREADY_INITIALIZED", "Already Initialized"},
      {6, "NOT_FOUND", "Not Found"},
      {7, "INSUFFICIENT_SIZE", "Insufficient Size"},
      {8, "INSUFFICIENT_POWER", "Insufficient External Power"},
      {9, "DRIVER_NOT_LOADED", "Driver Not Loaded"},
      {10, "TIMEOUT", "Timeout"},
      {11, "IRQ_ISSUE", "Interrupt request issue"},
      {12, "LIBRARY_NOT_FOUND", "NVML Shared Library Not Found"},
      {13, "FUNCTION_NOT_FOUND", "Function Not Found"},
      {14, "CORRUPTED_INFOROM", "Corrupted infoROM"},
      {15, "GPU_IS_LOST", "GPU is lost"},
      {16, "RESET_REQUIRED", "GPU requires restart"},
      {17, "OPERATING_SYSTEM", "The operating system has blocked the request"},
      {18, "LIB_RM_VERSION_MISMATCH", "RM has detected an NVML/RM version mismatch"},
      {19, "IN_USE", "In use by another client"},
      {20, "MEMORY", "Insufficient Memory"},
      {21, "NO_DATA", "No data"},
      {22, "VGPU_ECC_NOT_SUPPORTED", "Not supported when ECC is enabled"},
      {23, "INSUFFICIENT_RESOURCES", "Insufficient resources"},
      {24, "FREQ_NOT_SUPPORTED", "Frequency not supported"},
      {25, "ARGUMENT_VERSION_MISMATCH", "Argument version mismatch"},
      {26, "DEPRECATED", "Deprecated"},
      {27, "NOT_READY", "Not ready"},
      {28, "GPU_NOT_FOUND", "GPU not found"},
      {29, "INVALID_STATE", "Invalid state"},
      {999, "UNKNOWN", "Unknown Error"},
  };
  for (const auto& e : kErrors)
    if (e.code == code) return fmt::format("{} (NVML_ERROR_{} = {})", e.text, e.name, code);
  return fmt::format("unknown NVML return code {}", code);
}

namespace {

constexpr const char* kBackend = "nvml";

// The loaded library. nvmlShutdown when the last sensor goes; the library is
// not dlclose'd: NVML keeps driver threads and handles that outlive shutdown
// in some driver versions, and unmapping their code would crash the process.
class NvmlLibrary {
 public:
  static std::shared_ptr<NvmlLibrary> load(const std::string& path, std::string& error) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      error = fmt::format("{} not found: no NVIDIA driver installed (dlopen: {})", path, why ? why : "?");
      return nullptr;
    }
    auto lib = std::shared_ptr<NvmlLibrary>(new NvmlLibrary());
    auto sym = [&](const char* name) { return ::dlsym(handle, name); };
    lib->init_ = reinterpret_cast<nvml::InitFn>(sym("nvmlInit_v2"));
    lib->shutdown_ = reinterpret_cast<nvml::ShutdownFn>(sym("nvmlShutdown"));
    lib->get_count = reinterpret_cast<nvml::GetCountFn>(sym("nvmlDeviceGetCount_v2"));
    lib->get_handle = reinterpret_cast<nvml::GetHandleByIndexFn>(sym("nvmlDeviceGetHandleByIndex_v2"));
    lib->get_name = reinterpret_cast<nvml::GetStringFn>(sym("nvmlDeviceGetName"));
    lib->get_uuid = reinterpret_cast<nvml::GetStringFn>(sym("nvmlDeviceGetUUID"));
    lib->get_energy = reinterpret_cast<nvml::GetTotalEnergyFn>(sym("nvmlDeviceGetTotalEnergyConsumption"));
    lib->get_power = reinterpret_cast<nvml::GetPowerUsageFn>(sym("nvmlDeviceGetPowerUsage"));
    lib->get_processes_v2 = reinterpret_cast<nvml::GetProcessesV2Fn>(sym("nvmlDeviceGetComputeRunningProcesses_v3"));
    if (!lib->get_processes_v2)
      lib->get_processes_v2 = reinterpret_cast<nvml::GetProcessesV2Fn>(sym("nvmlDeviceGetComputeRunningProcesses_v2"));
    lib->get_processes_v1 = reinterpret_cast<nvml::GetProcessesV1Fn>(sym("nvmlDeviceGetComputeRunningProcesses"));
    for (auto [fn, name] : {std::pair<void*, const char*>{reinterpret_cast<void*>(lib->init_), "nvmlInit_v2"},
                            {reinterpret_cast<void*>(lib->shutdown_), "nvmlShutdown"},
                            {reinterpret_cast<void*>(lib->get_count), "nvmlDeviceGetCount_v2"},
                            {reinterpret_cast<void*>(lib->get_handle), "nvmlDeviceGetHandleByIndex_v2"}}) {
      if (!fn) {
        error = fmt::format("{} has no {} (driver older than NVML API 10?)", path, name);
        return nullptr;
      }
    }
    if (const nvml::Return rc = lib->init_(); rc != nvml::kSuccess) {
      error = fmt::format("nvmlInit_v2 ({}): {}", path, nvml::error_text(rc));
      return nullptr;
    }
    lib->initialised_ = true;
    return lib;
  }

  ~NvmlLibrary() {
    if (initialised_) shutdown_();
  }

  nvml::GetCountFn get_count = nullptr;
  nvml::GetHandleByIndexFn get_handle = nullptr;
  nvml::GetStringFn get_name = nullptr;
  nvml::GetStringFn get_uuid = nullptr;
  nvml::GetTotalEnergyFn get_energy = nullptr;
  nvml::GetPowerUsageFn get_power = nullptr;
  nvml::GetProcessesV2Fn get_processes_v2 = nullptr;
  nvml::GetProcessesV1Fn get_processes_v1 = nullptr;

 private:
  NvmlLibrary() = default;
  nvml::InitFn init_ = nullptr;
  nvml::ShutdownFn shutdown_ = nullptr;
  bool initialised_ = false;
};

class NvmlGpuSensor final : public Sensor {
 public:
  NvmlGpuSensor(SensorInfo info, std::shared_ptr<NvmlLibrary> lib, nvml::Device device)
      : info_(std::move(info)), lib_(std::move(lib)), device_(device), counter_(1e-3, 0, 0) {}

  const SensorInfo& info() const override { return info_; }
  SensorStatus status() const override { return {true, {}}; }

  SensorReading read() override {
    const double now = steady_now_s();
    if (info_.kind == SensorKind::energy_counter) {
      unsigned long long mj = 0;
      if (const auto rc = lib_->get_energy(device_, &mj); rc != nvml::kSuccess)
        return SensorReading::failure(info_.name + ": nvmlDeviceGetTotalEnergyConsumption: " + nvml::error_text(rc));
      double j = 0;
      if (auto error = counter_.update(info_.name, mj, now, j); !error.empty())
        return SensorReading::failure(std::move(error));
      return SensorReading::success({now, j});
    }
    unsigned int mw = 0;
    if (const auto rc = lib_->get_power(device_, &mw); rc != nvml::kSuccess)
      return SensorReading::failure(info_.name + ": nvmlDeviceGetPowerUsage: " + nvml::error_text(rc));
    return SensorReading::success({now, mw * 1e-3});
  }

  std::optional<std::vector<int>> device_process_ids() override {
    // Retry with the size NVML asks for: processes can start between calls.
    unsigned int capacity = 16;
    for (int attempt = 0; attempt < 4; ++attempt) {
      unsigned int count = capacity;
      std::vector<int> pids;
      nvml::Return rc;
      if (lib_->get_processes_v2) {
        std::vector<nvml::ProcessInfoV2> infos(capacity);
        rc = lib_->get_processes_v2(device_, &count, infos.data());
        if (rc == nvml::kSuccess)
          for (unsigned i = 0; i < count && i < capacity; ++i) pids.push_back(static_cast<int>(infos[i].pid));
      } else if (lib_->get_processes_v1) {
        std::vector<nvml::ProcessInfoV1> infos(capacity);
        rc = lib_->get_processes_v1(device_, &count, infos.data());
        if (rc == nvml::kSuccess)
          for (unsigned i = 0; i < count && i < capacity; ++i) pids.push_back(static_cast<int>(infos[i].pid));
      } else {
        return std::nullopt;
      }
      if (rc == nvml::kSuccess) return pids;
      if (rc != nvml::kErrorInsufficientSize) return std::nullopt;
      capacity = std::max(count + 16, capacity * 2);
    }
    return std::nullopt;
  }

 private:
  SensorInfo info_;
  std::shared_ptr<NvmlLibrary> lib_;
  nvml::Device device_;
  EnergyCounter counter_;  // 64-bit mJ: no wrap, backward steps are errors
};

struct Gpu {
  unsigned index = 0;
  nvml::Device device = nullptr;
  std::string name, uuid;
  std::string error;  // handle lookup failed
};

bool is_index(std::string_view s) { return !s.empty() && parse_u64(s).has_value() && s == trim(s); }

// Does `selector` (an NVML index, or a UUID or a unique prefix of one) name `gpu`?
bool selects(std::string_view selector, const Gpu& gpu) {
  if (is_index(selector)) return *parse_u64(selector) == gpu.index;
  return !selector.empty() && gpu.uuid.compare(0, selector.size(), selector) == 0;
}

// Why each GPU is not used ("" = used), and the selectors that matched none.
std::vector<std::string> choose(const std::vector<Gpu>& gpus, const SensorOptions& options,
                                std::vector<std::string>& unmatched) {
  std::vector<std::string> why(gpus.size());
  std::vector<std::string> selectors;
  std::string source;
  if (!options.gpus.empty()) {
    selectors = options.gpus;
    source = "not among the GPUs asked for (" + fmt::format("{}", fmt::join(options.gpus, ",")) + ")";
  } else if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    // CUDA's rules: comma-separated indices or UUIDs; parsing stops at the
    // first invalid entry; an empty value hides every GPU. Indices are taken
    // as NVML's (PCI bus order, = CUDA's with CUDA_DEVICE_ORDER=PCI_BUS_ID).
    source = fmt::format("hidden by CUDA_VISIBLE_DEVICES='{}'", visible);
    std::string_view rest = visible;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      if (!(is_index(item) || item.rfind("GPU-", 0) == 0 || item.rfind("MIG-", 0) == 0)) break;
      selectors.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (selectors.empty()) {
      for (auto& w : why) w = source;
      return why;
    }
  } else {
    return why;
  }
  for (auto& w : why) w = source;
  for (const auto& sel : selectors) {
    bool found = false;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      if (selects(sel, gpus[i])) {
        why[i].clear();
        found = true;
      }
    }
    if (!found) unmatched.push_back(sel);
  }
  return why;
}

SensorInfo info_for(const std::string& gpu_id, const std::string& device) {
  SensorInfo info;
  info.name = std::string(kBackend) + ":" + gpu_id;
  info.backend = kBackend;
  info.component = Component::gpu;
  info.device = device;
  info.kind = SensorKind::energy_counter;
  info.provenance = {ProvenanceKind::measured, "nvml-energy"};
  info.description = "NVIDIA GPU through NVML";
  return info;
}

// Every GPU NVML counts, with its handle, name and UUID (or why not).
std::vector<Gpu> list_gpus(NvmlLibrary& lib, unsigned count) {
  std::vector<Gpu> gpus(count);
  for (unsigned i = 0; i < count; ++i) {
    Gpu& g = gpus[i];
    g.index = i;
    if (const auto rc = lib.get_handle(i, &g.device); rc != nvml::kSuccess) {
      g.error = "nvmlDeviceGetHandleByIndex_v2: " + nvml::error_text(rc);
      continue;
    }
    char buffer[nvml::kUuidBufferSize > nvml::kNameBufferSize ? nvml::kUuidBufferSize : nvml::kNameBufferSize];
    if (lib.get_name) {
      buffer[0] = '\0';
      if (lib.get_name(g.device, buffer, nvml::kNameBufferSize) == nvml::kSuccess)
        g.name.assign(buffer, strnlen(buffer, nvml::kNameBufferSize));
    }
    if (lib.get_uuid) {
      buffer[0] = '\0';
      if (lib.get_uuid(g.device, buffer, nvml::kUuidBufferSize) == nvml::kSuccess)
        g.uuid.assign(buffer, strnlen(buffer, nvml::kUuidBufferSize));
    }
  }
  return gpus;
}

// One GPU's sensor: its energy counter where the driver and GPU have it
// (Volta and later), else its power readings, integrated by the meter; a
// first read that fails makes it unavailable with the reason.
std::unique_ptr<Sensor> gpu_sensor(SensorInfo info,
                                   const std::shared_ptr<NvmlLibrary>& lib, const Gpu& g) {
  std::string energy_problem;
  if (!lib->get_energy) {
    energy_problem = "the driver has no nvmlDeviceGetTotalEnergyConsumption";
  } else {
    unsigned long long mj = 0;
    const auto rc = lib->get_energy(g.device, &mj);
    if (rc != nvml::kSuccess) energy_problem = "nvmlDeviceGetTotalEnergyConsumption: " + nvml::error_text(rc);
  }
  if (energy_problem.empty()) {
    info.description = "total energy counter since driver load (mJ, 64-bit; no wrap) via NVML";
  } else {
    info.kind = SensorKind::power;
    info.provenance = {ProvenanceKind::sampled, "nvml-power"};
    if (!lib->get_power)
      return std::make_unique<UnavailableSensor>(std::move(info),
                                                 energy_problem + "; and the driver has no nvmlDeviceGetPowerUsage");
    info.description = fmt::format(
        "power readings (mW) via NVML integrated over time, because {}; the driver averages power over up "
        "to 1 s, so short windows are smoothed",
        energy_problem);
  }
  auto sensor = std::make_unique<NvmlGpuSensor>(std::move(info), lib, g.device);
  if (auto first = sensor->read(); !first.ok)
    return std::make_unique<UnavailableSensor>(sensor->info(),
                                               energy_problem.empty() ? first.error : energy_problem + "; " + first.error);
  return sensor;
}

}  // namespace

void discover_nvml(const SensorOptions& options, SensorList& out) {
  auto unavailable = [&](SensorInfo info, std::string why) {
    out.push_back(std::make_unique<UnavailableSensor>(std::move(info), std::move(why)));
  };
  auto no_library = [&](std::string why) {
    SensorInfo info = info_for("gpu", "");
    info.name = kBackend;
    unavailable(std::move(info), std::move(why));
  };
  std::string error;
  auto lib = NvmlLibrary::load(options.paths.nvml_library, error);
  if (!lib) return no_library(error);
  unsigned int count = 0;
  if (const auto rc = lib->get_count(&count); rc != nvml::kSuccess)
    return no_library("nvmlDeviceGetCount_v2: " + nvml::error_text(rc));
  if (count == 0) return no_library("NVML reports no NVIDIA GPU");
  if (count > 1024) count = 1024;  // a garbage count must not make us loop for ever

  const std::vector<Gpu> gpus = list_gpus(*lib, count);
  std::vector<std::string> unmatched;
  const auto why_not = choose(gpus, options, unmatched);
  for (const auto& sel : unmatched)
    unavailable(info_for("gpu-" + sel, "gpu-" + sel),
                fmt::format("no GPU with NVML index or UUID '{}' ({} GPUs found)", sel, count));
  for (const Gpu& g : gpus) {
    const std::string id = "gpu-" + std::to_string(g.index);
    std::string device = id;
    if (!g.name.empty() || !g.uuid.empty())
      device += " (" + g.name + (g.name.empty() || g.uuid.empty() ? "" : ", ") + g.uuid + ")";
    SensorInfo info = info_for(id, device);
    if (!g.error.empty()) unavailable(std::move(info), g.error);
    else if (!why_not[g.index].empty()) unavailable(std::move(info), why_not[g.index]);
    else out.push_back(gpu_sensor(std::move(info), lib, g));
  }
}

}  // namespace joulebench::sensors
