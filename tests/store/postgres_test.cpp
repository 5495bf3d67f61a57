// The PostgreSQL store against a real server that this test starts itself
// (Debian package postgresql): initdb into a temporary folder as a non-root
// user, pg_ctl start on a free port with its unix socket in /tmp, one fresh
// database per test, pg_ctl stop at the end. Label: postgres.
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <set>
#include <thread>

#include "joulebench/error.h"
#include "joulebench/store.h"

extern char** environ;

using namespace joulebench;
namespace fs = std::filesystem;

namespace {

std::string pg_bin() {
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    const std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (fs::exists(dir + "/initdb")) return dir;
  }
  return {};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Runs argv (no shell), as `user` through runuser when this process is root.
int run(std::vector<std::string> argv, const std::string& user) {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", user, "--"});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // Their progress lines are noise in the test log; errors still go to stderr.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One server for the whole test binary.
class PostgresServer : public ::testing::Environment {
 public:
  void SetUp() override {
    bin_ = pg_bin();
    if (bin_.empty()) {
      why_not_ = "PostgreSQL server binaries not installed (scripts/setup.sh installs the Debian package postgresql)";
      return;
    }
    user_ = ::geteuid() == 0 ? "postgres" : "";
    if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
      why_not_ = "running as root without a 'postgres' user to run the server as";
      return;
    }
    dir_ = fs::path("/tmp") / ("jb-pg-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "socket");
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid);
      ::chown((dir_ / "socket").c_str(), pw->pw_uid, pw->pw_gid);
    }
    port_ = free_port();
    if (run({bin_ + "/initdb", "-D", (dir_ / "data").string(), "-A", "trust", "-U", "joulebench", "-E", "UTF8",
             "--no-sync"},
            user_) != 0) {
      why_not_ = "initdb failed";
      return;
    }
    if (run({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(), "-w", "-t",
             "30", "-o",
             "-p " + std::to_string(port_) + " -k " + (dir_ / "socket").string() +
                 " -c listen_addresses= -c fsync=off",
             "start"},
            user_) != 0) {
      why_not_ = "pg_ctl start failed; see " + (dir_ / "server.log").string();
      return;
    }
    started_ = true;
  }
  void TearDown() override {
    if (started_) run({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}, user_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  bool started() const { return started_; }
  const std::string& why_not() const { return why_not_; }
  std::string url(const std::string& db) const {
    return "postgresql://joulebench@/" + db + "?host=" + (dir_ / "socket").string() + "&port=" + std::to_string(port_);
  }
  int port() const { return port_; }

 private:
  std::string bin_, user_, why_not_;
  fs::path dir_;
  int port_ = 0;
  bool started_ = false;
};

PostgresServer* g_server = nullptr;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_server->started()) GTEST_SKIP() << g_server->why_not();
    db_ = "t_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (auto& c : db_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    pqxx::connection admin(g_server->url("postgres"));
    pqxx::nontransaction t(admin);
    t.exec("DROP DATABASE IF EXISTS " + t.quote_name(db_));
    t.exec("CREATE DATABASE " + t.quote_name(db_));
  }
  std::string url() const { return g_server->url(db_); }
  int count(const std::string& table) {
    pqxx::connection c(url());
    pqxx::work t(c);
    return t.exec("SELECT COUNT(*) FROM " + table)[0][0].as<int>();
  }

  static WindowRecord window(const std::string& model, double cpu_j) {
    WindowRecord w;
    w.task = "text-classification";
    w.model = model;
    w.dataset = "imdb";
    w.inferences = 1000;
    w.input_tokens = 58700;
    w.latency_p50_s = 0.008;
    w.repetition = 1;
    w.g_co2e = 1.5;
    w.measurement.name = model + "/imdb";
    w.measurement.start_time = std::chrono::system_clock::now();
    w.measurement.duration_s = 8.5;
    w.measurement.warnings = {"cpu energy is estimated"};
    ComponentEnergy cpu;
    cpu.component = Component::cpu;
    cpu.energy_j = cpu_j;
    cpu.attributed_energy_j = cpu_j / 2;
    cpu.provenance = {ProvenanceKind::measured, "rapl-powercap"};
    cpu.sources = {"rapl-powercap:package-0"};
    w.measurement.components = {cpu};
    return w;
  }
  static RunRecord run_record(int windows) {
    RunRecord r;
    r.kind = RunKind::bench;
    r.started_at = std::chrono::system_clock::now();
    r.ended_at = r.started_at + std::chrono::seconds(60);
    r.user = "tester";
    r.machine = {"host-a", "Linux-6.1", "Xeon", 16, "1 x H100", 1, 125.5};
    r.software = {{"joulebench", "0.1.0"}};
    r.intensity = intensity_for_country("FRA");
    r.pue = 1.1;
    r.pue_source = "preset hyperscale";
    r.config_json = R"({"preset":"small"})";
    r.source = "joulebench bench";
    for (int i = 0; i < windows; ++i) r.windows.push_back(window("model-" + std::to_string(i), 100.0 + i));
    return r;
  }

  std::string db_;
};

