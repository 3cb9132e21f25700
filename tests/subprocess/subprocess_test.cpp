// subprocess: run, call, check_*, getstatusoutput and Popen against real
// programs (sh, cat, true, false, sleep), after CPython's
// test_subprocess.py: output both ways, timeouts, signals, the child's
// environment, directory and descriptors, errors, many threads, leaks.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"
#include "concur/subprocess.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace sp = concur::subprocess;

std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  const int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') fds.push_back(std::atoi(entry->d_name));
  }
  ::closedir(dir);
  fds.erase(std::remove(fds.begin(), fds.end(), own), fds.end());
  return fds;
}

bool has_zombie() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid != 0;
}

TEST(Run, ReturnCodesAndCapturedOutput) {
  EXPECT_EQ(sp::run({"true"}).returncode, 0);
  EXPECT_EQ(sp::run({"false"}).returncode, 1);
  sp::CompletedProcess done = sp::run(
      {"sh", "-c", "echo out; echo err >&2; exit 3"}, {.capture_output = true});
  EXPECT_EQ(done.returncode, 3);
  EXPECT_EQ(done.stdout, "out\n");
  EXPECT_EQ(done.stderr, "err\n");
  EXPECT_EQ(done.args, (std::vector<std::string>{"sh", "-c",
                                                 "echo out; echo err >&2; "
                                                 "exit 3"}));
  EXPECT_THROW(done.check_returncode(), sp::CalledProcessError);
}

TEST(Run, InputGoesToStdin) {
  sp::CompletedProcess done =
      sp::run({"cat"}, {.input = "hello\n", .capture_output = true});
  EXPECT_EQ(done.stdout, "hello\n");
}

TEST(Run, TextModeTranslatesNewlines) {
  const sp::Args cmd{"printf", "a\\r\\nb\\rc\\n"};
  EXPECT_EQ(sp::run(cmd, {.capture_output = true}).stdout, "a\r\nb\rc\n");
  EXPECT_EQ(sp::run(cmd, {.capture_output = true, .text = true}).stdout,
            "a\nb\nc\n");
}

TEST(Run, CheckRaisesCalledProcessErrorWithPythonsMessage) {
  try {
    sp::run({"sh", "-c", "echo partial; exit 2"},
            {.capture_output = true, .check = true});
    FAIL() << "no CalledProcessError";
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), 2);
    EXPECT_EQ(e.output(), "partial\n");
    EXPECT_STREQ(e.what(),
                 "Command '['sh', '-c', 'echo partial; exit 2']' returned "
                 "non-zero exit status 2.");
  }
  try {
    sp::run({"sh", "-c", "kill -9 $$"}, {.check = true});
    FAIL() << "no CalledProcessError";
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), -SIGKILL);
    EXPECT_NE(std::string(e.what()).find("died with <Signals.SIGKILL: 9>."),
              std::string::npos)
        << e.what();
  }
}

