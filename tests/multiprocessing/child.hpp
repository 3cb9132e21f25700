// Helpers for tests that run code in child processes: a gate a child waits
// on (no sleeps), a check that runs in a child and reports through its exit
// code, stderr capture, and the no-zombie check.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

#include <gtest/gtest.h>

#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"

namespace concur_test {

// A pipe a child blocks on until the parent opens it (writes a byte) or
// closes it: the child's wait() returns. Both ends stay open in children
// forked meanwhile, so open() is the way to let them go.
class Gate {
 public:
  Gate() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2";
  }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // In the child: blocks until open() (or the parent dies).
  void wait() const {
    char byte = 0;
    while (::read(fds_[0], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  // Lets `n` waiters through.
  void open(int n = 1) const {
    for (int i = 0; i < n; ++i) {
      while (::write(fds_[1], "x", 1) < 0 && errno == EINTR) {
      }
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

// A pipe the child writes a line of text to and the parent reads.
class Report {
 public:
  Report() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2";
  }
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;
  ~Report() {
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void send(const std::string& text) const {
    std::string line = text + "\n";
    ssize_t n = ::write(fds_[1], line.data(), line.size());
    static_cast<void>(n);
  }
  // In the parent: the next line.
  std::string receive() {
    std::string line;
    char c = 0;
    while (::read(fds_[0], &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  // In the parent, once the children that write are started: closes the
  // parent's write end, so that read_all() ends when they have.
  std::string read_all() {
    ::close(fds_[1]);
    fds_[1] = -1;
    std::string all;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fds_[0], buffer, sizeof buffer)) > 0) {
      all.append(buffer, static_cast<std::size_t>(n));
    }
    return all;
  }

 private:
  int fds_[2] = {-1, -1};
};

// Runs `check` (returning bool) in a child process; the child's exit code
// says whether it held.
template <class Check>
void ExpectInChild(Check check, const char* what = "check in child") {
  concur::multiprocessing::Process p(
      [check]() mutable { concur::sys::exit(check() ? 0 : 1); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0) << what;
}

// Captures what this process and its children write to stderr while the
// object lives; text() ends the capture (the writers must have closed
// their copies: join the children first).
class StderrCapture {
 public:
  StderrCapture() : saved_(::dup(STDERR_FILENO)) {
    if (::pipe2(fds_, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2";
    ::dup2(fds_[1], STDERR_FILENO);
    ::close(fds_[1]);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() {
    restore();
    ::close(fds_[0]);
  }
  std::string text() {
    restore();
    std::string all;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fds_[0], buffer, sizeof buffer)) > 0) {
      all.append(buffer, static_cast<std::size_t>(n));
    }
    return all;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  int saved_;
  int fds_[2] = {-1, -1};
};

// Whether this process has a child that ended and was never reaped, or any
// child at all: waitpid(-1, WNOHANG) finds none once every child is reaped.
inline bool HasUnreapedChildren() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid != 0;
}

}  // namespace concur_test
