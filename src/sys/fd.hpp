// File descriptors, pipes and process descriptors: the OS calls that the
// process modules (multiprocessing, subprocess) and the event loop share.
// Every call here retries on EINTR, creates descriptors close-on-exec, and
// reports failure as the OSError subclass Python would raise.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "concur/detail/sys/deadline.hpp"

namespace concur::sys {

// Owns one file descriptor and closes it when destroyed (an RAII int).
//
// Thread safety: distinct objects, safe; a shared object, not safe while
// one thread resets or moves it.
class FileDescriptor {
 public:
  FileDescriptor() noexcept = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~FileDescriptor() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  // Gives up ownership.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor held, if any, and takes `fd`. close() is not
  // retried on EINTR: on Linux the descriptor is gone either way, and a
  // retry could close one another thread has just opened.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

struct Pipe {
  FileDescriptor read;
  FileDescriptor write;
};

// A pipe, both ends close-on-exec, plus `flags` (O_NONBLOCK, O_DIRECT).
Pipe make_pipe(int flags = 0);
// Gives the pipe behind `fd` a 1 MiB buffer (Linux's default limit for
// unprivileged processes, /proc/sys/fs/pipe-max-size) where the system
// allows it, for pipes that carry bulk data: each wake-up of the reader
// then moves up to 1 MiB instead of 64 KiB. The kernel fills the buffer's
// pages only as data waits in it.
void grow_pipe(int fd) noexcept;

// Reads what is there, up to buffer.size() bytes, retrying on EINTR: 0 at
// end of file. Throws OSError (BlockingIOError on a non-blocking
// descriptor with nothing to read).
std::size_t read_some(int fd, std::span<std::byte> buffer);
// Writes every byte, retrying on EINTR and short writes. Throws OSError
// (BrokenPipeError when the reader has gone; SIGPIPE must be ignored or
// blocked for that, as Python ignores it); what was written before the
// failure stays written.
void write_all(int fd, std::span<const std::byte> data);

// The same for two buffers, one after the other, in one writev where the
// descriptor takes them at once (a frame's header and its payload).
void write_all(int fd, std::span<const std::byte> first,
               std::span<const std::byte> second);
// Reads until `buffer` is full or the end of file; returns the bytes read
// (fewer than asked only at end of file). Retries on EINTR; throws OSError.
std::size_t read_full(int fd, std::span<std::byte> buffer);

// Makes writes to a pipe or socket whose reader has gone fail with EPIPE
// (BrokenPipeError) instead of killing the process with SIGPIPE, as Python
// does at startup, unless the program has chosen a disposition of its own.
void ignore_sigpipe() noexcept;

void set_nonblocking(int fd, bool on);

// Waits until `fd` is readable (data, end of file, or an ended process
// behind a pidfd) or `deadline` passes; returns whether it is readable.
// Retries on EINTR with the time left. Throws OSError.
bool wait_readable(int fd, const Deadline& deadline);
// The same for several descriptors: the indexes of those readable, empty
// when the deadline passed first.
std::vector<std::size_t> wait_any_readable(std::span<const int> fds,
                                           const Deadline& deadline);

// A descriptor that refers to process `pid` (Linux 5.3 and later): it
// becomes readable when the process ends, and signals sent through it can
// never reach a later process that reuses the pid. An empty descriptor if
// the kernel lacks pidfds or a seccomp filter forbids them; throws OSError
// (ProcessLookupError) if there is no such process.
FileDescriptor pidfd_open(pid_t pid);
// Sends `signal` to the process behind `pidfd`. Throws OSError
// (ProcessLookupError once it has been reaped).
void pidfd_send_signal(int pidfd, int signal);

// Descriptors over a Unix socket (SCM_RIGHTS): sends all of `data` with
// `fds` attached to its first byte. Throws OSError.
void send_with_fds(int socket, std::span<const std::byte> data,
                   std::span<const int> fds);
// Receives up to buffer.size() bytes and the descriptors sent with them
// (appended to `fds`, close-on-exec); 0 at end of file. Throws OSError, and
// OSError (EMSGSIZE) if more descriptors came than fit in its control
// buffer (those are closed).
std::size_t receive_with_fds(int socket, std::span<std::byte> buffer,
                             std::vector<FileDescriptor>& fds);

}  // namespace concur::sys
