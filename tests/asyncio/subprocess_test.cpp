// asyncio subprocesses against real programs (cat, sh, sleep, true), after
// CPython's test_asyncio/test_subprocess.py: pipes both ways, communicate
// with large data, returncodes and signals, redirections, timeouts, misuse,
// many children on one loop and loops on many threads, leaks; and the
// child watch where the kernel has no pidfds.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/no_pidfd.hpp"
#include "common/open_fds.hpp"
#include "common/zombie.hpp"
#include "concur/asyncio.hpp"

namespace {

using namespace std::chrono_literals;
namespace asyncio = concur::asyncio;
namespace sp = concur::subprocess;
using asyncio::Task;
using concur::testing::has_zombie;
using concur::testing::open_fds;
using concur::testing::WithoutPidfds;

using Outputs = std::pair<std::string, std::string>;

Task<Outputs> cat_communicate(std::string input) {
  asyncio::Process p = asyncio::create_subprocess_exec(
      "cat", {.stdin = asyncio::PIPE, .stdout = asyncio::PIPE});
  EXPECT_GT(p.pid(), 0);
  EXPECT_FALSE(p.returncode());
  Outputs out = co_await p.communicate(input);
  EXPECT_EQ(p.returncode(), 0);
  co_return out;
}

TEST(Subprocess, CommunicateThroughCat) {
  const Outputs out = asyncio::run(cat_communicate("hello\n"));
  EXPECT_EQ(out.first, "hello\n");
  EXPECT_EQ(out.second, "");
}

TEST(Subprocess, EmptyInputClosesStdin) {
  EXPECT_EQ(asyncio::run(cat_communicate("")).first, "");
}

Task<Outputs> both_streams(std::string input) {
  // stdout and stderr both far past a pipe's capacity, so that reading
  // one only after the other would deadlock.
  asyncio::Process p = asyncio::create_subprocess_exec(
      sp::Args({"tee", "/dev/stderr"}), {.stdin = asyncio::PIPE,
                                         .stdout = asyncio::PIPE,
                                         .stderr = asyncio::PIPE});
  Outputs out = co_await p.communicate(input);
  co_return out;
}

TEST(Subprocess, LargeDataBothWaysWithoutDeadlock) {
  std::string input(std::size_t{4} << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<char>('a' + i % 26);
  }
  asyncio::Runner runner;
  const Outputs out = runner.run(both_streams(input));
  EXPECT_EQ(out.first, input);
  EXPECT_EQ(out.second, input);
}

Task<int> exit_code(int code) {
  asyncio::Process p =
      asyncio::create_subprocess_shell("exit " + std::to_string(code));
  const int first = co_await p.wait();
  const int again = co_await p.wait();
  EXPECT_EQ(first, again);
  EXPECT_EQ(p.returncode(), first);
  co_return first;
}

TEST(Subprocess, WaitGivesTheReturncode) {
  EXPECT_EQ(asyncio::run(exit_code(0)), 0);
  EXPECT_EQ(asyncio::run(exit_code(7)), 7);
  EXPECT_EQ(asyncio::run(exit_code(255)), 255);
}

Task<int> killed(int signum) {
  asyncio::Process p =
      asyncio::create_subprocess_exec(sp::Args({"sleep", "30"}));
  if (signum == SIGKILL) {
    p.kill();
  } else if (signum == SIGTERM) {
    p.terminate();
  } else {
    p.send_signal(signum);
  }
  const int code = co_await p.wait();
  // Reaped: no signal goes to a pid that may be reused.
  p.kill();
  co_return code;
}

TEST(Subprocess, SignalsGiveMinusTheSignal) {
  EXPECT_EQ(asyncio::run(killed(SIGKILL)), -SIGKILL);
  EXPECT_EQ(asyncio::run(killed(SIGTERM)), -SIGTERM);
  EXPECT_EQ(asyncio::run(killed(SIGINT)), -SIGINT);
}

Task<std::vector<std::string>> lines_as_written() {
  asyncio::Process p = asyncio::create_subprocess_exec(
      sp::Args({"sh", "-c", "echo one; echo two"}), {.stdout = asyncio::PIPE});
  std::vector<std::string> lines;
  while (true) {
    std::optional<std::string> line = co_await p.stdout->next_line();
    if (!line) break;
    lines.push_back(std::move(*line));
  }
  EXPECT_TRUE(p.stdout->at_eof());
  const int code = co_await p.wait();
  EXPECT_EQ(code, 0);
  co_return lines;
}

TEST(Subprocess, StdoutIsAStreamReader) {
  EXPECT_EQ(asyncio::run(lines_as_written()),
            (std::vector<std::string>{"one\n", "two\n"}));
}

Task<std::string> ask_and_answer() {
  // A dialogue: each line written is read back before the next is sent.
  asyncio::Process p = asyncio::create_subprocess_exec(
      "cat", {.stdin = asyncio::PIPE, .stdout = asyncio::PIPE});
  std::string heard;
  for (int i = 0; i < 3; ++i) {
    p.stdin->write("line " + std::to_string(i) + "\n");
    co_await p.stdin->drain();
    std::string line = co_await p.stdout->readline();
    heard += line;
  }
  p.stdin->close();
  std::string rest = co_await p.stdout->read();
  heard += rest;
  const int code = co_await p.wait();
  EXPECT_EQ(code, 0);
  co_return heard;
}

TEST(Subprocess, StdinIsAStreamWriter) {
  EXPECT_EQ(asyncio::run(ask_and_answer()), "line 0\nline 1\nline 2\n");
}

Task<Outputs> redirected(sp::Options options) {
  asyncio::Process p =
      asyncio::create_subprocess_shell("echo out; echo err >&2", options);
  EXPECT_EQ(p.stdin.has_value(), false);
  Outputs out = co_await p.communicate();
  co_return out;
}

TEST(Subprocess, Redirections) {
  const Outputs merged = asyncio::run(
      redirected({.stdout = asyncio::PIPE, .stderr = asyncio::STDOUT}));
  EXPECT_EQ(merged.first, "out\nerr\n");
  EXPECT_EQ(merged.second, "");
  const Outputs quiet = asyncio::run(
      redirected({.stdout = asyncio::DEVNULL, .stderr = asyncio::PIPE}));
  EXPECT_EQ(quiet.first, "");
  EXPECT_EQ(quiet.second, "err\n");
}

Task<bool> no_pipes() {
  asyncio::Process p =
      asyncio::create_subprocess_exec("true", {.stdout = asyncio::DEVNULL});
  const bool none = !p.stdin && !p.stdout && !p.stderr;
  Outputs out = co_await p.communicate();
  EXPECT_EQ(out, Outputs());
  co_return none;
}

TEST(Subprocess, StreamsThatAreNotPipesAreEmpty) {
  EXPECT_TRUE(asyncio::run(no_pipes()));
}

Task<int> ignores_its_input() {
  // `true` ends without reading: the writes meet a closed pipe.
  asyncio::Process p =
      asyncio::create_subprocess_exec("true", {.stdin = asyncio::PIPE});
  const std::string input(std::size_t{1} << 20, 'x');
  Outputs out = co_await p.communicate(input);
  EXPECT_EQ(out, Outputs());
  co_return *p.returncode();
}

TEST(Subprocess, AChildThatStopsReadingIsNoError) {
  EXPECT_EQ(asyncio::run(ignores_its_input()), 0);
}

Task<std::string> shell_arithmetic() {
  asyncio::Process p = asyncio::create_subprocess_shell(
      "echo $((6 * 7))", {.stdout = asyncio::PIPE});
  Outputs out = co_await p.communicate();
  co_return out.first;
}

TEST(Subprocess, ShellRunsACommandLine) {
  EXPECT_EQ(asyncio::run(shell_arithmetic()), "42\n");
}

Task<void> launch(std::string program, sp::Options options) {
  asyncio::Process p =
      asyncio::create_subprocess_exec(sp::Args(program), options);
  co_await p.wait();
}

Task<void> communicate_without_stdin() {
  asyncio::Process p = asyncio::create_subprocess_exec("true");
  EXPECT_THROW(static_cast<void>(p.communicate("input")), concur::ValueError);
  co_await p.wait();
}

TEST(Subprocess, Misuse) {
  EXPECT_THROW(asyncio::run(launch("concur-no-such-program", {})),
               concur::FileNotFoundError);
  EXPECT_THROW(asyncio::run(launch("true", {.input = "x"})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.capture_output = true})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.timeout = 1s})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.check = true})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.shell = true})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.text = true})),
               concur::ValueError);
  EXPECT_THROW(asyncio::run(launch("true", {.stdin = asyncio::STDOUT})),
               concur::ValueError);
  asyncio::run(communicate_without_stdin());
  // No running loop.
  EXPECT_THROW(asyncio::create_subprocess_exec("true"), concur::RuntimeError);
  const asyncio::Process none;
  EXPECT_THROW(none.pid(), concur::RuntimeError);
  EXPECT_FALSE(has_zombie());
}

