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
// exit code 2; other errors map to 1.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace joulebench
