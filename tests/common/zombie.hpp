// Whether this process has a child that has ended and was never reaped,
// for tests that check no zombie is left.
#pragma once

#include <sys/wait.h>

namespace concur::testing {

inline bool has_zombie() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid != 0;
}

}  // namespace concur::testing
