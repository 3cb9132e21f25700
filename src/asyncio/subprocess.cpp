// Child processes on the event loop: a Popen whose pipes become streams
// and whose end the loop watches (Python's asyncio/subprocess.py and the
// unix child watcher beneath it).
#include "concur/asyncio/subprocess.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "asyncio/channel.hpp"
#include "asyncio/loop_registry.hpp"
#include "asyncio/stream.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/errors.hpp"
#include "sys/fd.hpp"

namespace concur::asyncio_detail {

// One child: its Popen, its returncode once the loop has seen it end, and
// the tasks waiting for that. Lives on the loop's thread.
struct ProcessState {
  ProcessState(asyncio::EventLoop& l, subprocess::Popen p)
      : loop(&l), popen(std::move(p)) {}
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;
  // A child still running is handed to subprocess's reaper by ~Popen.
  ~ProcessState() { stop_watching(); }

  // Learns of the end through the pidfd (readable once the child has
  // ended); without one, polls, backing off from 100 µs to 50 ms.
  void watch() {
    const int fd = subprocess_detail::pidfd_of(popen);
    if (fd >= 0) {
      loop->add_reader(fd, [this] { check_ended(); });
      watched_fd = fd;
    } else {
      poll_timer = loop->call_later(nap, [this] { check_ended(); });
    }
  }

  void stop_watching() noexcept {
    poll_timer.cancel();
    if (watched_fd < 0) return;
    // The loop may be closed (or gone) before the last handle of a child.
    if (loop_alive(loop) && !loop->is_closed()) {
      try {
        loop->remove_reader(watched_fd);
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to undo
      }
    }
    watched_fd = -1;
  }

  void check_ended() {
    returncode = popen.poll();
    if (returncode) {
      stop_watching();
      waiters.wake_up_to(waiters.size());
    } else if (watched_fd < 0) {
      nap = std::min(nap * 2, std::chrono::microseconds(50'000));
      poll_timer = loop->call_later(nap, [this] { check_ended(); });
    }
  }

  asyncio::EventLoop* loop;
  subprocess::Popen popen;
  std::optional<int> returncode;
  WaitList waiters;
  int watched_fd = -1;
  asyncio::Handle poll_timer;
  std::chrono::microseconds nap{100};
};

namespace {

using asyncio::Task;

void check_options(const subprocess::Options& options) {
  if (options.input) {
    throw ValueError("input belongs to communicate(), not to the launch.");
  }
  if (options.capture_output || options.timeout || options.check) {
    throw ValueError(
        "capture_output, timeout and check belong to subprocess::run.");
  }
  if (options.text) throw ValueError("text must be false.");
  if (options.shell) throw ValueError("shell must be false.");
}

std::optional<asyncio::StreamReader> reader_of(asyncio::EventLoop& loop,
                                               subprocess::Popen& popen,
                                               int stream, std::size_t limit) {
  const int fd = subprocess_detail::release_pipe(popen, stream);
  if (fd < 0) return std::nullopt;
  return asyncio::StreamReader(
      std::make_shared<Stream>(loop, pipe_channel(sys::FileDescriptor(fd)),
                               limit, Stream::Halves::kReadOnly));
}

Task<int> wait_impl(std::shared_ptr<ProcessState> s) {
  while (!s->returncode) {
    co_await ListWait(s->waiters);
  }
  co_return *s->returncode;
}

bool lost_pipe(const OSError& e) noexcept {
  return dynamic_cast<const BrokenPipeError*>(&e) != nullptr ||
         dynamic_cast<const ConnectionResetError*>(&e) != nullptr;
}

// Writes the input and closes stdin; a child that closed it first is no
// error (Python's _feed_stdin).
Task<void> feed(std::optional<asyncio::StreamWriter> writer,
                std::string_view input) {
  if (!writer) co_return;
  try {
    if (!input.empty()) {
      writer->write(input);
      co_await writer->drain();
    }
  } catch (const OSError& e) {
    if (!lost_pipe(e)) throw;
  }
  writer->close();
  co_await writer->wait_closed();
}

Task<std::string> read_all(std::optional<asyncio::StreamReader> reader) {
  if (!reader) co_return std::string();
  std::string all = co_await reader->read();
  co_return all;
}

Task<std::pair<std::string, std::string>> communicate_impl(
    std::shared_ptr<ProcessState> s, std::optional<asyncio::StreamWriter> in,
    std::optional<asyncio::StreamReader> out,
    std::optional<asyncio::StreamReader> err, std::string_view input) {
  Task<void> feeding = feed(std::move(in), input);
  Task<std::string> reading_out = read_all(std::move(out));
  Task<std::string> reading_err = read_all(std::move(err));
  auto all = asyncio::gather(std::move(feeding), std::move(reading_out),
                             std::move(reading_err));
  auto results = co_await std::move(all);
  Task<int> waiting = wait_impl(std::move(s));
  co_await std::move(waiting);
  co_return std::pair<std::string, std::string>(
      std::move(std::get<1>(results)), std::move(std::get<2>(results)));
}

}  // namespace

asyncio::Process start_process(const subprocess::Args& args,
                               const subprocess::Options& options,
                               std::size_t limit) {
  asyncio::EventLoop& loop = asyncio::get_running_loop();
  subprocess::Popen popen(args, options);
  auto s = std::make_shared<ProcessState>(loop, std::move(popen));
  asyncio::Process p;
  const int in = subprocess_detail::release_pipe(s->popen, 0);
  if (in >= 0) {
    p.stdin = asyncio::StreamWriter(
        std::make_shared<Stream>(loop, pipe_channel(sys::FileDescriptor(in)),
                                 limit, Stream::Halves::kWriteOnly));
  }
  p.stdout = reader_of(loop, s->popen, 1, limit);
  p.stderr = reader_of(loop, s->popen, 2, limit);
  s->watch();
  p.s_ = std::move(s);
  return p;
}

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

pid_t Process::pid() const { return state().popen.pid(); }

std::optional<int> Process::returncode() const { return state().returncode; }

Task<int> Process::wait() {
  state();
  return asyncio_detail::wait_impl(s_);
}

Task<std::pair<std::string, std::string>> Process::communicate(
    std::optional<std::string_view> input) {
  state();
  if (input && !stdin) {
    throw ValueError("communicate() input needs stdin=PIPE.");
  }
  // The streams are shared with the handle: stdin ends closed.
  return asyncio_detail::communicate_impl(s_, stdin, stdout, stderr,
                                          input.value_or(std::string_view()));
}

void Process::send_signal(int signum) {
  asyncio_detail::ProcessState& s = state();
  // Once reaped, the pid may be another process's.
  if (s.returncode) return;
  s.popen.send_signal(signum);
}

void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

asyncio_detail::ProcessState& Process::state() const {
  if (!s_) throw RuntimeError("the Process has no child (default-made).");
  return *s_;
}

Process create_subprocess_exec(const subprocess::Args& args,
                               const subprocess::Options& options,
                               std::size_t limit) {
  asyncio_detail::check_options(options);
  return asyncio_detail::start_process(args, options, limit);
}

Process create_subprocess_shell(std::string_view cmd,
                                const subprocess::Options& options,
                                std::size_t limit) {
  asyncio_detail::check_options(options);
  subprocess::Options shell = options;
  shell.shell = true;
  return asyncio_detail::start_process(subprocess::Args(cmd), shell, limit);
}

}  // namespace concur::asyncio
