// NVML through a fake libnvidia-ml built in this test tree (fake_nvml.c):
// the real dlopen/dlsym path, scripted counters, and a variant without the
// energy call.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "../support/fake_tree.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

class Nvml : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) saved_visible_ = v;
    ::unsetenv("CUDA_VISIBLE_DEVICES");
    ::setenv("FAKE_NVML_SCRIPT", tree_.path("nvml-script").c_str(), 1);
  }
  void TearDown() override {
    if (saved_visible_) ::setenv("CUDA_VISIBLE_DEVICES", saved_visible_->c_str(), 1);
    else ::unsetenv("CUDA_VISIBLE_DEVICES");
    ::unsetenv("FAKE_NVML_SCRIPT");
  }
  void script(const std::string& text) { tree_.write("nvml-script", text); }
  SensorList discover(const char* library = FAKE_NVML_PATH, std::vector<std::string> gpus = {}) {
    auto options = tree_.options();
    options.paths.nvml_library = library;
    options.gpus = std::move(gpus);
    SensorList out;
    sensors::discover_nvml(options, out);
    return out;
  }
  static std::string two_gpus() {
    return "count 2\n"
           "0.name NVIDIA A100-SXM4-40GB\n0.uuid GPU-aaaa1111\n0.energy_mj 5000000\n0.power_mw 250000\n"
           "0.pids 100 200\n"
           "1.name Tesla V100-PCIE-16GB\n1.uuid GPU-bbbb2222\n1.energy_mj 7000\n1.power_mw 70500\n1.pids\n";
  }

  FakeTree tree_;
  std::optional<std::string> saved_visible_;
};

int fake_counter(const char* library, const char* symbol) {
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return -1;
  auto fn = reinterpret_cast<int (*)()>(::dlsym(handle, symbol));
  const int v = fn ? fn() : -1;
  ::dlclose(handle);
  return v;
}

TEST_F(Nvml, EnergyCountersPerGpu) {
  script(two_gpus());
  {
    auto list = discover();
    ASSERT_EQ(list.size(), 2u);
    Sensor& g0 = *find_sensor_mut(list, "nvml:gpu-0");
    Sensor& g1 = *find_sensor_mut(list, "nvml:gpu-1");
    for (Sensor* s : {&g0, &g1}) {
      EXPECT_TRUE(s->status().available) << s->status().reason;
      EXPECT_EQ(s->info().component, Component::gpu);
      EXPECT_EQ(s->info().kind, SensorKind::energy_counter);
      EXPECT_EQ(s->info().provenance.to_string(), "measured:nvml-energy");
    }
    EXPECT_EQ(g0.info().device, "gpu-0 (NVIDIA A100-SXM4-40GB, GPU-aaaa1111)");
    const double a0 = g0.read().sample.value, a1 = g1.read().sample.value;
    script(two_gpus() + "0.energy_mj 5012345\n1.energy_mj 9000\n");  // later lines win
    const auto b0 = g0.read(), b1 = g1.read();
    ASSERT_TRUE(b0.ok && b1.ok) << b0.error << b1.error;
    EXPECT_NEAR(b0.sample.value - a0, 12.345, 1e-9);
    EXPECT_NEAR(b1.sample.value - a1, 2.0, 1e-9);

    EXPECT_EQ(g0.device_process_ids(), (std::vector<int>{100, 200}));
    EXPECT_EQ(g1.device_process_ids(), std::vector<int>{});
    // More processes than the first buffer holds: the size NVML asks for is used.
    std::string many = "0.pids";
    for (int p = 1000; p < 1040; ++p) {
      many += ' ';
      many += std::to_string(p);
    }
    script(two_gpus() + many + "\n");
    const auto pids = g0.device_process_ids();
    ASSERT_TRUE(pids);
    EXPECT_EQ(pids->size(), 40u);
    EXPECT_EQ(pids->back(), 1039);

    // A lost GPU mid-run: a read error with NVML's words, not a zero.
    script(two_gpus() + "0.energy_rc 15\n");
    const auto lost = g0.read();
    EXPECT_FALSE(lost.ok);
    EXPECT_NE(lost.error.find("GPU is lost"), std::string::npos) << lost.error;
    // A counter going backwards: error.
    script(two_gpus() + "1.energy_mj 10\n");
    EXPECT_FALSE(g1.read().ok);
    EXPECT_GE(fake_counter(FAKE_NVML_PATH, "fake_nvml_init_calls"), 1);
  }
  // Every successful init is matched by a shutdown once the sensors are gone.
  EXPECT_EQ(fake_counter(FAKE_NVML_PATH, "fake_nvml_init_calls"),
            fake_counter(FAKE_NVML_PATH, "fake_nvml_shutdown_calls"));
}

TEST_F(Nvml, GpuWithoutEnergySupportFallsBackToPower) {
  script(two_gpus() + "1.energy_rc 3\n");  // pre-Volta GPU: NOT_SUPPORTED
  auto list = discover();
  Sensor& g1 = *find_sensor_mut(list, "nvml:gpu-1");
  ASSERT_TRUE(g1.status().available) << g1.status().reason;
  EXPECT_EQ(g1.info().kind, SensorKind::power);
  EXPECT_EQ(g1.info().provenance.to_string(), "sampled:nvml-power");
  EXPECT_NE(g1.info().description.find("Not Supported"), std::string::npos) << g1.info().description;
  const auto r = g1.read();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_DOUBLE_EQ(r.sample.value, 70.5);
  EXPECT_EQ(find_sensor(list, "nvml:gpu-0")->info().kind, SensorKind::energy_counter);
  // `sensors` prints "device: description": the description does not name
  // the GPU again (it did, seen on a real H200, docs/gpu-check.md).
  for (const auto* g : {find_sensor(list, "nvml:gpu-0"), find_sensor(list, "nvml:gpu-1")}) {
    ASSERT_FALSE(g->info().device.empty());
    EXPECT_EQ(g->info().description.find(g->info().device), std::string::npos) << g->info().description;
  }
}

