// RAPL through the perf power PMU: the sysfs event parsing and the sensor
// logic run for real against a fake PMU tree; perf_event_open and read are
// replaced through PerfSyscalls (no test machine offers a RAPL PMU).
#include <linux/perf_event.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <map>

#include "../support/fake_tree.h"
#include "sensors/backends.h"

namespace joulebench {
namespace {

using testing::FakeTree;
using testing::find_sensor;
using testing::find_sensor_mut;

constexpr double kScale = 2.3283064365386962890625e-10;  // 2^-32 J, as real RAPL PMUs report

struct FakePerf {
  struct Opened {
    std::uint32_t type;
    std::uint64_t config;
    int pid;
    int cpu;
  };
  std::vector<Opened> opened;
  std::map<int, std::uint64_t> counts;  // by fd
  std::vector<int> closed;
  int fail_errno = 0;
  int next_fd = 100;

  sensors::PerfSyscalls syscalls() {
    sensors::PerfSyscalls s;
    s.open = [this](perf_event_attr& attr, int pid, int cpu) {
      if (fail_errno != 0) {
        errno = fail_errno;
        return -1;
      }
      EXPECT_EQ(attr.size, sizeof(perf_event_attr));
      opened.push_back({attr.type, attr.config, pid, cpu});
      counts[next_fd] = 1000;
      return next_fd++;
    };
    s.read = [this](int fd, std::uint64_t& count) -> std::string {
      auto it = counts.find(fd);
      if (it == counts.end()) return "bad fd";
      count = it->second;
      return {};
    };
    s.close = [this](int fd) { closed.push_back(fd); };
    return s;
  }
};

void write_pmu(const FakeTree& t) {
  const std::string pmu = "sys/bus/event_source/devices/power/";
  t.write(pmu + "type", "23\n");
  t.write(pmu + "cpumask", "0,4\n");
  t.write(pmu + "format/event", "config:0-7\n");
  for (auto [event, code] : {std::pair{"energy-pkg", "0x02"}, {"energy-cores", "0x01"}, {"energy-ram", "0x03"},
                             {"energy-psys", "0x05"}}) {
    t.write(pmu + "events/" + event, std::string("event=") + code + "\n");
    t.write(pmu + "events/" + event + ".scale", "2.3283064365386962890625e-10\n");
    t.write(pmu + "events/" + event + ".unit", "Joules\n");
  }
  for (int cpu = 0; cpu < 8; ++cpu) {
    const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    t.write(dir + "physical_package_id", std::to_string(cpu / 4) + "\n");
    t.write(dir + "core_id", std::to_string(cpu % 4) + "\n");
  }
}

TEST(Perf, EventsPerPackageWithScale) {
  FakeTree t;
  write_pmu(t);
  FakePerf fake;
  {
    SensorList list;
    sensors::discover_perf(t.options(), fake.syscalls(), list);
    // pkg, cores, ram on two packages + psys once.
    ASSERT_EQ(list.size(), 7u);
    for (const auto& s : list) EXPECT_TRUE(s->status().available) << s->info().name << ": " << s->status().reason;
    ASSERT_EQ(fake.opened.size(), 7u);
    for (const auto& o : fake.opened) {
      EXPECT_EQ(o.type, 23u);
      EXPECT_EQ(o.pid, -1);  // system-wide
      EXPECT_TRUE(o.cpu == 0 || o.cpu == 4) << o.cpu;
    }
    std::map<std::uint64_t, int> per_config;
    for (const auto& o : fake.opened) ++per_config[o.config];
    EXPECT_EQ(per_config[0x02], 2);
    EXPECT_EQ(per_config[0x01], 2);
    EXPECT_EQ(per_config[0x03], 2);
    EXPECT_EQ(per_config[0x05], 1);

    const Sensor* pkg1 = find_sensor(list, "rapl-perf:package-1");
    ASSERT_NE(pkg1, nullptr);
    EXPECT_EQ(pkg1->info().component, Component::cpu);
    EXPECT_EQ(pkg1->info().provenance.to_string(), "measured:rapl-perf");
    EXPECT_EQ(find_sensor(list, "rapl-perf:package-0/dram")->info().component, Component::dram);
    EXPECT_EQ(find_sensor(list, "rapl-perf:package-0/core")->info().component, Component::core);
    EXPECT_EQ(find_sensor(list, "rapl-perf:psys")->info().component, Component::psys);

    // The package-1 energy-pkg event: count 2^32 more = 1 J.
    int fd = -1;
    for (std::size_t i = 0; i < fake.opened.size(); ++i)
      if (fake.opened[i].config == 0x02 && fake.opened[i].cpu == 4) fd = 100 + static_cast<int>(i);
    ASSERT_GE(fd, 0);
    Sensor& s = *find_sensor_mut(list, "rapl-perf:package-1");
    const auto a = s.read();
    fake.counts[fd] += 1ull << 32;
    const auto b = s.read();
    ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
    EXPECT_NEAR(b.sample.value - a.sample.value, 1.0, 1e-12);
    fake.counts[fd] -= 5;  // 64-bit counts never go back
    EXPECT_FALSE(s.read().ok);
  }
  EXPECT_EQ(fake.closed.size(), 7u);  // every event closed with its sensor
}

TEST(Perf, TopologyWhenNoCpumask) {
  FakeTree t;
  write_pmu(t);
  std::filesystem::remove(t.path("sys/bus/event_source/devices/power/cpumask"));
  FakePerf fake;
  SensorList list;
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  ASSERT_FALSE(fake.opened.empty());
  for (const auto& o : fake.opened) EXPECT_TRUE(o.cpu == 0 || o.cpu == 4) << o.cpu;
}

TEST(Perf, PermissionDeniedExplainsParanoid) {
  FakeTree t;
  write_pmu(t);
  t.write("proc/sys/kernel/perf_event_paranoid", "2\n");
  FakePerf fake;
  fake.fail_errno = EACCES;
  SensorList list;
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  ASSERT_FALSE(list.empty());
  for (const auto& s : list) {
    EXPECT_FALSE(s->status().available);
    EXPECT_NE(s->status().reason.find("perf_event_paranoid <= 0 (it is 2)"), std::string::npos)
        << s->status().reason;
    EXPECT_NE(s->status().reason.find("CAP_PERFMON"), std::string::npos);
  }
  fake.fail_errno = ENOENT;
  list.clear();
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  EXPECT_NE(list.at(0)->status().reason.find("not supported"), std::string::npos) << list.at(0)->status().reason;
}

TEST(Perf, BrokenEventFilesAreUnavailableNotZero) {
  FakeTree t;
  write_pmu(t);
  const std::string ev = "sys/bus/event_source/devices/power/events/";
  t.write(ev + "energy-pkg.scale", "garbage\n");
  t.write(ev + "energy-cores", "event=0x1ff\n");  // does not fit config:0-7
  t.write(ev + "energy-ram.unit", "Watts\n");
  std::filesystem::remove(t.path(ev + "energy-psys.scale"));
  FakePerf fake;
  SensorList list;
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  EXPECT_TRUE(fake.opened.empty());
  ASSERT_EQ(list.size(), 7u);
  for (const auto& s : list) {
    EXPECT_FALSE(s->status().available) << s->info().name;
    EXPECT_FALSE(s->read().ok);
  }
  EXPECT_NE(find_sensor(list, "rapl-perf:package-0")->status().reason.find("not a positive number"),
            std::string::npos);
  EXPECT_NE(find_sensor(list, "rapl-perf:package-0/core")->status().reason.find("does not fit"), std::string::npos);
  EXPECT_NE(find_sensor(list, "rapl-perf:package-0/dram")->status().reason.find("Watts"), std::string::npos);
  EXPECT_NE(find_sensor(list, "rapl-perf:psys")->status().reason.find(".scale"), std::string::npos);
}

TEST(Perf, NoPmuSaysWhy) {
  FakeTree t;
  FakePerf fake;
  SensorList list;
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]->info().name, "rapl-perf");
  EXPECT_NE(list[0]->status().reason.find("does not exist"), std::string::npos);
  t.write("sys/bus/event_source/devices/power/type", "x\n");
  list.clear();
  sensors::discover_perf(t.options(), fake.syscalls(), list);
  EXPECT_NE(list.at(0)->status().reason.find("not a valid number"), std::string::npos) << list[0]->status().reason;
}

}  // namespace
}  // namespace joulebench
