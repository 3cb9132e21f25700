// Bad timeouts, as CPython's suites try them: the NaN and infinite
// durations every module's bad-input tests pass, and the check that a call
// rejects NaN with Python's message.
#pragma once

#include <chrono>
#include <limits>

#include <gtest/gtest.h>

#include "concur/errors.hpp"

namespace concur_test {

inline const std::chrono::duration<double> kNaN(
    std::numeric_limits<double>::quiet_NaN());
inline const std::chrono::duration<double> kInf(
    std::numeric_limits<double>::infinity());

// Runs `call` and checks that it throws ValueError with Python's message
// for a NaN timeout; `what` names the call in a failure.
template <class Call>
void ExpectNaNRejected(Call call, const char* what) {
  try {
    call();
    ADD_FAILURE() << what << ": no ValueError";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "Invalid value NaN (not a number)") << what;
  }
}

}  // namespace concur_test