TEST_F(Nvml, LibraryWithoutEnergyCallSamplesPower) {
  script(two_gpus());
  auto list = discover(FAKE_NVML_NOENERGY_PATH);
  ASSERT_EQ(list.size(), 2u);
  Sensor& g0 = *find_sensor_mut(list, "nvml:gpu-0");
  ASSERT_TRUE(g0.status().available) << g0.status().reason;
  EXPECT_EQ(g0.info().kind, SensorKind::power);
  EXPECT_EQ(g0.info().provenance.to_string(), "sampled:nvml-power");
  EXPECT_NE(g0.info().description.find("no nvmlDeviceGetTotalEnergyConsumption"), std::string::npos);
  EXPECT_DOUBLE_EQ(g0.read().sample.value, 250.0);
  script(two_gpus() + "0.power_mw 300000\n");
  EXPECT_DOUBLE_EQ(g0.read().sample.value, 300.0);
  // The old process query with its 16-byte records.
  EXPECT_EQ(g0.device_process_ids(), (std::vector<int>{100, 200}));
  script(two_gpus() + "0.power_rc 3\n");
  EXPECT_FALSE(g0.read().ok);
}

TEST_F(Nvml, CudaVisibleDevicesIsHonoured) {
  script(two_gpus());
  ::setenv("CUDA_VISIBLE_DEVICES", "1", 1);
  auto list = discover();
  EXPECT_FALSE(find_sensor(list, "nvml:gpu-0")->status().available);
  EXPECT_NE(find_sensor(list, "nvml:gpu-0")->status().reason.find("CUDA_VISIBLE_DEVICES='1'"), std::string::npos);
  EXPECT_TRUE(find_sensor(list, "nvml:gpu-1")->status().available);

  ::setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa", 1);  // a UUID prefix
  list = discover();
  EXPECT_TRUE(find_sensor(list, "nvml:gpu-0")->status().available);
  EXPECT_FALSE(find_sensor(list, "nvml:gpu-1")->status().available);

  ::setenv("CUDA_VISIBLE_DEVICES", "1,bogus,0", 1);  // CUDA stops at the first invalid entry
  list = discover();
  EXPECT_FALSE(find_sensor(list, "nvml:gpu-0")->status().available);
  EXPECT_TRUE(find_sensor(list, "nvml:gpu-1")->status().available);

  ::setenv("CUDA_VISIBLE_DEVICES", "", 1);  // no GPU visible
  list = discover();
  for (const auto& s : list) EXPECT_FALSE(s->status().available) << s->info().name;

  // Explicit selection wins over the environment.
  list = discover(FAKE_NVML_PATH, {"GPU-bbbb2222"});
  EXPECT_FALSE(find_sensor(list, "nvml:gpu-0")->status().available);
  EXPECT_TRUE(find_sensor(list, "nvml:gpu-1")->status().available);
}

TEST_F(Nvml, SelectionByIndexAndUnknownSelectors) {
  script(two_gpus());
  auto list = discover(FAKE_NVML_PATH, {"0", "7"});
  EXPECT_TRUE(find_sensor(list, "nvml:gpu-0")->status().available);
  EXPECT_FALSE(find_sensor(list, "nvml:gpu-1")->status().available);
  EXPECT_NE(find_sensor(list, "nvml:gpu-1")->status().reason.find("not among the GPUs asked for (0,7)"),
            std::string::npos);
  const Sensor* missing = find_sensor(list, "nvml:gpu-7");
  ASSERT_NE(missing, nullptr);
  EXPECT_NE(missing->status().reason.find("no GPU with NVML index or UUID '7' (2 GPUs found)"), std::string::npos);
}

TEST_F(Nvml, FailuresAreExplained) {
  script(two_gpus());
  auto list = discover("/nonexistent/libnvidia-ml.so.1");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]->info().name, "nvml");
  EXPECT_NE(list[0]->status().reason.find("not found: no NVIDIA driver"), std::string::npos)
      << list[0]->status().reason;

  script("init_rc 9\n");
  list = discover();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0]->status().reason.find("Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED = 9)"),
            std::string::npos)
      << list[0]->status().reason;

  script("count 0\n");
  list = discover();
  EXPECT_NE(list.at(0)->status().reason.find("no NVIDIA GPU"), std::string::npos);

  script(two_gpus() + "1.handle_rc 4\n0.energy_rc 3\n0.power_rc 999\n");
  list = discover();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_NE(find_sensor(list, "nvml:gpu-1")->status().reason.find("Insufficient Permissions"), std::string::npos);
  const Sensor* g0 = find_sensor(list, "nvml:gpu-0");
  EXPECT_FALSE(g0->status().available);
  EXPECT_NE(g0->status().reason.find("Unknown Error"), std::string::npos) << g0->status().reason;

  script("count 1\n0.energy_rc 3\n");  // neither energy nor power scripted
  list = discover();
  EXPECT_FALSE(list.at(0)->status().available);
}

}  // namespace
}  // namespace joulebench
