#include "core/procfs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "joulebench/error.h"
#include "../support/expect_throw.h"

namespace joulebench::procfs {
namespace {

namespace fs = std::filesystem;

// A fake /proc written by the test, removed afterwards.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("joulebench-procfs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // A /proc/PID/stat line with the given times in ticks.
  void write_process(int pid, const std::string& comm, int ppid, long utime, long stime, long cutime = 0,
                     long cstime = 0) {
    std::string line = std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) +
                       " 1 1 0 -1 4194304 100 0 0 0 " + std::to_string(utime) + " " + std::to_string(stime) +
                       " " + std::to_string(cutime) + " " + std::to_string(cstime) +
                       " 20 0 1 0 48930 3133440 389 18446744073709551615\n";
    write(std::to_string(pid) + "/stat", line);
  }
  std::string root() const { return root_.string(); }

  fs::path root_;
};

const double kTick = clock_ticks_per_second();

TEST_F(FakeProc, StatGivesTotalAndPerCpuSeconds) {
  write("stat",
        "cpu  600 10 300 5000 20 5 7 30 0 0\n"
        "cpu0 200 10 100 2500 10 2 3 10 0 0\n"
        "cpu2 400 0 200 2500 10 3 4 20 0 0\n"
        "intr 1 2 3\nctxt 42\n");
  const auto s = read_stat(root());
  EXPECT_EQ(s.total.cpu, -1);
  EXPECT_DOUBLE_EQ(s.total.user_s, 600 / kTick);
  EXPECT_DOUBLE_EQ(s.total.busy_s(), (600 + 10 + 300 + 5 + 7) / kTick);
  EXPECT_DOUBLE_EQ(s.total.total_s(), (600 + 10 + 300 + 5 + 7 + 5000 + 20 + 30) / kTick);
  ASSERT_EQ(s.per_cpu.size(), 2u);
  EXPECT_EQ(s.per_cpu[0].cpu, 0);
  EXPECT_EQ(s.per_cpu[1].cpu, 2);  // offline cpu1 absent: numbers kept, not renumbered
  EXPECT_DOUBLE_EQ(s.per_cpu[1].system_s, 200 / kTick);
}

// The sampler's reads: one descriptor, re-read from the start each time.
TEST_F(FakeProc, ProcFileRereadsTheCurrentContent) {
  write("stat", "cpu  1 0 0 0\n");
  ProcFile file(root() + "/stat");
  std::string text;
  ASSERT_EQ(file.read(text), 0);
  EXPECT_EQ(text, "cpu  1 0 0 0\n");
  // Rewritten in place (as the kernel regenerates it), longer than one buffer.
  const std::string big = "cpu  2 0 0 0\n" + std::string(10000, '#') + "\n";
  { std::ofstream(root_ / "stat", std::ios::in | std::ios::out | std::ios::trunc) << big; }
  ASSERT_EQ(file.read(text), 0);
  EXPECT_EQ(text, big);
  EXPECT_DOUBLE_EQ(parse_stat(file.read_or_throw(), file.path()).total.user_s, 2 / kTick);
}

TEST_F(FakeProc, ProcFileSaysWhyAndReopensLater) {
  ProcFile file(root() + "/meminfo");
  std::string text = "stale";
  EXPECT_EQ(file.read(text), ENOENT);
  EXPECT_TRUE(text.empty());
  EXPECT_THROW_MSG(file.read_or_throw(), Error, root() + "/meminfo");
  write("meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
  const auto mem = parse_meminfo(file.read_or_throw(), file.path());
  EXPECT_EQ(mem.used_bytes(), 1024u * 1024u);
}

TEST_F(FakeProc, StatErrorsNameTheFile) {
  EXPECT_THROW(read_stat(root()), Error);  // missing
  write("stat", "intr 1 2\n");
  EXPECT_THROW_MSG(read_stat(root()), Error, root() + "/stat");
  write("stat", "cpu  1 2 x 4 5\n");
  EXPECT_THROW(read_stat(root()), Error);
  write("stat", "cpu  1 2\n");
  EXPECT_THROW(read_stat(root()), Error);
}

TEST_F(FakeProc, ProcessStatHandlesCommWithSpacesAndParentheses) {
  write_process(42, "my (weird) prog) x", 7, 150, 50, 30, 20);
  const auto p = read_process_stat(root(), 42);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pid, 42);
  EXPECT_EQ(p->comm, "my (weird) prog) x");
  EXPECT_EQ(p->state, 'S');
  EXPECT_EQ(p->ppid, 7);
  EXPECT_DOUBLE_EQ(p->cpu_s(), 200 / kTick);
  EXPECT_DOUBLE_EQ(p->cpu_with_reaped_children_s(), 250 / kTick);
}

