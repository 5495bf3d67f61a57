// RAPL through MSRs: fake /dev/cpu/N/msr files (sparse files holding 8-byte
// values at the register offsets) read through the real pread path.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../support/fake_tree.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

void write_msr(const FakeTree& t, int cpu, std::uint32_t reg, std::uint64_t value) {
  const std::string path = t.path("dev/cpu/" + std::to_string(cpu) + "/msr");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, &value, sizeof value, static_cast<off_t>(reg)), 8);
  ::close(fd);
}

void write_topology(const FakeTree& t, int cpu, int package, int core) {
  const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
  t.write(dir + "physical_package_id", std::to_string(package) + "\n");
  t.write(dir + "core_id", std::to_string(core) + "\n");
}

void write_cpuinfo(const FakeTree& t, const std::string& vendor, int family, int model) {
  t.write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + std::to_string(family) +
                              "\nmodel\t\t: " + std::to_string(model) + "\nmodel name\t: test\nstepping\t: 0\n\n");
}

SensorList discover(const FakeTree& t) {
  SensorList out;
  sensors::discover_msr(t.options(), out);
  return out;
}

double read_j(Sensor& s) {
  const auto r = s.read();
  EXPECT_TRUE(r.ok) << s.info().name << ": " << r.error;
  return r.sample.value;
}

// Intel, two packages (CPUs 0-1 in package 0, 2-3 in package 1), ESU 14
// (2^-14 J = 61.035 µJ), a client model so DRAM uses the same unit.
TEST(Msr, IntelTwoPackages) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 158);
  for (int cpu = 0; cpu < 4; ++cpu) write_topology(t, cpu, cpu / 2, cpu % 2);
  for (int cpu : {0, 2}) {
    write_msr(t, cpu, 0x606, 0xA0E03);  // power 2^-3 W, energy 2^-14 J, time 2^-10 s
    write_msr(t, cpu, 0x611, 0xDEAD'0000'0000'1000ull);  // high bits are reserved: masked off
    write_msr(t, cpu, 0x619, 0x100);
    write_msr(t, cpu, 0x639, 0x10);
  }
  auto list = discover(t);
  ASSERT_EQ(list.size(), 6u);
  for (const char* name : {"rapl-msr:package-0", "rapl-msr:package-0/dram", "rapl-msr:package-0/core",
                           "rapl-msr:package-1", "rapl-msr:package-1/dram", "rapl-msr:package-1/core"}) {
    const Sensor* s = find_sensor(list, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_TRUE(s->status().available) << name << ": " << s->status().reason;
    EXPECT_EQ(s->info().provenance.to_string(), "measured:rapl-msr");
  }
  EXPECT_EQ(find_sensor(list, "rapl-msr:package-1")->info().component, Component::cpu);
  EXPECT_EQ(find_sensor(list, "rapl-msr:package-1")->info().device, "package-1");
  EXPECT_EQ(find_sensor(list, "rapl-msr:package-0/dram")->info().component, Component::dram);
  EXPECT_EQ(find_sensor(list, "rapl-msr:package-0/core")->info().component, Component::core);
  // 2^32 x 2^-14 J = 262144 J; at 500 W: 524.288 s.
  EXPECT_NEAR(find_sensor(list, "rapl-msr:package-0")->info().max_read_interval_s, 524.288, 1e-6);

  Sensor& pkg1 = *find_sensor_mut(list, "rapl-msr:package-1");
  Sensor& dram0 = *find_sensor_mut(list, "rapl-msr:package-0/dram");
  const double p = read_j(pkg1), d = read_j(dram0);
  write_msr(t, 2, 0x611, 0xDEAD'0000'0000'1000ull + 16384);  // +1 J on package 1 (CPU 2's file)
  write_msr(t, 0, 0x619, 0x100 + 8192);                     // +0.5 J dram on package 0
  EXPECT_NEAR(read_j(pkg1) - p, 1.0, 1e-12);
  EXPECT_NEAR(read_j(dram0) - d, 0.5, 1e-12);
}

TEST(Msr, ThirtyTwoBitWrap) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 158);
  write_topology(t, 0, 0, 0);
  write_msr(t, 0, 0x606, 0xA0E03);
  write_msr(t, 0, 0x611, 0xFFFF'FFFFull - 16383);  // 1 J (16384 units) before the wrap
  write_msr(t, 0, 0x619, 0);
  write_msr(t, 0, 0x639, 0);
  auto list = discover(t);
  Sensor& pkg = *find_sensor_mut(list, "rapl-msr:package-0");
  const double before = read_j(pkg);
  write_msr(t, 0, 0x611, 0x1'0000'8000ull);  // bit 32 set (reserved) and 0x8000 after the wrap
  EXPECT_NEAR(read_j(pkg) - before, 1.0 + 2.0, 1e-12);
  // A small step back is no wrap: an error, not negative energy.
  write_msr(t, 0, 0x611, 0x4000);
  const auto r = pkg.read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("backwards"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("0x611"), std::string::npos) << r.error;
}

// Skylake-X counts DRAM in 2^-16 J whatever 0x606 says.
TEST(Msr, IntelServerDramUnit) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 85);
  write_topology(t, 0, 0, 0);
  write_msr(t, 0, 0x606, 0xA0E03);
  write_msr(t, 0, 0x611, 0);
  write_msr(t, 0, 0x619, 0);
  write_msr(t, 0, 0x639, 0);
  auto list = discover(t);
  Sensor& dram = *find_sensor_mut(list, "rapl-msr:package-0/dram");
  const double before = read_j(dram);
  write_msr(t, 0, 0x619, 65536);
  EXPECT_NEAR(read_j(dram) - before, 1.0, 1e-12);
}

