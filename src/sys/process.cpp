#include "sys/process.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "concur/errors.hpp"

namespace concur::sys {

int returncode_of(int wait_status) noexcept {
  if (WIFSIGNALED(wait_status)) return -WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

std::optional<int> reap(pid_t pid, bool block) {
  int status = 0;
  pid_t rc = 0;
  do {
    rc = ::waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw_os_error(errno);
  if (rc == 0) return std::nullopt;
  return returncode_of(status);
}

void wait_ended(pid_t pid) noexcept {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) <
             0 &&
         errno == EINTR) {
  }
}

bool stdin_from_devnull() noexcept {
  const long fd =
      ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // dup3 without O_CLOEXEC: descriptor 0 stays open across exec.
  const bool ok =
      fd == STDIN_FILENO || ::syscall(SYS_dup3, fd, STDIN_FILENO, 0) == 0;
  if (fd != STDIN_FILENO) ::close(static_cast<int>(fd));
  return ok;
}

void exit_now(int code) noexcept {
  for (;;) ::syscall(SYS_exit_group, code);
}

int thread_count() noexcept {
  // /proc/self/stat: "pid (comm) state ..." with num_threads the 20th
  // field; comm may hold spaces and parentheses, so count from the last ')'.
  const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[1024];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* p = std::strrchr(text, ')');
  if (p == nullptr) return 0;
  // After ')': field 3 (state) onwards; num_threads is field 20.
  for (int field = 2; field < 20 && p != nullptr; ++field) {
    p = std::strchr(p + 1, ' ');
  }
  return p != nullptr ? std::atoi(p + 1) : 0;
}

}  // namespace concur::sys
