// Error policy: the library throws joulebench::Error (or InputError for bad
// user input) with a message that names the file, sensor or argument and says
// what to do. It never exits or aborts. A missing or forbidden sensor is not
// an error: it is a SensorStatus with a reason (see sensor.h).
#pragma once

#include <stdexcept>
#include <string>

namespace joulebench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from the user (argument, file, configuration). The CLI maps it to
// ExitCode::bad_input; other errors map to ExitCode::failure.
class InputError : public Error {
 public:
  using Error::Error;
};

// The command line's exit codes, all of them (README "Exit codes").
// `measure` returns the measured command's own status instead.
enum class ExitCode : int {
  ok = 0,
  failure = 1,    // a runtime error (Error, or any other exception)
  bad_input = 2,  // bad usage or input (InputError, a parse error)
  partial = 3,    // some of the work failed, the rest is kept (bench, import)
  cannot_start = 127,  // measure: the command could not be started (as a shell says)
};
constexpr int exit_status(ExitCode code) { return static_cast<int>(code); }
// A process killed by signal N, as a shell reports it (Ctrl-C: 130).
constexpr int exit_status_for_signal(int signal_number) { return 128 + signal_number; }

}  // namespace joulebench
