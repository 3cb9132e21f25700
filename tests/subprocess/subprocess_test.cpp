// subprocess: run, call, check_*, getstatusoutput and Popen against real
// programs (sh, cat, true, false, sleep), after CPython's
// test_subprocess.py: output both ways, timeouts, signals, the child's
// environment, directory and descriptors, errors, many threads, leaks;
// and the same waits, signals and reaps where the kernel has no pidfds.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/no_pidfd.hpp"
#include "common/open_fds.hpp"
#include "common/sanitized.hpp"
#include "common/zombie.hpp"
#include "concur/subprocess.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace sp = concur::subprocess;

using concur::testing::has_zombie;
using concur::testing::open_fds;
using concur::testing::WithoutPidfds;

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
  // A cwd that is a file: NotADirectoryError naming it, not the program.
  try {
    sp::run({"true"}, {.cwd = path});
    FAIL();
  } catch (const concur::NotADirectoryError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  ::unlink(path);
  // A passed descriptor that is not open: EBADF from the child.
  const int unused = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::close(unused);
  try {
    sp::run({"true"}, {.pass_fds = {unused}});
    FAIL();
  } catch (const concur::OSError& e) {
    EXPECT_EQ(e.errnum(), EBADF) << e.what();
  }
  EXPECT_FALSE(has_zombie());
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
  EXPECT_THROW(sp::run({"true"}, {.process_group = -2}), concur::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.cwd = std::string("/\0a", 3)}),
               concur::ValueError);
}

void poll_wait_and_signals() {
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

TEST(Popen, PollWaitAndSignals) { poll_wait_and_signals(); }

void many_threads_wait_for_one_child() {
  sp::Popen p({"cat"}, {.stdin = sp::PIPE});
  std::atomic<int> ended{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&p, &ended, t] {
      const int code = t % 2 == 0 ? p.wait() : p.wait(30s);
      if (code == 0) ended.fetch_add(1);
      EXPECT_EQ(p.poll(), 0);
    });
    threads.back().start();
  }
  p.close_stdin();  // cat ends
  for (auto& t : threads) t.join();
  EXPECT_EQ(ended.load(), 6);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, ManyThreadsWaitForOneChild) { many_threads_wait_for_one_child(); }

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
  EXPECT_EQ(w.read(), "to cat\n");
  EXPECT_EQ(w.wait(), 0);
}

TEST(Popen, LinesOfBothStreams) {
  sp::Popen p({"sh", "-c", "printf 'a\\nb\\n'; printf 'e1\\ne2' >&2"},
              {.stdout = sp::PIPE, .stderr = sp::PIPE});
  std::vector<std::string> out;
  for (const std::string& line : p.lines()) out.push_back(line);
  EXPECT_EQ(out, (std::vector<std::string>{"a\n", "b\n"}));
  EXPECT_EQ(p.readline(sp::Popen::Stream::kStderr), "e1\n");
  EXPECT_EQ(p.read(sp::Popen::Stream::kStderr), "e2");
  EXPECT_EQ(p.read(sp::Popen::Stream::kStderr), "");
  EXPECT_EQ(p.wait(), 0);

  // Universal newlines: "\r\n" and "\r" end lines too, also when a
  // "\r\n" is split between two reads.
  sp::Popen text(
      {"sh", "-c", "printf 'x\\r'; sleep 0.05; printf '\\ny\\rz\\r'"},
      {.stdout = sp::PIPE, .text = true});
  std::vector<std::string> lines;
  for (const std::string& line : text.lines()) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"x\n", "y\n", "z\n"}));
  EXPECT_EQ(text.wait(), 0);

  sp::Popen not_piped({"true"});
  EXPECT_THROW(not_piped.readline(), concur::ValueError);
  EXPECT_THROW(not_piped.read(sp::Popen::Stream::kStderr), concur::ValueError);
  not_piped.wait();
}

TEST(Popen, CommunicateKeepsWhatReadlineReadAhead) {
  sp::Popen p({"printf", "one\\ntwo\\nthree\\n"}, {.stdout = sp::PIPE});
  EXPECT_EQ(p.readline(), "one\n");
  EXPECT_EQ(p.communicate().first, "two\nthree\n");
}