TEST_F(PostgresStoreTest, SameSchemaVersionAndMigratesOnce) {
  auto a = open_store(url());
  auto b = open_store(url());  // a second opener finds the schema in place
  EXPECT_EQ(a->schema_version(), b->schema_version());
  EXPECT_GE(a->schema_version(), 1);
  EXPECT_EQ(count("schema_version"), a->schema_version());
  EXPECT_EQ(a->location().find("postgresql://joulebench@"), 0u) << a->location();
}

TEST_F(PostgresStoreTest, SaveAndLoadRoundTripsEveryField) {
  auto store = open_store(url());
  RunRecord in = run_record(2);
  in.intensity.year = 2022;
  in.windows[1].phase = "warmup";
  in.windows[1].external_id = "cc-run-1";
  const std::string id = store->save_run(in);
  const auto out = store->load_run(id.substr(0, 8));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->id, id);
  EXPECT_EQ(out->kind, RunKind::bench);
  EXPECT_EQ(out->user, "tester");
  EXPECT_EQ(out->machine.cpu_count, 16);
  EXPECT_EQ(out->machine.ram_total_gb, 125.5);
  EXPECT_EQ(out->software.at("joulebench"), "0.1.0");
  EXPECT_EQ(out->intensity.country_iso3, "FRA");
  EXPECT_EQ(out->intensity.g_per_kwh, in.intensity.g_per_kwh);
  EXPECT_EQ(out->intensity.year, 2022);
  EXPECT_EQ(out->pue, 1.1);
  EXPECT_EQ(out->config_json, R"({"preset":"small"})");
  ASSERT_EQ(out->windows.size(), 2u);
  const auto& w = out->windows[0];
  EXPECT_EQ(w.seq, 1);
  EXPECT_EQ(w.model, "model-0");
  EXPECT_EQ(w.inferences, 1000);
  EXPECT_EQ(w.latency_p50_s, 0.008);
  EXPECT_FALSE(w.latency_p95_s.has_value());
  EXPECT_FALSE(w.output_tokens.has_value());
  EXPECT_EQ(w.measurement.duration_s, 8.5);
  ASSERT_EQ(w.measurement.components.size(), 1u);
  EXPECT_EQ(w.measurement.components[0].energy_j, 100.0);
  EXPECT_EQ(w.measurement.components[0].attributed_energy_j, 50.0);
  EXPECT_FALSE(w.measurement.components[0].dynamic_energy_j.has_value());
  EXPECT_EQ(w.measurement.components[0].provenance.to_string(), "measured:rapl-powercap");
  EXPECT_EQ(w.measurement.warnings, std::vector<std::string>{"cpu energy is estimated"});
  EXPECT_EQ(out->windows[1].phase, "warmup");
  EXPECT_TRUE(store->has_external_id("cc-run-1"));
  EXPECT_FALSE(store->has_external_id("cc-run-2"));
  // Phase filter: inference only by default.
  EXPECT_EQ(store->query_windows({}).size(), 1u);
}

