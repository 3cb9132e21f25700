#include "sys/fd.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "concur/errors.hpp"

namespace concur::sys {

namespace {

[[noreturn]] void fail() { throw_os_error(errno); }

template <class Call>
long retry_on_eintr(Call call) {
  long rc = 0;
  do {
    rc = call();
  } while (rc == -1 && errno == EINTR);
  return rc;
}

}  // namespace

void FileDescriptor::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

Pipe make_pipe(int flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) != 0) fail();
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

std::size_t read_some(int fd, std::span<std::byte> buffer) {
  const long n =
      retry_on_eintr([&] { return ::read(fd, buffer.data(), buffer.size()); });
  if (n < 0) fail();
  return static_cast<std::size_t>(n);
}

void write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const long n =
        retry_on_eintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) fail();
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) fail();
  const int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) fail();
}

FileDescriptor pidfd_open(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    // pidfd_open sets close-on-exec on every descriptor it makes.
    return FileDescriptor(static_cast<int>(fd));
  }
  // ENOSYS: a kernel before 5.3; EPERM: a seccomp filter that forbids it.
  if (errno == ENOSYS || errno == EPERM) return FileDescriptor();
  fail();
}

void pidfd_send_signal(int pidfd, int signal) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) != 0) {
    fail();
  }
}

}  // namespace concur::sys