TEST_F(FakeProc, MissingProcessIsNulloptMalformedIsError) {
  EXPECT_FALSE(read_process_stat(root(), 99));
  write("5/stat", "5 (truncated) S 1 2\n");
  EXPECT_THROW(read_process_stat(root(), 5), Error);
  write("6/stat", "6 no-parens S 1\n");
  EXPECT_THROW(read_process_stat(root(), 6), Error);
  write("7/stat", "7 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0 0 20 0\n");
  EXPECT_THROW(read_process_stat(root(), 7), Error);
}

TEST_F(FakeProc, ProcessTreeFollowsPpidAndSumsCpuTime) {
  write_process(1, "init", 0, 1000, 1000);
  write_process(10, "shell", 1, 5, 5);
  write_process(20, "measured", 10, 100, 10, 40, 0);  // 40 ticks of reaped children
  write_process(21, "child a", 20, 50, 0);
  write_process(22, "child b", 20, 30, 0);
  write_process(30, "grandchild", 22, 7, 3);
  write_process(40, "unrelated", 1, 999, 999);
  write("self/stat", "not a pid dir");  // non-numeric entries are ignored
  auto tree = process_tree(root(), 20);
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), 20);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, (std::vector<int>{20, 21, 22, 30}));
  EXPECT_DOUBLE_EQ(process_tree_cpu_s(root(), 20), (110 + 40 + 50 + 30 + 10) / kTick);
  EXPECT_TRUE(process_tree(root(), 12345).empty());
  EXPECT_DOUBLE_EQ(process_tree_cpu_s(root(), 12345), 0.0);
}

TEST_F(FakeProc, ProcessTreeSurvivesPpidCycles) {
  write_process(2, "a", 3, 1, 0);
  write_process(3, "b", 2, 1, 0);
  auto tree = process_tree(root(), 2);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, (std::vector<int>{2, 3}));
}

TEST_F(FakeProc, MemInfoInBytes) {
  write("meminfo", "MemTotal:       16384 kB\nMemFree:  100 kB\nMemAvailable:    4096 kB\n");
  const auto m = read_meminfo(root());
  EXPECT_EQ(m.total_bytes, 16384u * 1024u);
  EXPECT_EQ(m.available_bytes, 4096u * 1024u);
  EXPECT_EQ(m.used_bytes(), (16384u - 4096u) * 1024u);
  write("meminfo", "MemTotal:       16384 kB\n");
  EXPECT_THROW(read_meminfo(root()), Error);
  write("meminfo", "MemTotal:  lots kB\nMemAvailable: 1 kB\n");
  EXPECT_THROW(read_meminfo(root()), Error);
}

TEST_F(FakeProc, CpuInfoCountsThreadsAndPackages) {
  std::string text;
  for (int i = 0; i < 4; ++i) {
    text += "processor\t: " + std::to_string(i) +
            "\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
            "model name\t: Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz\nstepping\t: 4\n"
            "physical id\t: " + std::to_string(i / 2) + "\nsiblings\t: 2\n\n";
  }
  write("cpuinfo", text);
  const auto c = read_cpuinfo(root());
  EXPECT_EQ(c.vendor, "GenuineIntel");
  EXPECT_EQ(c.model_name, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz");
  EXPECT_EQ(c.family, 6);
  EXPECT_EQ(c.model, 85);
  EXPECT_EQ(c.stepping, 4);
  EXPECT_EQ(c.logical_cpus, 4);
  EXPECT_EQ(c.packages, 2);
  EXPECT_EQ(c.threads_per_package, 2);
}

TEST_F(FakeProc, CpuInfoWithoutX86Fields) {
  write("cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n");
  const auto c = read_cpuinfo(root());
  EXPECT_EQ(c.logical_cpus, 2);
  EXPECT_EQ(c.family, -1);
  EXPECT_TRUE(c.model_name.empty());
  EXPECT_EQ(c.packages, 1);
  EXPECT_EQ(c.threads_per_package, 2);
  write("cpuinfo", "");
  EXPECT_THROW(read_cpuinfo(root()), Error);
}

TEST(RealProc, ThisProcessIsInItsOwnTree) {
  const auto tree = process_tree("/proc", ::getpid());
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), ::getpid());
  EXPECT_GT(read_cpuinfo("/proc").logical_cpus, 0);
  EXPECT_GT(read_meminfo("/proc").total_bytes, 0u);
}

}  // namespace
}  // namespace joulebench::procfs
