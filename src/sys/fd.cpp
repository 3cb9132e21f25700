#include "sys/fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

void grow_pipe(int fd) noexcept {
  static_cast<void>(::fcntl(fd, F_SETPIPE_SZ, 1 << 20));
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

void write_all(int fd, std::span<const std::byte> first,
               std::span<const std::byte> second) {
  while (!first.empty()) {
    iovec parts[2] = {{const_cast<std::byte*>(first.data()), first.size()},
                      {const_cast<std::byte*>(second.data()), second.size()}};
    const long n = retry_on_eintr([&] { return ::writev(fd, parts, 2); });
    if (n < 0) fail();
    const auto written = static_cast<std::size_t>(n);
    if (written < first.size()) {
      first = first.subspan(written);
    } else {
      second = second.subspan(written - first.size());
      first = {};
    }
  }
  write_all(fd, second);
}

std::size_t read_full(int fd, std::span<std::byte> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const std::size_t n = read_some(fd, buffer.subspan(done));
    if (n == 0) break;
    done += n;
  }
  return done;
}

void ignore_sigpipe() noexcept {
  static const bool done = [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
    return true;
  }();
  static_cast<void>(done);
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) fail();
  const int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) fail();
}

std::vector<std::size_t> wait_any_readable(std::span<const int> fds,
                                           const Deadline& deadline) {
  std::vector<pollfd> polled(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) polled[i] = {fds[i], POLLIN, 0};
  for (;;) {
    const int n = ::poll(polled.data(), polled.size(),
                         deadline.is_never() ? -1 : deadline.poll_timeout_ms());
    if (n < 0 && errno != EINTR) fail();
    std::vector<std::size_t> ready;
    if (n > 0) {
      for (std::size_t i = 0; i < polled.size(); ++i) {
        // POLLHUP and POLLERR count: a read would not block.
        if (polled[i].revents != 0) ready.push_back(i);
      }
      return ready;
    }
    // poll rounds up to milliseconds: it times out at or after the deadline.
    if (n == 0) return ready;
  }
}

bool wait_readable(int fd, const Deadline& deadline) {
  return !wait_any_readable({&fd, 1}, deadline).empty();
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

namespace {
// A request carries a process's arguments' descriptors: a few dozen at most.
constexpr std::size_t kMaxFds = 64;
}  // namespace

void send_with_fds(int socket, std::span<const std::byte> data,
                   std::span<const int> fds) {
  if (fds.size() > kMaxFds) throw_os_error(EMSGSIZE);
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))] = {};
  iovec part{const_cast<std::byte*>(data.data()), data.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  if (!fds.empty()) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(header), fds.data(), fds.size() * sizeof(int));
  }
  const long n =
      retry_on_eintr([&] { return ::sendmsg(socket, &message, MSG_NOSIGNAL); });
  if (n < 0) fail();
  // The descriptors went with the first byte; the rest is plain data.
  write_all(socket, data.subspan(static_cast<std::size_t>(n)));
}

std::size_t receive_with_fds(int socket, std::span<std::byte> buffer,
                             std::vector<FileDescriptor>& fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  iovec part{buffer.data(), buffer.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const long n = retry_on_eintr(
      [&] { return ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC); });
  if (n < 0) fail();
  for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr;
       h = CMSG_NXTHDR(&message, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if ((message.msg_flags & MSG_CTRUNC) != 0) throw_os_error(EMSGSIZE);
  return static_cast<std::size_t>(n);
}

}  // namespace concur::sys