TEST(Run, TimeoutKillsAndReapsTheChild) {
  const auto start = std::chrono::steady_clock::now();
  try {
    sp::run({"sh", "-c", "echo started; exec sleep 30"},
            {.capture_output = true, .timeout = 200ms});
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_EQ(e.output(), "started\n");
    EXPECT_NE(std::string(e.what()).find("timed out after 0.2 seconds"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_FALSE(has_zombie());
}

TEST(Run, ShellCommandLines) {
  EXPECT_EQ(sp::run("echo $((1 + 2))", {.capture_output = true, .shell = true})
                .stdout,
            "3\n");
  EXPECT_EQ(sp::getstatusoutput("echo hi; exit 3"),
            (std::pair<int, std::string>{3, "hi"}));
  EXPECT_EQ(sp::getoutput("echo out; echo err >&2"), "out\nerr");
}

TEST(Run, CallCheckCallCheckOutput) {
  EXPECT_EQ(sp::call({"sh", "-c", "exit 4"}), 4);
  EXPECT_EQ(sp::check_call({"true"}), 0);
  EXPECT_THROW(sp::check_call({"false"}), sp::CalledProcessError);
  EXPECT_EQ(sp::check_output({"echo", "x"}), "x\n");
  EXPECT_THROW(sp::check_output({"false"}), sp::CalledProcessError);
  EXPECT_THROW(sp::call({"sleep", "30"}, {.timeout = 50ms}),
               sp::TimeoutExpired);
  EXPECT_FALSE(has_zombie());
}

TEST(Run, EnvironmentCwdAndStreams) {
  EXPECT_EQ(sp::run({"sh", "-c", "echo \"$A:$B\""},
                    {.capture_output = true,
                     .env = sp::Environment{{"A", "1"}},
                     .extra_env = {{"B", "2"}}})
                .stdout,
            "1:2\n");
  ::setenv("CONCUR_TEST_INHERITED", "yes", 1);
  EXPECT_EQ(sp::run({"sh", "-c", "echo $CONCUR_TEST_INHERITED"},
                    {.capture_output = true})
                .stdout,
            "yes\n");
  EXPECT_EQ(sp::run({"pwd"}, {.capture_output = true, .cwd = "/"}).stdout,
            "/\n");
  EXPECT_EQ(sp::run({"sh", "-c", "echo a; echo b >&2"},
                    {.stdout = sp::PIPE, .stderr = sp::STDOUT})
                .stdout,
            "a\nb\n");
  EXPECT_EQ(sp::run({"sh", "-c", "echo a; echo b >&2"},
                    {.stdout = sp::DEVNULL, .stderr = sp::PIPE})
                .stderr,
            "b\n");
}

TEST(Errors, MissingProgramDirectoryAndPermission) {
  try {
    sp::run({"concur-no-such-program"});
    FAIL();
  } catch (const concur::FileNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("concur-no-such-program"),
              std::string::npos)
        << e.what();
  }
  try {
    sp::run({"true"}, {.cwd = "/concur/no/such/dir"});
    FAIL();
  } catch (const concur::FileNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("/concur/no/such/dir"),
              std::string::npos)
        << e.what();
  }
  char path[] = "/tmp/concur-noexec-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ::chmod(path, 0600);
  EXPECT_THROW(sp::run({path}), concur::PermissionError);
  ::unlink(path);
}

TEST(Errors, BadArgumentsAreValueErrors) {
  EXPECT_THROW(sp::run(std::vector<std::string>{}), concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.stdout = sp::PIPE, .capture_output = true}),
               concur::ValueError);
  EXPECT_THROW(sp::run({"cat"}, {.stdin = sp::DEVNULL, .input = "x"}),
               concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.stdout = sp::STDOUT}), concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.stdout = -5}), concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.pass_fds = {1}}), concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.extra_env = {{"A=B", "1"}}}),
               concur::ValueError);
  EXPECT_THROW(sp::run({std::string("a\0b", 3)}), concur::ValueError);
  EXPECT_THROW(sp::check_output({"true"}, {.stdout = sp::DEVNULL}),
               concur::ValueError);
}

TEST(Popen, PollWaitAndSignals) {
  sp::Popen p({"sleep", "30"});
  EXPECT_GT(p.pid(), 0);
  EXPECT_FALSE(p.poll().has_value());
  EXPECT_FALSE(p.returncode().has_value());
  EXPECT_THROW(p.wait(20ms), sp::TimeoutExpired);
  p.terminate();
  EXPECT_EQ(p.wait(), -SIGTERM);
  EXPECT_EQ(p.returncode(), -SIGTERM);
  p.kill();  // reaped: nothing is sent
  EXPECT_EQ(p.poll(), -SIGTERM);

  sp::Popen q({"sleep", "30"});
  q.send_signal(SIGKILL);
  EXPECT_EQ(q.wait(), -SIGKILL);
}

TEST(Popen, CommunicateAfterATimeoutReturnsAllTheOutput) {
  int gate[2];
  ASSERT_EQ(::pipe2(gate, O_CLOEXEC), 0);
  const std::string script =
      "echo first; read x <&" + std::to_string(gate[0]) + "; echo second";
  sp::Popen p({"sh", "-c", script},
              {.stdout = sp::PIPE, .pass_fds = {gate[0]}});
  EXPECT_THROW(p.communicate(std::nullopt, 50ms), sp::TimeoutExpired);
  ASSERT_EQ(::write(gate[1], "\n", 1), 1);
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "first\nsecond\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(p.returncode(), 0);
  ::close(gate[0]);
  ::close(gate[1]);
}

TEST(Popen, LargeDataBothWaysAtOnce) {
  const std::size_t size = (concur_test::kSanitized ? 16 : 100) << 20;
  std::string data(size, 'x');
  for (std::size_t i = 0; i < size; i += 4093) data[i] = static_cast<char>(i);
  sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  auto [out, err] = p.communicate(data);
  EXPECT_EQ(out.size(), data.size());
  EXPECT_TRUE(out == data);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, InputToAChildThatDoesNotReadIt) {
  sp::Popen p({"true"}, {.stdin = sp::PIPE});
  const std::string data(8 << 20, 'x');
  auto [out, err] = p.communicate(data);
  EXPECT_EQ(p.returncode(), 0);
  sp::Popen q({"true"}, {.stdin = sp::PIPE});
  q.wait();
  EXPECT_THROW(q.write_stdin(data), concur::BrokenPipeError);
}

