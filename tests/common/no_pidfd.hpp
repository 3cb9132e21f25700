// Makes this process look like one on a kernel without pidfds (before
// 5.3): a seccomp filter fails pidfd_open with ENOSYS from now on, so that
// tests reach the paths that poll, signal by pid and reap without one.
// The filter cannot be lifted: WithoutPidfds runs a test's checks in a
// child the test forks.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include <gtest/gtest.h>

#include "multiprocessing/child.hpp"

namespace concur::testing {

// False where the filter cannot be installed (an architecture this does
// not know, or seccomp unavailable).
inline bool forbid_pidfds() {
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
  constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#else
  constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#endif
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog filter{
      static_cast<unsigned short>(sizeof program / sizeof program[0]), program};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) return false;
  // The filter holds: the call the library makes now fails as on an old
  // kernel.
  return ::syscall(SYS_pidfd_open, ::getpid(), 0) == -1 && errno == ENOSYS;
#else
  return false;
#endif
}

// Runs `checks` in a child without pidfds; the child passes if no
// expectation failed there.
template <class Checks>
void WithoutPidfds(Checks checks) {
  concur_test::ExpectInChild([checks] {
    if (!forbid_pidfds()) {
      ADD_FAILURE() << "no seccomp filter";
      return false;
    }
    checks();
    return !::testing::Test::HasFailure();
  });
}

}  // namespace concur::testing
