// Benchmarks for concur::subprocess beside the raw calls it is built on:
// posix_spawn + waitpid (the floor), fork + execve + waitpid, and a raw
// poll loop through a pipe pair. Names are "<workload>/<implementation>",
// which bench/peers/run.py pairs with bench/peers/python/subprocess_peer.py.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/subprocess.hpp"

extern char** environ;

namespace {

namespace sp = concur::subprocess;

constexpr const char* kTrue = "/bin/true";
// The parent's memory for the *_1g rows: written, so a fork copies its
// page tables.
constexpr std::size_t kTouched = std::size_t{1} << 30;

std::vector<unsigned char> memory_for(bool large) {
  return large ? std::vector<unsigned char>(kTouched, 1)
               : std::vector<unsigned char>();
}

template <bool kLarge>
void spawn_concur(benchmark::State& state) {
  const auto memory = memory_for(kLarge);
  for (auto _ : state) {
    if (sp::call({kTrue}) != 0) state.SkipWithError("true failed");
  }
}
BENCHMARK(spawn_concur<false>)->Name("spawn_true/concur")->UseRealTime();
BENCHMARK(spawn_concur<true>)->Name("spawn_true_1g/concur")->UseRealTime();

template <bool kLarge>
void spawn_posix(benchmark::State& state) {
  const auto memory = memory_for(kLarge);
  char* argv[] = {const_cast<char*>(kTrue), nullptr};
  for (auto _ : state) {
    pid_t pid = 0;
    if (::posix_spawn(&pid, kTrue, nullptr, nullptr, argv, environ) != 0) {
      state.SkipWithError("posix_spawn failed");
      break;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
}
BENCHMARK(spawn_posix<false>)->Name("spawn_true/posix_spawn")->UseRealTime();
BENCHMARK(spawn_posix<true>)->Name("spawn_true_1g/posix_spawn")->UseRealTime();

template <bool kLarge>
void spawn_fork_exec(benchmark::State& state) {
  const auto memory = memory_for(kLarge);
  char* argv[] = {const_cast<char*>(kTrue), nullptr};
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execve(kTrue, argv, environ);
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (status != 0) state.SkipWithError("true failed");
  }
}
BENCHMARK(spawn_fork_exec<false>)->Name("spawn_true/fork_exec")->UseRealTime();
BENCHMARK(spawn_fork_exec<true>)
    ->Name("spawn_true_1g/fork_exec")
    ->UseRealTime();

// communicate_100m: 100 MiB into cat and back; one operation is one MiB.
constexpr std::size_t kBytes = std::size_t{100} << 20;

void communicate_concur(benchmark::State& state) {
  const std::string data(kBytes, 'x');
  for (auto _ : state) {
    sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    auto [out, err] = p.communicate(data);
    if (out.size() != kBytes) state.SkipWithError("short output");
  }
  state.counters["ops_per_iteration"] = kBytes >> 20;
}
BENCHMARK(communicate_concur)->Name("communicate_100m/concur")->UseRealTime();

// The same by hand: posix_spawn cat on two pipes, one poll loop.
void communicate_raw(benchmark::State& state) {
  const std::string data(kBytes, 'x');
  char* argv[] = {const_cast<char*>("/bin/cat"), nullptr};
  for (auto _ : state) {
    std::string out;  // each run returns its own, as communicate does
    int in[2];
    int from[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0) {
      state.SkipWithError("pipe2 failed");
      break;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from[1], 1);
    pid_t pid = 0;
    ::posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(from[1]);
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    ::fcntl(from[0], F_SETFL, O_NONBLOCK);
    std::size_t sent = 0;
    int write_fd = in[1];
    int read_fd = from[0];
    char buffer[1 << 16];
    while (read_fd >= 0) {
      pollfd fds[2];
      nfds_t n = 0;
      if (write_fd >= 0) fds[n++] = {write_fd, POLLOUT, 0};
      fds[n++] = {read_fd, POLLIN, 0};
      ::poll(fds, n, -1);
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == write_fd) {
          const long w = ::write(write_fd, data.data() + sent,
                                 std::min<std::size_t>(kBytes - sent, 1 << 16));
          if (w > 0) sent += static_cast<std::size_t>(w);
          if (sent == kBytes) {
            ::close(write_fd);
            write_fd = -1;
          }
        } else {
          const long r = ::read(read_fd, buffer, sizeof buffer);
          if (r > 0) {
            out.append(buffer, static_cast<std::size_t>(r));
          } else if (r == 0) {
            ::close(read_fd);
            read_fd = -1;
          }
        }
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out.size() != kBytes) state.SkipWithError("short output");
  }
  state.counters["ops_per_iteration"] = kBytes >> 20;
}
BENCHMARK(communicate_raw)->Name("communicate_100m/raw_pipe")->UseRealTime();

}  // namespace
