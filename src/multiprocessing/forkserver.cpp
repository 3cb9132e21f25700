#include "multiprocessing/forkserver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/fork.hpp"
#include "concur/annotations.hpp"
#include "concur/errors.hpp"
#include "concur/threading.hpp"
#include "sys/process.hpp"
#include "sys/spawn.hpp"

extern char** environ;

namespace concur::multiprocessing_detail {

namespace {

namespace cd = concur::detail;

// Names the server's end of its connection in the server's environment.
constexpr const char* kServerVariable = "CONCUR_FORKSERVER_FD";
// A request's description is a few hundred bytes plus the encoded
// arguments; anything near this is not a request.
constexpr std::uint64_t kMaxRequest = std::uint64_t{1} << 30;

// ---------------------------------------------------------------------------
// The server.

struct Running {
  pid_t pid;
  int status;  // the write end of its status pipe
};

void report_ended(std::vector<Running>& running) {
  int wait_status = 0;
  pid_t pid = 0;
  while ((pid = ::waitpid(-1, &wait_status, WNOHANG)) > 0) {
    for (auto it = running.begin(); it != running.end(); ++it) {
      if (it->pid != pid) continue;
      const std::int32_t code = sys::returncode_of(wait_status);
      // A client that has gone does not stop the server.
      static_cast<void>(::write(it->status, &code, sizeof code));
      ::close(it->status);
      running.erase(it);
      break;
    }
  }
}

// Reads one request: false at end of file (the client has gone).
bool read_request(int socket, std::vector<std::byte>& payload,
                  std::vector<sys::FileDescriptor>& fds) {
  fds.clear();
  std::uint64_t length = 0;
  auto* header = reinterpret_cast<std::byte*>(&length);
  const std::size_t got =
      sys::receive_with_fds(socket, {header, sizeof length}, fds);
  if (got == 0) return false;
  if (sys::read_full(socket, {header + got, sizeof length - got}) !=
          sizeof length - got ||
      length > kMaxRequest || fds.size() < kRequestFds) {
    return false;
  }
  payload.resize(length);
  return sys::read_full(socket, payload) == length;
}

[[noreturn]] void become_child(int socket, int signals,
                               const std::vector<Running>& running,
                               const sigset_t& old_mask,
                               std::vector<std::byte>& payload,
                               std::vector<sys::FileDescriptor>& fds) {
  ::close(socket);
  ::close(signals);
  for (const Running& r : running) ::close(r.status);
  // The server and its children have one thread.
  // NOLINTBEGIN(concurrency-mt-unsafe)
  ::signal(SIGCHLD, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  // NOLINTEND(concurrency-mt-unsafe)
  ::dup2(fds[kRequestStdout].get(), STDOUT_FILENO);
  ::dup2(fds[kRequestStderr].get(), STDERR_FILENO);
  std::vector<int> owned(fds.size(), -1);
  for (std::size_t i = kRequestFds; i < fds.size(); ++i) {
    owned[i] = fds[i].release();
  }
  fds.clear();  // closes the stdio copies and the status pipe's write end
  run_server_child(payload, std::move(owned));
}

[[noreturn]] void serve(int socket) {
  // The launcher gave SIGPIPE back its default: a caller that went away
  // must end a send with EPIPE, not end the server.
  sys::ignore_sigpipe();
  sigset_t chld;
  sigset_t old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the server has one thread.
  ::sigprocmask(SIG_BLOCK, &chld, &old_mask);
  const int signals = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) sys::exit_now(1);
  std::vector<Running> running;
  std::vector<std::byte> payload;
  std::vector<sys::FileDescriptor> fds;
  for (;;) {
    pollfd watch[2] = {{socket, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(watch, 2, -1) < 0) {
      if (errno == EINTR) continue;
      sys::exit_now(1);
    }
    if ((watch[1].revents & POLLIN) != 0) {
      signalfd_siginfo info;
      while (::read(signals, &info, sizeof info) > 0) {
      }
      report_ended(running);
    }
    if (watch[0].revents == 0) continue;
    bool ok = false;
    try {
      ok = read_request(socket, payload, fds);
    } catch (const Error&) {
      ok = false;
    }
    if (!ok) sys::exit_now(0);
    const pid_t pid = ::fork();
    if (pid == 0)
      become_child(socket, signals, running, old_mask, payload, fds);
    std::int64_t answer = pid > 0 ? pid : -errno;
    sys::FileDescriptor pidfd;
    if (pid > 0) {
      pidfd = sys::pidfd_open(pid);
      running.push_back({pid, fds[kRequestStatus].release()});
    }
    fds.clear();
    const int attached[1] = {pidfd.get()};
    try {
      sys::send_with_fds(socket, std::as_bytes(std::span(&answer, 1)),
                         std::span(attached, pidfd ? 1 : 0));
    } catch (const Error&) {
      sys::exit_now(0);
    }
  }
}

// Before main(), after the program's own static initializers (this object
// is linked after the program's): the server is this program started anew
// with kServerVariable set. (Static initialisation has one thread.)
// NOLINTBEGIN(concurrency-mt-unsafe)
__attribute__((constructor)) void become_server_if_asked() {
  const char* value = std::getenv(kServerVariable);
  if (value == nullptr) return;
  const int socket = std::atoi(value);
  ::unsetenv(kServerVariable);
  serve(socket);
}
// NOLINTEND(concurrency-mt-unsafe)

// ---------------------------------------------------------------------------
// The client: this process's connection to its server.

class Client {
 public:
  ServerChild spawn(std::span<const std::byte> request,
                    std::span<const int> fds) {
    concur::ScopedLock guard(mu_);
    for (int attempt = 0;; ++attempt) {
      if (!socket_) start_locked();
      try {
        return ask_locked(request, fds);
      } catch (const ConnectionError&) {
        // The server died since the last request: start another, once.
        socket_.reset();
        int ignored = 0;
        while (::waitpid(server_pid_, &ignored, 0) < 0 && errno == EINTR) {
        }
        if (attempt == 1) throw;
      }
    }
  }

  // Around fork(): a child has no server of its own yet.
  void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS { mu_.acquire(); }
  void unlock_after_fork(bool in_child) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (in_child) socket_.reset();
    mu_.release();
  }

 private:
  void start_locked() CONCUR_REQUIRES(mu_) {
    sys::ignore_sigpipe();
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw_os_error(errno);
    }
    sys::FileDescriptor mine(pair[0]);
    sys::FileDescriptor theirs(pair[1]);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, kServerVariable, std::strlen(kServerVariable)) !=
          0) {
        env.push_back(*e);
      }
    }
    std::string variable =
        std::string(kServerVariable) + "=" + std::to_string(theirs.get());
    env.push_back(variable.data());
    env.push_back(nullptr);
    // The server's own stdio is /dev/null: each child gets the caller's
    // stdout and stderr of the moment it starts, and a server holding them
    // would keep a pipe behind them open after the caller closed it.
    const sys::FileDescriptor null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw_os_error(errno, "/dev/null");
    char* argv[] = {program_invocation_name, nullptr};
    const int passed[1] = {theirs.get()};
    sys::SpawnPlan plan;
    plan.file = "/proc/self/exe";
    plan.argv = argv;
    plan.envp = env.data();
    plan.streams[0] = plan.streams[1] = plan.streams[2] = null.get();
    plan.pass_fds = passed;
    plan.pass_fd_count = 1;
    // The server starts with no signal blocked (the calling thread's mask
    // is its own business), and so do its children.
    const sys::SpawnResult started = sys::spawn(plan);
    if (started.pid < 0) throw_os_error(started.error);
    const pid_t pid = started.pid;
    // The server is this process's child. It ends when its connection
    // closes (this process ends, or calls this again after the server
    // died), and is reaped here then.
    server_pid_ = pid;
    socket_ = std::move(mine);
  }

  ServerChild ask_locked(std::span<const std::byte> request,
                         std::span<const int> fds) CONCUR_REQUIRES(mu_) {
    std::vector<std::byte> message(sizeof(std::uint64_t) + request.size());
    const std::uint64_t length = request.size();
    std::memcpy(message.data(), &length, sizeof length);
    std::memcpy(message.data() + sizeof length, request.data(), request.size());
    sys::send_with_fds(socket_.get(), message, fds);
    std::int64_t answer = 0;
    auto* bytes = reinterpret_cast<std::byte*>(&answer);
    std::vector<sys::FileDescriptor> received;
    const std::size_t got =
        sys::receive_with_fds(socket_.get(), {bytes, sizeof answer}, received);
    if (got == 0 ||
        sys::read_full(socket_.get(), {bytes + got, sizeof answer - got}) !=
            sizeof answer - got) {
      throw_os_error(EPIPE);
    }
    if (answer < 0) throw_os_error(static_cast<int>(-answer));
    ServerChild child{static_cast<pid_t>(answer), {}};
    if (!received.empty()) child.pidfd = std::move(received.front());
    return child;
  }

  threading::Lock mu_;
  sys::FileDescriptor socket_ CONCUR_GUARDED_BY(mu_);
  pid_t server_pid_ CONCUR_GUARDED_BY(mu_) = 0;
};

// Never destroyed: children may be started while statics die.
Client& client() {
  static auto* c = [] {
    cd::at_fork(cd::ForkOrder::kForkserver,
                {[] { client().lock_for_fork(); },
                 [] { client().unlock_after_fork(false); },
                 [] { client().unlock_after_fork(true); }});
    return new Client;
  }();
  return *c;
}

}  // namespace

ServerChild spawn_from_server(std::span<const std::byte> request,
                              std::span<const int> fds) {
  return client().spawn(request, fds);
}

}  // namespace concur::multiprocessing_detail
