// Descriptors, pipes and pidfds (src/sys/fd.hpp): close-on-exec, closing,
// whole writes, and the OSError subclasses Python raises for their faults.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concur/errors.hpp"
#include "sys/fd.hpp"

namespace {

using concur::sys::FileDescriptor;
using concur::sys::make_pipe;

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(FileDescriptor, ClosesWhatItOwns) {
  int raw = -1;
  {
    auto pipe = make_pipe();
    raw = pipe.read.get();
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(FileDescriptor, ReleaseAndMoveHandOwnershipOver) {
  auto pipe = make_pipe();
  FileDescriptor moved = std::move(pipe.write);
  EXPECT_FALSE(pipe.write);
  const int raw = moved.release();
  EXPECT_FALSE(moved);
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(Pipe, EndsAreCloseOnExec) {
  auto pipe = make_pipe();
  EXPECT_NE(::fcntl(pipe.read.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(pipe.write.get(), F_GETFD) & FD_CLOEXEC, 0);
  auto nonblocking = make_pipe(O_NONBLOCK);
  EXPECT_NE(::fcntl(nonblocking.read.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(Pipe, WriteAllThenReadSome) {
  auto pipe = make_pipe();
  concur::sys::write_all(pipe.write.get(), Bytes("hello"));
  std::array<std::byte, 16> buffer{};
  EXPECT_EQ(concur::sys::read_some(pipe.read.get(), buffer), 5u);
  pipe.write.reset();
  EXPECT_EQ(concur::sys::read_some(pipe.read.get(), buffer), 0u);  // EOF
}

TEST(Pipe, WriteAllWritesMoreThanThePipeHolds) {
  auto pipe = make_pipe();
  const std::string big(1 << 20, 'x');  // 16 pipe buffers' worth
  std::thread reader([&] {
    std::array<std::byte, 4096> buffer{};
    std::size_t total = 0;
    while (std::size_t n = concur::sys::read_some(pipe.read.get(), buffer)) {
      total += n;
    }
    EXPECT_EQ(total, big.size());
  });
  concur::sys::write_all(pipe.write.get(), Bytes(big));
  pipe.write.reset();
  reader.join();
}

TEST(Pipe, ReadOnAnEmptyNonBlockingPipeIsBlockingIOError) {
  auto pipe = make_pipe();
  concur::sys::set_nonblocking(pipe.read.get(), true);
  std::array<std::byte, 4> buffer{};
  EXPECT_THROW(concur::sys::read_some(pipe.read.get(), buffer),
               concur::BlockingIOError);
  concur::sys::set_nonblocking(pipe.read.get(), false);
  EXPECT_EQ(::fcntl(pipe.read.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(Pipe, WriteAfterTheReaderHasGoneIsBrokenPipeError) {
  struct IgnoreSigpipe {
    IgnoreSigpipe() { previous = ::signal(SIGPIPE, SIG_IGN); }
    ~IgnoreSigpipe() { ::signal(SIGPIPE, previous); }
    sighandler_t previous;
  } ignore;
  auto pipe = make_pipe();
  pipe.read.reset();
  EXPECT_THROW(concur::sys::write_all(pipe.write.get(), Bytes("x")),
               concur::BrokenPipeError);
}

TEST(Pipe, ABadDescriptorIsAnOSError) {
  std::array<std::byte, 4> buffer{};
  try {
    concur::sys::read_some(-1, buffer);
    FAIL() << "expected OSError";
  } catch (const concur::OSError& e) {
    EXPECT_EQ(e.errnum(), EBADF);
  }
}

TEST(Pidfd, BecomesReadableWhenTheProcessEndsAndSignalsIt) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  struct Reaper {  // whatever happens below, the child ends and is reaped
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (reaped) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{child};
  FileDescriptor pidfd = concur::sys::pidfd_open(child);
  if (!pidfd) GTEST_SKIP() << "this kernel has no pidfds";
  pollfd idle{pidfd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&idle, 1, 0), 0);  // still running
  concur::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
  pollfd ended{pidfd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&ended, 1, 10'000), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  reaper.reaped = true;
  EXPECT_TRUE(WIFSIGNALED(status));
  // Reaped: the pidfd can never reach a process that reuses the pid.
  EXPECT_THROW(concur::sys::pidfd_send_signal(pidfd.get(), SIGKILL),
               concur::ProcessLookupError);
}

TEST(Pidfd, NoSuchProcessIsProcessLookupError) {
  if (!concur::sys::pidfd_open(::getpid())) {
    GTEST_SKIP() << "this kernel has no pidfds";
  }
  // Pids above the kernel's maximum (4194304) never exist.
  EXPECT_THROW(concur::sys::pidfd_open(1 << 30), concur::ProcessLookupError);
}

}  // namespace
