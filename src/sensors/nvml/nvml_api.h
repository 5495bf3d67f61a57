// The handful of NVML declarations joulebench uses, written out here so that
// building needs no CUDA headers; the library itself is loaded with dlopen at
// run time. Layouts and codes as in NVIDIA's nvml.h (API 11/12).
#pragma once

#include <string>

namespace joulebench::sensors::nvml {

using Return = int;  // nvmlReturn_t
using Device = struct DeviceOpaque*;  // nvmlDevice_t

inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorInsufficientSize = 7;

inline constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
inline constexpr unsigned kUuidBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE

// nvmlProcessInfo_v1_t: what the unversioned nvmlDeviceGetComputeRunningProcesses fills.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
};
// nvmlProcessInfo_t (= _v2_t): what the _v2 and _v3 entry points fill.
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using GetCountFn = Return (*)(unsigned int*);
using GetHandleByIndexFn = Return (*)(unsigned int, Device*);
using GetStringFn = Return (*)(Device, char*, unsigned int);         // GetName, GetUUID
using GetTotalEnergyFn = Return (*)(Device, unsigned long long*);    // millijoules
using GetPowerUsageFn = Return (*)(Device, unsigned int*);           // milliwatts
using GetProcessesV1Fn = Return (*)(Device, unsigned int*, ProcessInfoV1*);
using GetProcessesV2Fn = Return (*)(Device, unsigned int*, ProcessInfoV2*);

// "Not Supported (NVML_ERROR_NOT_SUPPORTED = 3)": what nvmlErrorString says, with the code.
std::string error_text(Return code);

}  // namespace joulebench::sensors::nvml