TEST_F(PostgresStoreTest, DuplicateExternalIdRollsTheWholeRunBack) {
  auto store = open_store(url());
  RunRecord r = run_record(1);
  r.windows[0].external_id = "x";
  store->save_run(r);
  RunRecord again = run_record(3);
  again.windows[2].external_id = "x";
  EXPECT_ANY_THROW(store->save_run(again));
  EXPECT_EQ(store->list_runs().size(), 1u);
  EXPECT_EQ(count("windows"), 1);
}

TEST_F(PostgresStoreTest, IncrementalRunKeepsCommittedWindows) {
  auto store = open_store(url());
  const std::string id = store->begin_run(run_record(0));
  EXPECT_EQ(store->add_window(id, window("a", 1.0)), 1);
  EXPECT_EQ(store->add_window(id, window("b", 2.0)), 2);
  store->finish_run(id, RunStatus::interrupted, "stopped after 2 windows");
  EXPECT_THROW(store->add_window(id, window("c", 3.0)), InputError);
  EXPECT_THROW(store->add_window("no-such-run", window("c", 3.0)), InputError);
  const auto runs = store->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::interrupted);
  EXPECT_EQ(runs[0].windows, 2);
  EXPECT_DOUBLE_EQ(runs[0].energy_j, 3.0);
  EXPECT_EQ(runs[0].note, "stopped after 2 windows");
}

// Several machines: each writer has its own connection; some add windows to
// one shared run at the same time.
TEST_F(PostgresStoreTest, ConcurrentWriters) {
  const std::string shared = open_store(url())->begin_run(run_record(0));
  constexpr int kWriters = 4, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = open_store(url());
        for (int k = 0; k < kEach; ++k) {
          store->add_window(shared, window("w" + std::to_string(i), 1.0));
          if (k % 5 == 0) store->save_run(run_record(2));
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto store = open_store(url());
  const auto run = store->load_run(shared);
  ASSERT_TRUE(run.has_value());
  ASSERT_EQ(run->windows.size(), static_cast<std::size_t>(kWriters * kEach));
  std::set<int> seqs;
  for (const auto& w : run->windows) seqs.insert(w.seq);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kWriters * kEach));
  EXPECT_EQ(*seqs.rbegin(), kWriters * kEach);
  EXPECT_EQ(store->list_runs().size(), static_cast<std::size_t>(1 + kWriters * 2));
}

TEST_F(PostgresStoreTest, ValuesNeverBecomeSqlAndDeleteCascades) {
  auto store = open_store(url());
  RunRecord r = run_record(1);
  r.note = "'); DROP TABLE runs; --";
  r.windows[0].model = "Robert'); DROP TABLE windows;--";
  const std::string id = store->save_run(r);
  const auto back = store->load_run(id);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->note, r.note);
  EXPECT_EQ(back->windows[0].model, r.windows[0].model);
  EXPECT_TRUE(store->delete_run(id));
  EXPECT_FALSE(store->delete_run(id));
  EXPECT_EQ(count("windows"), 0);
  EXPECT_EQ(count("component_energy"), 0);
}

TEST_F(PostgresStoreTest, RefusesAStoreFromANewerJoulebench) {
  const int version = open_store(url())->schema_version();
  {
    pqxx::connection c(url());
    pqxx::work t(c);
    t.exec("INSERT INTO schema_version (version, applied_at, description) VALUES (" + std::to_string(version + 1) +
           ", 'now', 'future')");
    t.commit();
  }
  try {
    open_store(url());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(PostgresStoreTest, UnreachableServerErrorNeverShowsThePassword) {
  const std::string url = "postgresql://joulebench:hunter2secret@127.0.0.1:" + std::to_string(free_port()) +
                          "/none?connect_timeout=2";
  try {
    open_store(url);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to PostgreSQL"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2secret"), std::string::npos) << what;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  g_server = new PostgresServer;
  ::testing::AddGlobalTestEnvironment(g_server);  // owned by gtest
  return RUN_ALL_TESTS();
}