TEST(Popen, Umask) {
  EXPECT_EQ(sp::check_output({"sh", "-c", "umask"}, {.umask = 027}), "0027\n");
  EXPECT_EQ(sp::check_output({"sh", "-c", "umask"}, {.umask = 0}), "0000\n");
  // The parent's own umask is untouched.
  const mode_t before = ::umask(022);
  ::umask(before);
  char dir[] = "/tmp/concur-umask-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/made";
  EXPECT_EQ(sp::call({"touch", file}, {.umask = 077}), 0);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const mode_t after = ::umask(022);
  ::umask(after);
  EXPECT_EQ(after, before);
  ::unlink(file.c_str());
  ::rmdir(dir);
  EXPECT_THROW(sp::run({"true"}, {.umask = 01000}), concur::ValueError);
}

// The mask of a signal set in /proc/PID/status ("SigIgn:\t0000...").
unsigned long long signal_set(const std::string& status,
                              const std::string& name) {
  const std::size_t at = status.find(name + ":\t");
  if (at == std::string::npos) return ~0ULL;
  return std::stoull(status.substr(at + name.size() + 2, 16), nullptr, 16);
}

void count_signal(int) {}

TEST(Popen, ChildStartsWithDefaultSignalsAndNoMask) {
  // A caught signal, an ignored one, SIGPIPE ignored (Python's), and a
  // blocked one, in the parent.
  struct sigaction caught {};
  caught.sa_handler = count_signal;
  struct sigaction old_usr1 {
  }, old_usr2{}, old_pipe{};
  ::sigaction(SIGUSR1, &caught, &old_usr1);
  struct sigaction ignored {};
  ignored.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR2, &ignored, &old_usr2);
  ::sigaction(SIGPIPE, &ignored, &old_pipe);
  sigset_t blocked, saved;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &saved);

  const std::string status = sp::check_output({"cat", "/proc/self/status"});

  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  ::sigaction(SIGUSR1, &old_usr1, nullptr);
  ::sigaction(SIGUSR2, &old_usr2, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);

  const auto bit = [](int sig) { return 1ULL << (sig - 1); };
  const unsigned long long ign = signal_set(status, "SigIgn");
  EXPECT_NE(ign & bit(SIGUSR2), 0u) << status;  // ignored stays ignored
  EXPECT_EQ(ign & bit(SIGPIPE), 0u) << status;  // restored
  EXPECT_EQ(ign & bit(SIGUSR1), 0u) << status;  // caught: default
  EXPECT_EQ(signal_set(status, "SigBlk"), 0u) << status;
  // And the parent's mask came back whole.
  sigset_t now;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_EQ(sigismember(&now, SIGTERM), sigismember(&saved, SIGTERM));
}

TEST(Popen, StreamsFromTheParentsStandardOnesInAnyArrangement) {
  // The parent's 1 and 2 go to two files; the child's stdout is the
  // parent's 2 and its stderr the parent's 1 (each source is another
  // target of the same launch).
  char a[] = "/tmp/concur-streams-a-XXXXXX";
  char b[] = "/tmp/concur-streams-b-XXXXXX";
  const int fa = ::mkstemp(a);
  const int fb = ::mkstemp(b);
  ASSERT_GE(fa, 0);
  ASSERT_GE(fb, 0);
  const int saved1 = ::dup(1);
  const int saved2 = ::dup(2);
  ::dup2(fa, 1);
  ::dup2(fb, 2);
  const int code = sp::call({"sh", "-c", "echo out; echo err >&2"},
                            {.stdout = 2, .stderr = 1});
  ::dup2(saved1, 1);
  ::dup2(saved2, 2);
  ::close(saved1);
  ::close(saved2);
  EXPECT_EQ(code, 0);
  const auto contents = [](int fd) {
    std::string all(256, '\0');
    const long n = ::pread(fd, all.data(), all.size(), 0);
    all.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return all;
  };
  EXPECT_EQ(contents(fa), "err\n");
  EXPECT_EQ(contents(fb), "out\n");
  ::close(fa);
  ::close(fb);
  ::unlink(a);
  ::unlink(b);
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
  // The shell lists its own descriptors while it waits for ls. No pipeline:
  // the shell would hold the pipe's ends while ls looks, and the trailing
  // `true` keeps the shell from exec'ing ls, whose directory would show up.
  const auto child_fds = [](std::vector<int> pass) {
    std::string listed = sp::check_output({"sh", "-c", "ls /proc/$$/fd; true"},
                                          {.pass_fds = std::move(pass)});
    std::replace(listed.begin(), listed.end(), '\n', ' ');
    return " " + listed;
  };
  const auto lists = [](const std::string& fds, int fd) {
    return fds.find(" " + std::to_string(fd) + " ") != std::string::npos;
  };
  const std::string none = child_fds({});
  EXPECT_FALSE(lists(none, leaky)) << none;
  EXPECT_TRUE(lists(none, 2)) << none;
  const std::string with_passed = child_fds({passed});
  EXPECT_TRUE(lists(with_passed, passed)) << with_passed;
  EXPECT_FALSE(lists(with_passed, leaky)) << with_passed;
  // A descriptor below a passed one is closed too.
  const int high = ::fcntl(passed, F_DUPFD_CLOEXEC, 200);
  ASSERT_GT(high, leaky);
  const std::string below = child_fds({high});
  EXPECT_FALSE(lists(below, leaky)) << below;
  EXPECT_TRUE(lists(below, high)) << below;
  ::close(high);
  ::close(leaky);
  ::close(passed);
}