Task<int> timed_out_then_killed() {
  asyncio::Process p =
      asyncio::create_subprocess_exec(sp::Args({"sleep", "30"}));
  bool timed_out = false;
  try {
    co_await asyncio::wait_for(p.wait(), 10ms);
  } catch (const concur::TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  // The cancelled wait left the child running and watched.
  EXPECT_FALSE(p.returncode());
  p.kill();
  const int code = co_await p.wait();
  co_return code;
}

TEST(Subprocess, AWaitThatTimesOutLeavesTheChildRunning) {
  EXPECT_EQ(asyncio::run(timed_out_then_killed()), -SIGKILL);
}

Task<std::string> echo_number(int i) {
  asyncio::Process p = asyncio::create_subprocess_exec(
      sp::Args({"echo", std::to_string(i)}), {.stdout = asyncio::PIPE});
  Outputs out = co_await p.communicate();
  co_return out.first;
}

Task<int> many_children(int n) {
  std::vector<Task<std::string>> children;
  children.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) children.push_back(echo_number(i));
  auto all = asyncio::gather(std::move(children));
  std::vector<std::string> outputs = co_await std::move(all);
  int right = 0;
  for (int i = 0; i < n; ++i) {
    if (outputs[static_cast<std::size_t>(i)] == std::to_string(i) + "\n") {
      ++right;
    }
  }
  co_return right;
}

