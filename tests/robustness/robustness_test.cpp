// The CLI against a corpus of bad input (cases.json, corpus/): every case
// names its issue item, the exit code and the words of the message. Then the
// cases that need more than one command: output files that are symlinks,
// devices and FIFOs; names that try to escape a table; concurrent writers.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kCorpus = fs::path(JOULEBENCH_TEST_SOURCE_DIR) / "corpus";
const fs::path kShared = fs::path(JOULEBENCH_SHARED_REFERENCE_DIR);

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Outcome {
  int code = -1;
  std::string out, err;
};

// Starts `joulebench ARGS` (no shell: arguments exactly as given) in `dir`
// with a clean environment, stdout and stderr to files there; as user `uid`
// when given (root's file permissions do not bind, nobody's do).
pid_t spawn(const fs::path& dir, const std::vector<std::string>& args, const std::string& tag = "",
            std::optional<uid_t> uid = std::nullopt) {
  std::vector<std::string> argv{JOULEBENCH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env{"PATH=/usr/bin:/bin", "HOME=" + dir.string(), "TZ=Etc/UTC"};
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const std::string out = (dir / ("out" + tag + ".txt")).string(), err = (dir / ("err" + tag + ".txt")).string();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0 || ::chdir(dir.c_str()) != 0) ::_exit(126);
  if (uid && (::setgid(*uid) != 0 || ::setuid(*uid) != 0)) ::_exit(126);
  ::execve(cargv[0], cargv.data(), cenv.data());
  ::_exit(127);
}

// Waits up to `limit`; a command still running then is killed (a case that
// hangs fails rather than stalling the suite).
Outcome wait_for(pid_t pid, const fs::path& dir, const std::string& tag = "",
                 std::chrono::seconds limit = std::chrono::seconds(60)) {
  Outcome o;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      o.err = "(killed: still running after " + std::to_string(limit.count()) + " s) ";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = slurp(dir / ("out" + tag + ".txt"));
  o.err += slurp(dir / ("err" + tag + ".txt"));
  return o;
}

Outcome run_in(const fs::path& dir, const std::vector<std::string>& args) { return wait_for(spawn(dir, args), dir); }

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("jb-robust-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string expand(std::string s) {
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{corpus}", kCorpus.string()},
                                   std::pair<std::string, std::string>{"{shared}", kShared.string()}})
    for (auto p = s.find(key); p != std::string::npos; p = s.find(key)) s.replace(p, key.size(), value);
  return s;
}

// ---- the corpus ----

std::vector<json> load_cases() {
  const json all = json::parse(slurp(fs::path(JOULEBENCH_TEST_SOURCE_DIR) / "cases.json"));
  return std::vector<json>(all.begin(), all.end());
}

class Corpus : public ::testing::TestWithParam<json> {};

TEST_P(Corpus, GivesTheDocumentedExitCodeAndMessage) {
  const json& c = GetParam();
  const std::string name = c.at("name");
  const fs::path dir = fresh_dir(name);
  const json setup = c.value("setup", json::object()), setup_dirs = c.value("setup_dirs", json::array());
  for (const auto& [file, text] : setup.items()) std::ofstream(dir / file) << text.get<std::string>();
  for (const auto& d : setup_dirs) fs::create_directories(dir / d.get<std::string>());
  std::vector<std::string> args;
  for (const auto& a : c.at("args")) args.push_back(expand(a.get<std::string>()));
  const Outcome r = run_in(dir, args);
  const std::string what = "issue " + c.value("issue", std::string("?")) + ", case " + name + "\nstderr: " + r.err;
  EXPECT_EQ(r.code, c.at("exit").get<int>()) << what;
  for (const auto& s : c.value("stderr", json::array()))
    EXPECT_NE(r.err.find(expand(s.get<std::string>())), std::string::npos) << "wanted: " << s << "\n" << what;
  for (const auto& s : c.value("stdout", json::array()))
    EXPECT_NE(r.out.find(expand(s.get<std::string>())), std::string::npos) << "wanted on stdout: " << s << "\n"
                                                                          << r.out << "\n" << what;
  for (const auto& s : c.value("stderr_not", json::array()))
    EXPECT_EQ(r.err.find(s.get<std::string>()), std::string::npos) << "unwanted: " << s << "\n" << what;
  EXPECT_LT(r.err.size(), 2000u) << "a message, not a dump\n" << what;
  if (c.value("stdout_json", false)) EXPECT_NO_THROW((void)json::parse(r.out)) << r.out;
  for (const auto& f : c.value("absent", json::array()))
    EXPECT_FALSE(fs::exists(dir / f.get<std::string>())) << f << " exists\n" << what;
  if (c.value("leaves_no_files", false)) {
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string f = e.path().filename().string();
      if (f != "out.txt" && f != "err.txt" && !setup.contains(f)) left.push_back(f);
    }
    EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left) << "\n" << what;
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, Corpus, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<json>& info) { return info.param.at("name").get<std::string>(); });

