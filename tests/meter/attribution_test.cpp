// Attribution against a fake /proc: the real procfs reader and the meter's
// share arithmetic run; the test rewrites the files between begin and end.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/procfs.h"
#include "../support/fake_sensors.h"
#include "joulebench/meter.h"

namespace joulebench {
namespace {

namespace fs = std::filesystem;
using testing::FakeRig;
using testing::make_info;
constexpr auto kCounter = SensorKind::energy_counter;

class FakeProcAttribution : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("joulebench-meter-proc-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    cpu_ = rig_.add(make_info("rapl:pkg", "rapl-powercap", Component::cpu, "package-0", kCounter,
                              ProvenanceKind::measured));
    dram_ = rig_.add(make_info("rapl:dram", "rapl-powercap", Component::dram, "package-0", kCounter,
                               ProvenanceKind::measured));
    psys_ = rig_.add(make_info("rapl:psys", "rapl-powercap", Component::psys, "psys", kCounter,
                               ProvenanceKind::measured));
    gpu_ = rig_.add(make_info("nvml:gpu-0", "nvml", Component::gpu, "gpu-0", kCounter, ProvenanceKind::measured));
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // Machine busy ticks split over user and system, plus idle ticks.
  void write_stat(long user, long system, long idle) {
    write("stat", "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " + std::to_string(idle) +
                      " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
  }
  void write_process(int pid, int ppid, long utime, long stime, long cutime = 0, long cstime = 0) {
    write(std::to_string(pid) + "/stat",
          std::to_string(pid) + " (worker) S " + std::to_string(ppid) + " 1 1 0 -1 4194304 100 0 0 0 " +
              std::to_string(utime) + " " + std::to_string(stime) + " " + std::to_string(cutime) + " " +
              std::to_string(cstime) + " 20 0 1 0 48930 3133440 389 18446744073709551615\n");
  }
  void set_energy(double t, double cpu_j, double dram_j, double psys_j, double gpu_j) {
    cpu_->set(t, cpu_j);
    dram_->set(t, dram_j);
    psys_->set(t, psys_j);
    gpu_->set(t, gpu_j);
  }
  MeterOptions options(int pid) {
    MeterOptions o;
    o.procfs_root = root_.string();
    o.attribution.pid = pid;
    return o;
  }

  fs::path root_;
  FakeRig rig_;
  std::shared_ptr<testing::ScriptState> cpu_, dram_, psys_, gpu_;
};

TEST_F(FakeProcAttribution, TreeShareOfMachineCpuTime) {
  // Tree: 4242 -> 4243; 5000 is someone else.
  write_stat(700, 300, 9000);
  write_process(1, 0, 0, 0);
  write_process(4242, 1, 100, 50);
  write_process(4243, 4242, 10, 0);
  write_process(5000, 1, 300, 0);
  Meter meter(std::move(rig_.sensors), options(4242));
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  // 400 busy ticks pass; the tree uses 150 + 50 = 200 of them, 5000 the rest.
  write_stat(1000, 400, 9100);
  write_process(4242, 1, 200, 100);
  write_process(4243, 4242, 60, 0);
  write_process(5000, 1, 500, 0);
  set_energy(1, 40.0, 10.0, 90.0, 30.0);
  const Measurement m = meter.end_window("w");
  ASSERT_TRUE(m.find(Component::cpu)->attributed_energy_j.has_value()) << m.warnings.size();
  EXPECT_DOUBLE_EQ(*m.find(Component::cpu)->attributed_energy_j, 20.0);
  EXPECT_DOUBLE_EQ(*m.find(Component::dram)->attributed_energy_j, 5.0);  // same share, stated in the docs
  EXPECT_FALSE(m.find(Component::psys)->attributed_energy_j.has_value());
  EXPECT_FALSE(m.find(Component::gpu)->attributed_energy_j.has_value());
  EXPECT_DOUBLE_EQ(m.total_attributed_energy_j(), 20.0 + 5.0 + 30.0);  // gpu unattributed counts whole
  EXPECT_TRUE(std::any_of(m.warnings.begin(), m.warnings.end(), [](const std::string& w) {
    return w.find("CPU time (50.0 %)") != std::string::npos && w.find("dram") != std::string::npos;
  })) << "the share and the DRAM approximation are stated";
}

TEST_F(FakeProcAttribution, GpuEnergyGoesToTheTreeThatUsesTheGpu) {
  write_stat(700, 300, 9000);
  write_process(1, 0, 0, 0);
  write_process(4242, 1, 100, 50);
  write_process(4243, 4242, 10, 0);
  write_process(4244, 4243, 10, 0);  // grandchild holds the GPU context
  write_process(5000, 1, 300, 0);
  auto second = rig_.add(make_info("nvml:gpu-1", "nvml", Component::gpu, "gpu-1", kCounter, ProvenanceKind::measured));
  {
    std::lock_guard l(gpu_->mutex);
    gpu_->pids = std::vector<int>{5000, 4244};
  }
  {
    std::lock_guard l(second->mutex);
    second->pids = std::vector<int>{5000};  // someone else's job only
  }
  Meter meter(std::move(rig_.sensors), options(4242));
  set_energy(0, 0, 0, 0, 0);
  second->set(0, 0);
  meter.begin_window("w");
  write_stat(1000, 400, 9100);
  set_energy(1, 10, 1, 20, 30);
  second->set(1, 50);
  meter.sample_now();
  const Measurement m = meter.end_window("w");
  const auto* gpu = m.find(Component::gpu);
  ASSERT_NE(gpu, nullptr);
  EXPECT_DOUBLE_EQ(gpu->energy_j, 80.0);
  ASSERT_TRUE(gpu->attributed_energy_j.has_value());
  EXPECT_DOUBLE_EQ(*gpu->attributed_energy_j, 30.0) << "gpu-0 (used by the tree) only";
  EXPECT_TRUE(std::any_of(m.warnings.begin(), m.warnings.end(), [](const std::string& w) {
    return w.find("gpu gpu-0: other processes used it too") != std::string::npos;
  }));
}

TEST_F(FakeProcAttribution, GpuWithoutProcessListIsNotAttributed) {
  write_stat(700, 300, 9000);
  write_process(4242, 1, 100, 50);
  Meter meter(std::move(rig_.sensors), options(4242));  // gpu_->pids stays nullopt
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  write_stat(1000, 400, 9100);
  set_energy(1, 10, 1, 20, 30);
  const Measurement m = meter.end_window("w");
  EXPECT_FALSE(m.find(Component::gpu)->attributed_energy_j.has_value());
  EXPECT_TRUE(std::any_of(m.warnings.begin(), m.warnings.end(), [](const std::string& w) {
    return w.find("cannot list the processes") != std::string::npos;
  }));
}

TEST_F(FakeProcAttribution, ReapedChildCountsOnceThroughItsParent) {
  write_stat(700, 300, 9000);
  write_process(4242, 1, 100, 50);
  write_process(4243, 4242, 10, 0);
  Meter meter(std::move(rig_.sensors), options(4242));
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  // 4243 used 50 more ticks, exited and was waited for: it is in 4242's cutime.
  fs::remove_all(root_ / "4243");
  write_stat(900, 300, 9000);  // 200 busy ticks
  write_process(4242, 1, 150, 50, 60, 0);
  set_energy(1, 80.0, 0.0, 0.0, 0.0);
  const Measurement m = meter.end_window("w");
  // tree: 160 -> 260 ticks = 100 of 200 busy
  EXPECT_DOUBLE_EQ(*m.find(Component::cpu)->attributed_energy_j, 40.0);
}

TEST_F(FakeProcAttribution, NoCpuTimeProgressMeansNoAttributionAndAWarning) {
  write_stat(700, 300, 9000);
  write_process(4242, 1, 100, 50);
  Meter meter(std::move(rig_.sensors), options(4242));
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  set_energy(1, 5, 0, 0, 0);
  const Measurement m = meter.end_window("w");
  EXPECT_FALSE(m.find(Component::cpu)->attributed_energy_j.has_value());
  EXPECT_TRUE(std::any_of(m.warnings.begin(), m.warnings.end(),
                          [](const std::string& w) { return w.find("clock tick") != std::string::npos; }));
}

TEST_F(FakeProcAttribution, UnreadableProcIsAWarning) {
  Meter meter(std::move(rig_.sensors), options(4242));  // no stat file at all
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  set_energy(1, 5, 0, 0, 0);
  const Measurement m = meter.end_window("w");
  EXPECT_DOUBLE_EQ(m.find(Component::cpu)->energy_j, 5.0);
  EXPECT_FALSE(m.find(Component::cpu)->attributed_energy_j.has_value());
  EXPECT_TRUE(std::any_of(m.warnings.begin(), m.warnings.end(),
                          [](const std::string& w) { return w.find("cannot read CPU times") != std::string::npos; }));
}

TEST_F(FakeProcAttribution, ShareIsCappedAtTheWholeMachine) {
  write_stat(100, 0, 0);
  write_process(4242, 1, 0, 0);
  Meter meter(std::move(rig_.sensors), options(4242));
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  write_stat(110, 0, 0);
  write_process(4242, 1, 50, 0);  // more than the machine: impossible, capped
  set_energy(1, 8, 0, 0, 0);
  const Measurement m = meter.end_window("w");
  EXPECT_DOUBLE_EQ(*m.find(Component::cpu)->attributed_energy_j, 8.0);
}

TEST_F(FakeProcAttribution, WithoutATargetThereIsNoAttributedScope) {
  write_stat(100, 0, 0);
  Meter meter(std::move(rig_.sensors), options(0));
  set_energy(0, 0, 0, 0, 0);
  meter.begin_window("w");
  set_energy(1, 8, 1, 2, 3);
  const Measurement m = meter.end_window("w");
  EXPECT_FALSE(m.find(Component::cpu)->attributed_energy_j.has_value());
  EXPECT_TRUE(m.warnings.empty()) << m.warnings.front();
}

}  // namespace
}  // namespace joulebench
