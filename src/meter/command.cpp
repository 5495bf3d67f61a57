// run_command: posix_spawnp (no shell, no fork of a multi-threaded process's
// memory), signal forwarding, exit status. Exec failures come back from
// posix_spawnp itself (glibc reports them since 2.24), so a missing command is
// an error here, not a child that exits 127.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "joulebench/error.h"
#include "joulebench/tracker.h"

extern char** environ;

namespace joulebench {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<pid_t> g_child{0};
std::atomic<int> g_pending{0};  // a signal that arrived before the child existed
static_assert(std::atomic<pid_t>::is_always_lock_free, "signal handler needs a lock-free pid");

void forward(int sig, siginfo_t* info, void*) {
  // Only signals sent by a process (kill, systemd, a job scheduler). A
  // terminal's Ctrl-C (si_code SI_KERNEL) already reached the child through
  // its process group; sending it again would interrupt it twice.
  if (info && info->si_code > 0) return;
  const pid_t child = g_child.load();
  if (child > 0) {
    ::kill(child, sig);
  } else {
    g_pending.store(sig);
  }
}

// Installs the forwarding handlers for the scope of one command; a signal
// that was ignored (nohup) stays ignored, for us and the command.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_child.store(0);
    g_pending.store(0);
    for (std::size_t i = 0; i < std::size(kForwarded); ++i) {
      struct sigaction old {};
      ::sigaction(kForwarded[i], nullptr, &old);
      saved_[i] = old;
      if (old.sa_handler == SIG_IGN) continue;
      struct sigaction sa {};
      sa.sa_sigaction = forward;
      sa.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset(&sa.sa_mask);
      ::sigaction(kForwarded[i], &sa, nullptr);
    }
  }
  void child_started(pid_t pid) {
    g_child.store(pid);
    if (const int sig = g_pending.exchange(0)) ::kill(pid, sig);
  }
  ~SignalForwarding() {
    for (std::size_t i = 0; i < std::size(kForwarded); ++i) ::sigaction(kForwarded[i], &saved_[i], nullptr);
    g_child.store(0);
  }

 private:
  struct sigaction saved_[std::size(kForwarded)] {};
};

std::string describe_start_error(const std::string& program, int err) {
  std::string why = std::strerror(err);
  if (err == ENOENT)
    why += program.find('/') == std::string::npos ? " (not found in PATH)" : " (no such file)";
  else if (err == EACCES)
    why += " (not executable, or a directory on the way is not searchable)";
  return "cannot run '" + program + "': " + why;
}

}  // namespace

void check_command_startable(const std::vector<std::string>& argv) {
  if (argv.empty()) throw InputError("no command to run: give it after '--', e.g. joulebench measure -- sleep 1");
  const std::string& program = argv.front();
  auto runnable = [](const std::string& path) -> int {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EACCES;
    return ::access(path.c_str(), X_OK) == 0 ? 0 : errno;
  };
  int err = ENOENT;
  if (program.find('/') != std::string::npos) {
    err = runnable(program);
  } else {
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "/usr/local/bin:/bin:/usr/bin";  // posix_spawnp's default
    for (std::size_t start = 0; start <= dirs.size();) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
      const int e = runnable(dir + "/" + program);
      if (e == 0) return;
      if (e == EACCES) err = EACCES;  // as execvp: a non-executable match is reported if nothing better is found
      start = end + 1;
    }
  }
  if (err != 0) throw CommandStartError(describe_start_error(program, err));
}

CommandResult run_command(Tracker& tracker, const std::vector<std::string>& argv) {
  if (argv.empty()) throw InputError("no command to run: give it after '--', e.g. joulebench measure -- sleep 1");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // The forwarding handlers are process-wide: one command at a time.
  static std::mutex one_at_a_time;
  std::unique_lock busy(one_at_a_time, std::try_to_lock);
  if (!busy.owns_lock())
    throw Error("run_command: another command is already running in this process; run them one after the other");

  Meter& meter = tracker.meter();
  const AttributionTarget saved_target = meter.attribution();
  // Named after the program; a suffix if the caller has a window of that name open.
  std::string window = argv.front();
  for (int n = 2; meter.window_open(window); ++n) window = argv.front() + "#" + std::to_string(n);
  CommandResult result;
  result.argv = argv;
  {
    SignalForwarding signals;
    // At begin the command does not exist yet: its tree counts from 0, and
    // our reaped children's CPU time is the baseline.
    meter.set_attribution({0, true});
    meter.begin_window(window);
    pid_t pid = 0;
    const int err = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
    if (err != 0) {
      meter.end_window(window);
      meter.set_attribution(saved_target);
      throw CommandStartError(describe_start_error(argv.front(), err));
    }
    meter.set_attribution({pid, true});
    signals.child_started(pid);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        const int wait_err = errno;
        meter.end_window(window);
        meter.set_attribution(saved_target);
        throw Error("waiting for '" + argv.front() + "' failed: " + std::strerror(wait_err));
      }
    }
    result.measurement = meter.end_window(window);
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.term_signal = WTERMSIG(status);
      result.exit_code = exit_status_for_signal(result.term_signal);
    }
  }
  meter.set_attribution(saved_target);
  return result;
}

}  // namespace joulebench