// ---- output files ----

class Output : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name()); }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

TEST_F(Output, ASymlinkIsFollowedAndItsTargetReplaced) {
  std::ofstream(dir_ / "target.json") << "old\n";
  fs::create_symlink("target.json", dir_ / "link.json");
  const Outcome r = run_in(dir_, {"measure", "--json", "link.json", "-q", "--", "true"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.json")) << "the link itself must stay";
  EXPECT_NO_THROW((void)json::parse(slurp(dir_ / "target.json"))) << slurp(dir_ / "target.json");
  EXPECT_EQ(files(), (std::vector<std::string>{"err.txt", "link.json", "out.txt", "target.json"})) << "no temporary left";
}

TEST_F(Output, DevStdoutIsWrittenNeverReplaced) {
  const Outcome r = run_in(dir_, {"measure", "--json", "/dev/stdout", "-q", "--", "true"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink("/dev/stdout")) << "/dev/stdout was replaced by a file";
  EXPECT_NO_THROW((void)json::parse(r.out)) << r.out;
}

TEST_F(Output, AFifoIsWrittenInPlace) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = slurp(dir_ / "pipe"); });
  const Outcome r = run_in(dir_, {"measure", "--json", "pipe", "-q", "--", "true"});
  reader.join();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NO_THROW((void)json::parse(got)) << got;
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced by a file";
}