TEST(Descriptors, NoneLeakInTheParent) {
  const std::vector<int> before = open_fds();
  for (int i = 0; i < 20; ++i) {
    sp::run({"cat"}, {.input = "x", .capture_output = true});
    EXPECT_THROW(sp::run({"concur-no-such-program"}), concur::OSError);
    // Failures in the child, after its pipes and /dev/null were opened.
    EXPECT_THROW(sp::run({"true"}, {.stdin = sp::DEVNULL,
                                    .capture_output = true,
                                    .cwd = "/concur/no/such/dir"}),
                 concur::FileNotFoundError);
    EXPECT_THROW(sp::run({"/dev/null"}, {.capture_output = true}),
                 concur::PermissionError);
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

TEST(Stress, SignalsToTheParentDuringLaunches) {
  // While children start, the parent takes a stream of caught signals:
  // each runs in the parent only (never on a child sharing its memory),
  // and no launch fails or loses its child.
  static std::atomic<int> handled{0};
  struct sigaction caught {
  }, old{};
  caught.sa_handler = [](int) {
    handled.fetch_add(1, std::memory_order_relaxed);
  };
  caught.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR1, &caught, &old);
  constexpr int per_thread = concur_test::kSanitized ? 20 : 100;
  std::atomic<bool> done{false};
  std::atomic<int> ok{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&ok] {
      for (int i = 0; i < per_thread; ++i) {
        if (sp::call({"true"}) == 0) ok.fetch_add(1);
      }
    });
    threads.back().start();
  }
  concur::threading::Thread sender([&done] {
    while (!done.load()) {
      ::kill(::getpid(), SIGUSR1);
      std::this_thread::sleep_for(50us);
    }
  });
  sender.start();
  for (auto& t : threads) t.join();
  done.store(true);
  sender.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(ok.load(), 3 * per_thread);
  EXPECT_GT(handled.load(), 0);
  EXPECT_FALSE(has_zombie());
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

// Where the kernel has no pidfds (a seccomp filter in a child makes it so):
// waits poll, signals go by pid, and orphans are reaped without a thread.

TEST(NoPidfd, PollWaitAndSignals) {
  WithoutPidfds([] {
    sp::Popen p({"true"});
    EXPECT_EQ(concur::subprocess_detail::pidfd_of(p), -1);
    EXPECT_EQ(p.wait(1min), 0);
    poll_wait_and_signals();
    EXPECT_FALSE(has_zombie());
  });
}

TEST(NoPidfd, ManyThreadsWaitForOneChild) {
  WithoutPidfds(many_threads_wait_for_one_child);
}

TEST(NoPidfd, RunWithInputAndTimeout) {
  WithoutPidfds([] {
    EXPECT_EQ(
        sp::run({"cat"}, {.input = "hello\n", .capture_output = true}).stdout,
        "hello\n");
    EXPECT_THROW(sp::run({"sleep", "30"}, {.timeout = 20ms}),
                 sp::TimeoutExpired);
    EXPECT_FALSE(has_zombie());
  });
}

TEST(NoPidfd, OrphansAreReapedAtTheNextAdoption) {
  WithoutPidfds([] {
    pid_t first = 0;
    {
      sp::Popen orphan({"sleep", "30"});
      first = orphan.pid();
    }  // dropped while it runs: adopted by the reaper
    ::kill(first, SIGKILL);
    // Until the orphan has ended, without reaping it.
    siginfo_t info{};
    EXPECT_EQ(
        ::waitid(P_PID, static_cast<id_t>(first), &info, WEXITED | WNOWAIT), 0);
    pid_t second = 0;
    {
      sp::Popen running({"sleep", "30"});
      second = running.pid();
    }  // the second adoption reaps what has ended: the first orphan
    ::kill(second, SIGKILL);
    EXPECT_EQ(
        ::waitid(P_PID, static_cast<id_t>(first), &info, WEXITED | WNOHANG),
        -1);
    EXPECT_EQ(errno, ECHILD);
  });
}

}  // namespace