TEST(Subprocess, ManyChildrenOnOneLoop) {
  const auto before = open_fds();
  EXPECT_EQ(asyncio::run(many_children(64)), 64);
  EXPECT_EQ(open_fds(), before);
  EXPECT_FALSE(has_zombie());
}

TEST(Subprocess, LoopsOnManyThreads) {
  const auto before = open_fds();
  std::vector<int> right(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < right.size(); ++t) {
    threads.emplace_back(
        [&right, t] { right[t] = asyncio::run(many_children(16)); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(right, std::vector<int>(4, 16));
  EXPECT_EQ(open_fds(), before);
  EXPECT_FALSE(has_zombie());
}

Task<void> keep(asyncio::Process* kept) {
  *kept = asyncio::create_subprocess_exec(
      "cat", {.stdin = asyncio::PIPE, .stdout = asyncio::PIPE});
  co_return;
}

TEST(Subprocess, AProcessMayOutliveItsLoop) {
  pid_t pid = 0;
  {
    asyncio::Process kept;
    asyncio::run(keep(&kept));
    pid = kept.pid();
    EXPECT_GT(pid, 0);
    // Dropped after the loop: the pipes close, cat ends, and subprocess's
    // reaper collects it.
  }
  // Nothing to wait on but the child's end as another process sees it.
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(has_zombie());
}

// Where the kernel has no pidfds (a seccomp filter in a child makes it so),
// the loop learns of a child's end by polling it on a timer.

TEST(NoPidfd, OutputsReturncodesAndSignals) {
  WithoutPidfds([] {
    EXPECT_EQ(asyncio::run(cat_communicate("hello\n")).first, "hello\n");
    EXPECT_EQ(asyncio::run(exit_code(7)), 7);
    EXPECT_EQ(asyncio::run(killed(SIGTERM)), -SIGTERM);
    EXPECT_FALSE(has_zombie());
  });
}

TEST(NoPidfd, AWaitThatTimesOutLeavesTheChildRunning) {
  WithoutPidfds(
      [] { EXPECT_EQ(asyncio::run(timed_out_then_killed()), -SIGKILL); });
}

TEST(NoPidfd, ManyChildrenOnOneLoop) {
  WithoutPidfds([] {
    EXPECT_EQ(asyncio::run(many_children(32)), 32);
    EXPECT_FALSE(has_zombie());
  });
}

}  // namespace