TEST_F(Output, AFailedWriteIsExit1AndLeavesNoTemporary) {
  // /dev/full: every write fails with ENOSPC, as on a full disk.
  const Outcome r = run_in(dir_, {"measure", "--json", "/dev/full", "-q", "--", "true"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("--json /dev/full"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(files(), (std::vector<std::string>{"err.txt", "out.txt"}));
}

TEST_F(Output, HtmlReportFollowsASymlinkToo) {
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", (kCorpus / "formula-name.csv").string()}).code, 0);
  std::ofstream(dir_ / "page.html") << "old";
  fs::create_symlink("page.html", dir_ / "report.html");
  const Outcome r = run_in(dir_, {"report", "--html", "report.html"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "report.html"));
  EXPECT_NE(slurp(dir_ / "page.html").find("<html"), std::string::npos);
}

// A store on a full disk: exit 1 (not bad input), the file named, and what
// was stored before stays. Needs a small tmpfs (root, and a kernel that lets
// this container mount one); skipped otherwise.
TEST_F(Output, AFullDiskIsExit1AndKeepsWhatWasStored) {
  const fs::path small = dir_ / "small";
  fs::create_directories(small);
  if (::geteuid() != 0 || std::system(("mount -t tmpfs -o size=256k tmpfs '" + small.string() + "' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "cannot mount a 256 KiB tmpfs here";
  const Outcome r = run_in(dir_, {"import", "codecarbon", (kShared / "study-logs/complete").string(), "--store",
                                  "small/s.db"});
  const Outcome after = run_in(dir_, {"report", "--runs", "--json", "--store", "small/s.db"});
  (void)std::system(("umount '" + small.string() + "'").c_str());
  EXPECT_EQ(r.code, 1) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("small/s.db: the disk is full"), std::string::npos) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("rows were stored before it"), std::string::npos) << r.err.substr(0, 2000);
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_FALSE(json::parse(after.out).empty()) << "the runs stored before the disk filled are kept";
}

// ---- names from logs ----

TEST_F(Output, NamesCannotInjectAFormulaATerminalEscapeOrHtml) {
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", (kCorpus / "formula-name.csv").string(),
                          (kCorpus / "escape-name.csv").string()})
                .code,
            0);
  const Outcome csv = run_in(dir_, {"report", "--by", "model", "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_NE(csv.out.find(",'=cmd|' /C calc'!A0,"), std::string::npos) << csv.out;
  EXPECT_EQ(csv.out.find(",=cmd"), std::string::npos) << csv.out;

  const Outcome table = run_in(dir_, {"report", "--by", "model"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.find('\x1b'), std::string::npos) << "a raw escape reached the terminal";
  EXPECT_NE(table.out.find("evil\\x1b[31mred"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("red\\x1b[0m\\nsecond line"), std::string::npos) << "the newline stays in its row";

  const Outcome md = run_in(dir_, {"report", "--by", "model", "--markdown"});
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_EQ(md.out.find("<script>"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("&lt;script&gt;"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("\\|x\\|"), std::string::npos) << md.out;
  // Every table line has as many cells as the header.
  std::istringstream lines(md.out);
  std::string header;
  std::getline(lines, header);
  const auto cells = [](const std::string& l) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < l.size(); ++i)
      if (l[i] == '|' && (i == 0 || l[i - 1] != '\\')) ++n;
    return n;
  };
  for (std::string l; std::getline(lines, l) && !l.empty();) EXPECT_EQ(cells(l), cells(header)) << l;

  const Outcome j = run_in(dir_, {"report", "--by", "model", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_NO_THROW((void)json::parse(j.out));
}

TEST_F(Output, EmptyStoreAndUnmatchedTaskAreExit2) {
  // A failed import leaves an empty (but valid) store behind.
  EXPECT_EQ(run_in(dir_, {"import", "codecarbon", (kCorpus / "header-only.csv").string()}).code, 2);
  ASSERT_TRUE(fs::exists(dir_ / "joulebench.db"));
  const Outcome empty = run_in(dir_, {"report", "--csv"});
  EXPECT_EQ(empty.code, 2) << empty.err;
  EXPECT_NE(empty.err.find("no inference measurements in joulebench.db"), std::string::npos) << empty.err;
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", (kCorpus / "formula-name.csv").string()}).code, 0);
  const Outcome task = run_in(dir_, {"report", "--task", "nosuch"});
  EXPECT_EQ(task.code, 2) << task.err;
  EXPECT_NE(task.err.find("no inference windows of task 'nosuch'"), std::string::npos) << task.err;
}

// A model with windows of two tasks, one of them stored without a task: the
// message names both (the empty one in words) and the flag that chooses.
TEST_F(Output, AModelWithSeveralTasksNamesThemAndTheFlag) {
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", "--task", "text-generation", (kCorpus / "gpt2-run-a.csv").string()})
                .code,
            0);
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", (kCorpus / "gpt2-run-b.csv").string()}).code, 0);
  const Outcome project = run_in(dir_, {"project", "--model", "gpt2", "--requests-per-day", "1000"});
  EXPECT_EQ(project.code, 2);
  EXPECT_NE(project.err.find("several tasks ((no task: a run stored without one), text-generation): choose one with "
                             "--task TASK"),
            std::string::npos)
      << project.err;
  EXPECT_EQ(run_in(dir_, {"project", "--model", "gpt2", "--task", "text-generation", "--requests-per-day", "1000"}).code,
            0);
  const Outcome label = run_in(dir_, {"report", "--label", "gpt2", "-o", "gpt2.svg"});
  EXPECT_EQ(label.code, 2);
  EXPECT_NE(label.err.find("choose one with --label-task TASK"), std::string::npos) << label.err;
  EXPECT_FALSE(fs::exists(dir_ / "gpt2.svg"));
  const Outcome ok = run_in(dir_, {"report", "--label", "gpt2", "--label-task", "text-generation", "-o", "gpt2.svg"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(slurp(dir_ / "gpt2.svg").find("<svg"), std::string::npos);
}

TEST_F(Output, AReadOnlyStoreIsReadNotWritten) {
  const std::string log = (kShared / "study-logs/complete/image_class_imagenet.csv").string();
  const Outcome no_folder = run_in(dir_, {"import", "codecarbon", log, "--store", "ro/s.db"});
  ASSERT_EQ(no_folder.code, 2) << "no folder ro yet: bad input\n" << no_folder.err;
  EXPECT_NE(no_folder.err.find("cannot open the store ro/s.db"), std::string::npos) << no_folder.err;
  fs::create_directories(dir_ / "ro");
  ASSERT_EQ(run_in(dir_, {"import", "codecarbon", log, "--store", "ro/s.db"}).code, 0);
  // A read-only file in a read-only folder, as a shared results store may be.
  fs::permissions(dir_ / "ro" / "s.db", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  // As nobody when we are root (root's writes ignore permissions).
  const std::optional<uid_t> user = ::geteuid() == 0 ? std::optional<uid_t>(65534) : std::nullopt;
  fs::permissions(dir_, fs::perms::all);  // nobody writes out.txt and err.txt here
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"report", "--store", "ro/s.db"},
                                                               {"study", "--store", "ro/s.db"},
                                                               {"report", "--runs", "--store", "ro/s.db"},
                                                               {"compare", "x", "y", "--store", "ro/s.db"}}) {
    const Outcome r = wait_for(spawn(dir_, cmd, "", user), dir_);
    const int want = cmd[0] == "compare" ? 2 : 0;  // no such models: bad input, but read, not refused
    EXPECT_EQ(r.code, want) << cmd[0] << ": " << r.err;
    EXPECT_EQ(r.err.find("readonly"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("read-only"), std::string::npos) << r.err;
  }
  // And a command that must write says so with the file's name.
  const Outcome w = wait_for(
      spawn(dir_, {"import", "codecarbon", (kCorpus / "pue-1000.csv").string(), "--store", "ro/s.db"}, "", user), dir_);
  EXPECT_NE(w.code, 0);
  EXPECT_NE(w.err.find("ro/s.db"), std::string::npos) << w.err;
  fs::permissions(dir_ / "ro", fs::perms::all);
}

// ---- concurrent writers ----

// Loops: JOULEBENCH_STRESS_LOOPS, default 100 (the bar); CI runs them all.
int loops(int default_loops) {
  const char* v = std::getenv("JOULEBENCH_STRESS_LOOPS");
  return v ? std::max(1, std::atoi(v)) : default_loops;
}

TEST_F(Output, EightImportsIntoANewStoreAtOnceAllSucceed) {
  const std::string file = (kShared / "study-logs/complete/image_class_imagenet.csv").string();
  for (int loop = 0; loop < loops(100); ++loop) {
    fs::remove(dir_ / "new.db");
    fs::remove(dir_ / "new.db-wal");
    fs::remove(dir_ / "new.db-shm");
    std::vector<pid_t> pids;
    for (int i = 0; i < 8; ++i) pids.push_back(spawn(dir_, {"import", "codecarbon", file, "--store", "new.db", "--json"},
                                                     std::to_string(i)));
    int imported = 0, duplicates = 0;
    for (int i = 0; i < 8; ++i) {
      const Outcome r = wait_for(pids[i], dir_, std::to_string(i));
      ASSERT_EQ(r.code, 0) << "loop " << loop << ", import " << i << ": " << r.err;
      const json j = json::parse(r.out);
      imported += j.at("imported").get<int>();
      duplicates += j.at("duplicates").get<int>();
    }
    ASSERT_EQ(imported, 80) << "loop " << loop << ": each row stored once";
    ASSERT_EQ(duplicates, 7 * 80) << "loop " << loop << ": the others say 'already stored'";
  }
}

// Two identical campaigns on one store at once: neither deletes the other's
// 'running' run as stale (its owner is alive), so both complete.
TEST_F(Output, TwoIdenticalBenchRunsOnOneStoreBothComplete) {
  if (!fs::exists(fs::path(JOULEBENCH_BINARY).parent_path() / "libjoulebench_zoo.so"))
    GTEST_SKIP() << "the model zoo (libtorch) is not built";
  const std::vector<std::string> bench{"bench", "--task", "text-classification", "--model", "tiny-distilbert-sst2",
                                       "--n", "2", "--reps", "2", "--warmup", "0", "--idle-baseline", "0",
                                       "--no-report", "--intensity", "100", "-q", "--store", "b.db"};
  for (int loop = 0; loop < loops(100); ++loop) {
    for (const char* f : {"b.db", "b.db-wal", "b.db-shm"}) fs::remove(dir_ / f);
    const pid_t a = spawn(dir_, bench, "a"), b = spawn(dir_, bench, "b");
    const Outcome ra = wait_for(a, dir_, "a"), rb = wait_for(b, dir_, "b");
    ASSERT_EQ(ra.code, 0) << "loop " << loop << ": " << ra.err;
    ASSERT_EQ(rb.code, 0) << "loop " << loop << ": " << rb.err;
    const Outcome runs = run_in(dir_, {"report", "--runs", "--json", "--store", "b.db"});
    ASSERT_EQ(runs.code, 0) << runs.err;
    int complete = 0;
    for (const auto& r : json::parse(runs.out)) complete += r.at("status") == "complete" && r.at("windows") == 2;
    // Both complete, or the second found the first's complete run and skipped the cell: never a lost run.
    ASSERT_GE(complete, 1) << "loop " << loop << ": " << runs.out;
    ASSERT_EQ(static_cast<int>(json::parse(runs.out).size()), complete) << "loop " << loop << ": " << runs.out;
  }
}

}  // namespace