// AMD Zen: package counter, per-core counters summed over the package's
// cores (CPUs 0 and 2 are cores 0 and 1, CPUs 1 and 3 their SMT siblings,
// which must not be read twice), no DRAM domain.
// AMD's registers are adjacent (0xC0010299 units, 0xC001029A core,
// 0xC001029B package), so in one flat file they overlap like bytes of one
// value: the test writes CPU 0's bytes once, through the units offset:
//   byte 0x..99: power unit; 0x..9A: energy unit (ESU 16); 0x..9B-9E: package counter.
// CPU 0's core counter then reads bytes 9A-9D, which the test keeps fixed by
// only moving the package counter's top byte (steps of 2^24 units = 256 J).
TEST(Msr, AmdPackageAndSummedCores) {
  FakeTree t;
  write_cpuinfo(t, "AuthenticAMD", 25, 1);
  write_topology(t, 0, 0, 0);
  write_topology(t, 1, 0, 0);
  write_topology(t, 2, 0, 1);
  write_topology(t, 3, 0, 1);
  auto write_cpu0 = [&](std::uint64_t package_units) {
    write_msr(t, 0, 0xC0010299, 0x1003 | (package_units << 16));
    write_msr(t, 0, 0xC00102A1, 0);  // the file goes on past the package register's 8 bytes
  };
  write_cpu0(5000);
  for (int cpu = 1; cpu < 4; ++cpu) write_msr(t, cpu, 0xC001029A, 1000);
  auto list = discover(t);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(find_sensor(list, "rapl-msr:package-0/dram"), nullptr);
  Sensor& pkg = *find_sensor_mut(list, "rapl-msr:package-0");
  Sensor& core = *find_sensor_mut(list, "rapl-msr:package-0/core");
  ASSERT_TRUE(pkg.status().available) << pkg.status().reason;
  ASSERT_TRUE(core.status().available) << core.status().reason;
  EXPECT_NEAR(pkg.info().max_read_interval_s, 65536.0 / 500.0, 1e-9);  // 2^32 x 2^-16 J at 500 W
  const double p = read_j(pkg), c = read_j(core);
  write_cpu0(5000 + (3ull << 24));                 // +3 x 256 J
  write_msr(t, 2, 0xC001029A, 1000 + 32768);      // core 1: +0.5 J
  write_msr(t, 1, 0xC001029A, 1000 + 65536 * 9);  // sibling threads: not read
  write_msr(t, 3, 0xC001029A, 1000 + 65536 * 9);
  EXPECT_NEAR(read_j(pkg) - p, 768.0, 1e-9);
  EXPECT_NEAR(read_j(core) - c, 0.5, 1e-12);
}

TEST(Msr, MissingDeviceFilesAreExplained) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 158);
  write_topology(t, 0, 0, 0);
  auto list = discover(t);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0]->status().available);
  EXPECT_NE(list[0]->status().reason.find("modprobe msr"), std::string::npos) << list[0]->status().reason;
}

TEST(Msr, UnreadableOrShortRegistersAreUnavailable) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 158);
  write_topology(t, 0, 0, 0);
  write_msr(t, 0, 0x606, 0xA0E03);
  write_msr(t, 0, 0x611, 1);
  // 0x619 and 0x639 lie beyond the end of the file: pread returns 0 bytes.
  auto list = discover(t);
  EXPECT_TRUE(find_sensor(list, "rapl-msr:package-0")->status().available);
  const Sensor* dram = find_sensor(list, "rapl-msr:package-0/dram");
  EXPECT_FALSE(dram->status().available);
  EXPECT_NE(dram->status().reason.find("short read"), std::string::npos) << dram->status().reason;
  EXPECT_NE(dram->status().reason.find("0x619"), std::string::npos) << dram->status().reason;
}

TEST(Msr, RootOnlyDeviceIsExplained) {
  FakeTree t;
  write_cpuinfo(t, "GenuineIntel", 6, 158);
  write_topology(t, 0, 0, 0);
  write_msr(t, 0, 0x606, 0xA0E03);
  t.chmod("dev/cpu/0/msr", 0000);
  const auto options = t.options();
  const auto reason = testing::run_without_root([&] {
    SensorList out;
    sensors::discover_msr(options, out);
    return out.size() == 1 && !out[0]->status().available ? out[0]->status().reason : std::string("available?");
  });
  if (!reason) GTEST_SKIP() << "cannot drop root in this environment";
  EXPECT_NE(reason->find("readable by root only"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("CAP_SYS_RAWIO"), std::string::npos) << *reason;
}

TEST(Msr, UnknownVendorIsUnavailable) {
  FakeTree t;
  t.write("proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\n\n");
  auto list = discover(t);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0]->status().available);
  EXPECT_NE(list[0]->status().reason.find("vendor"), std::string::npos);
  write_cpuinfo(t, "AuthenticAMD", 16, 4);  // pre-Zen AMD
  list = discover(t);
  EXPECT_FALSE(list.at(0)->status().available);
}

}  // namespace
}  // namespace joulebench