TEST(Popen, StreamsToAndFromDescriptors) {
  char path[] = "/tmp/concur-subprocess-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(sp::call({"echo", "to a file"}, {.stdout = fd}), 0);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(sp::check_output({"cat"}, {.stdin = fd}), "to a file\n");
  ::close(fd);
  ::unlink(path);
}

TEST(Popen, LinesOneByOne) {
  sp::Popen p({"printf", "a\\nb\\nc"}, {.stdout = sp::PIPE});
  EXPECT_EQ(p.readline(), "a\n");
  EXPECT_EQ(p.readline(), "b\n");
  EXPECT_EQ(p.readline(), "c");
  EXPECT_EQ(p.readline(), "");
  EXPECT_EQ(p.wait(), 0);

  sp::Popen w({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  w.write_stdin("to cat\n");
  w.close_stdin();
  EXPECT_EQ(w.read_stdout(), "to cat\n");
  EXPECT_EQ(w.wait(), 0);
}

TEST(Popen, SessionsAndProcessGroups) {
  sp::Popen session({"sleep", "30"}, {.start_new_session = true});
  EXPECT_EQ(::getsid(session.pid()), session.pid());
  session.kill();
  session.wait();
  sp::Popen group({"sleep", "30"}, {.process_group = 0});
  EXPECT_EQ(::getpgid(group.pid()), group.pid());
  group.kill();
  group.wait();
}

TEST(Descriptors, OnlyPassedOnesReachTheChild) {
  const int leaky = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(leaky, 3);
  int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(passed, 3);
  // The child lists its own descriptors (ls's directory one among them).
  const std::string listed =
      sp::check_output({"sh", "-c", "ls /proc/$$/fd | tr '\\n' ' '"});
  EXPECT_EQ(listed.find(" " + std::to_string(leaky) + " "), std::string::npos)
      << listed;
  const std::string with_passed = sp::check_output(
      {"sh", "-c", "ls /proc/$$/fd | tr '\\n' ' '"}, {.pass_fds = {passed}});
  EXPECT_NE((" " + with_passed).find(" " + std::to_string(passed) + " "),
            std::string::npos)
      << with_passed;
  // A descriptor below a passed one is closed too.
  const int high = ::fcntl(passed, F_DUPFD_CLOEXEC, 200);
  ASSERT_GT(high, leaky);
  const std::string below = sp::check_output(
      {"sh", "-c", "ls /proc/$$/fd | tr '\\n' ' '"}, {.pass_fds = {high}});
  EXPECT_EQ((" " + below).find(" " + std::to_string(leaky) + " "),
            std::string::npos)
      << below;
  EXPECT_NE((" " + below).find(" " + std::to_string(high) + " "),
            std::string::npos)
      << below;
  ::close(high);
  ::close(leaky);
  ::close(passed);
}

TEST(Descriptors, NoneLeakInTheParent) {
  const std::vector<int> before = open_fds();
  for (int i = 0; i < 20; ++i) {
    sp::run({"cat"}, {.input = "x", .capture_output = true});
    EXPECT_THROW(sp::run({"concur-no-such-program"}), concur::OSError);
    sp::Popen p({"sleep", "30"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    p.kill();
    p.wait();
  }
  EXPECT_EQ(open_fds(), before);
}

TEST(Popen, DestroyedWhileRunningIsReapedAnyway) {
  pid_t pid = 0;
  {
    sp::Popen p({"cat"}, {.stdin = sp::PIPE});
    pid = p.pid();
  }  // closes cat's stdin: it ends, and the reaper reaps it
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(has_zombie());
}

TEST(Stress, NoThreadsPipeReachesAnotherThreadsChild) {
  // Each child lists its descriptors while other threads launch children
  // with pipes: it has 0, 1, 2 and ls's own directory, nothing else.
  constexpr int rounds = concur_test::kSanitized ? 5 : 25;
  std::atomic<int> clean{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clean] {
      for (int i = 0; i < rounds; ++i) {
        const std::string fds =
            sp::run({"ls", "/proc/self/fd"},
                    {.stdin = sp::PIPE, .capture_output = true})
                .stdout;
        if (fds == "0\n1\n2\n3\n") clean.fetch_add(1);
      }
    });
    threads.back().start();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clean.load(), 4 * rounds);
}

TEST(Stress, ManyThreadsSpawnAtOnce) {
  constexpr int per_thread = concur_test::kSanitized ? 25 : 200;
  std::atomic<int> ok{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&ok, t] {
      for (int i = 0; i < per_thread; ++i) {
        const bool odd = (i + t) % 2 == 1;
        const int code = odd ? sp::call({"false"}) : sp::call({"true"});
        if (code == (odd ? 1 : 0)) ok.fetch_add(1);
      }
    });
    threads.back().start();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8 * per_thread);
  EXPECT_FALSE(has_zombie());
}

}  // namespace
