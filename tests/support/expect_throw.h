// Checking an error's message, not only its type: the message is the
// product (it names what is wrong and what to do).
//
//   EXPECT_THROW_MSG(parse_pue("-1.2"), InputError, "--pue");
//   const std::string m = jbtest::thrown_message<InputError>([&] { f(); });
//   EXPECT_NE(m.find("..."), std::string::npos) << m;   // several parts
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace jbtest {

// What `f` threw as E (a subclass too); a test failure, and a text that
// matches nothing, when it threw nothing.
template <class E, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return "(no exception was thrown)";
}

}  // namespace jbtest

#define EXPECT_THROW_MSG(statement, exception_type, needle)                                          \
  do {                                                                                               \
    const std::string jb_thrown_message_ = ::jbtest::thrown_message<exception_type>([&] { statement; }); \
    EXPECT_NE(jb_thrown_message_.find(needle), std::string::npos) << "message: " << jb_thrown_message_; \
  } while (0)
