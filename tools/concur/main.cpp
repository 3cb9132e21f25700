// concur — the project's command.
//
//   concur tour                 lists the seed tour's scenarios, by lesson,
//                               and the seed programs not ported yet
//   concur tour NAME...         runs those scenarios
//   concur tour --all           runs every scenario, then a table of timings
//   concur help                 says all this
//
// Each scenario is a seed program ported to C++ (examples/seeds/NAME.cpp,
// with '-' as '_'), built as seeds/seed_NAME beside this binary and run as a
// child process with the tour's settings in its environment: the time scale
// (CONCUR_TOUR_SCALE), the random seed (CONCUR_TOUR_SEED) and the descriptor
// on which it reports its timing (CONCUR_TOUR_REPORT_FD, a pipe the tour
// reads). The program's own output goes straight to the terminal.
// docs/tour.md describes the protocol.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

// ---------------------------------------------------------------------------
// The seeds: five Python tutorials, the design's seeds/NNN_*.txt, by number.
constexpr const char* kSeedFiles[] = {
    "000_1046eb7af2f4f37a.txt", "001_80d604e01bbd67b7.txt",
    "002_ceb98ea3c5dd9a04.txt", "003_afc7f1114dde4bc1.txt",
    "004_c4348f7f4cbcf613.txt",
};

// One program of one seed.
struct Source {
  int seed;             // the seed's number: an index into kSeedFiles
  const char* program;  // the Python program's name, or what names it there
};

// A program may come in several seeds; unused entries have no program.
constexpr std::size_t kMaxSources = 3;

// The lessons, in tour order. The last three hold, so far, mostly programs
// not ported yet: those that wait for concur's coming modules (subprocess,
// asyncio and generators), and the GUI programs. Their ports will join them
// as scenarios.
enum class Group {
  kThreads,
  kRaces,
  kDeadlock,
  kCommunication,
  kPools,
  kCpuBound,
  kProcesses,
  kSubprocess,
  kAsyncio,
  kResponsiveness,
};

struct GroupTitle {
  Group group;
  const char* title;
};

constexpr GroupTitle kGroups[] = {
    {Group::kThreads, "Threads"},
    {Group::kRaces, "Races and locks"},
    {Group::kDeadlock, "Deadlock"},
    {Group::kCommunication, "Communication"},
    {Group::kPools, "Pools"},
    {Group::kCpuBound, "CPU-bound work"},
    {Group::kProcesses, "Processes"},
    {Group::kSubprocess, "Subprocess"},
    {Group::kAsyncio, "asyncio and generators"},
    {Group::kResponsiveness, "Responsiveness"},
};

// The scenarios, in tour order (group by group). Adding one is adding its
// program to examples/seeds/ and an entry here.
struct Scenario {
  // `concur tour NAME` runs seeds/seed_NAME, built from
  // examples/seeds/NAME.cpp, with '-' as '_'.
  const char* name;
  Group group;
  // What it shows, in one line.
  const char* about;
  // The programs of the seeds it ports.
  Source ports[kMaxSources];
  // The name of a sequential version of the same work, if there is one:
  // the table shows the speed-up over it.
  const char* baseline = nullptr;
};

constexpr Scenario kScenarios[] = {
    {"downloads-sequential",
     Group::kThreads,
     "two downloads, one after the other",
     {{0, "download_task(), twice in main()"},
      {1, "download_task(), twice in main()"},
      {3, "main(), downloads of 5 s"}}},
    {"downloads-thread",
     Group::kThreads,
     "two downloads at once, a Thread(target=...) each",
     {{0, "down() on two Threads"}, {1, "download() on two Threads"}},
     "downloads-sequential"},
    {"downloads-nojoin",
     Group::kThreads,
     "only t2 started, nothing joined: the total comes first",
     {{0, "download() with t2.start() alone"}}},
    {"downloads-subclass",
     Group::kThreads,
     "two downloads at once, a Thread subclass each",
     {{0, "class Downloadtask(Thread)"}, {1, "class DownloadTask(Thread)"}},
     "downloads-sequential"},
    {"downloads-exit-hook",
     Group::kThreads,
     "an exit hook times unjoined downloads: cut off, then joined",
     {{1, "_thread.start_new_thread + atexit"}},
     "downloads-sequential"},
    {"join",
     Group::kThreads,
     "thread names, and what join() changes",
     {{2, "LoopThread"}, {4, "func(), music()/movie(), myThread"}}},
    {"pingpong-join",
     Group::kThreads,
     "start, join, start, join: Ping counts alone",
     {{4, "pingpangThreadJoin.py with the joins"}}},
    {"pingpong-nojoin",
     Group::kThreads,
     "the same without join: the threads are joined at exit",
     {{4, "pingpangThreadJoin.py, as printed"}}},
    {"pingpong-local",
     Group::kThreads,
     "Ping and Pong each counting on a threading.local",
     {{4, "pingpang_thread-local.py"}}},
    {"local-data",
     Group::kThreads,
     "Thread1 and Thread2 each add up on one threading.local",
     {{4, "fun(n) in Thread1 and Thread2"}}},
    {"deposit",
     Group::kRaces,
     "100 threads deposit 1: lost deposits, then a Lock",
     {{0, "class Account, Addmoneythreads"},
      {1, "class Account, AddMoneyThread"}}},
    {"balance",
     Group::kRaces,
     "balance += n; -= n, a million times in two threads",
     {{2, "change_it(n), run_thread(n)"}}},
    {"withdraw",
     Group::kRaces,
     "two withdrawals of 600 from 1000: negative, then a Lock",
     {{4, "draw(account) by threads 甲 and 乙"}}},
    {"withdraw-no-release",
     Group::kRaces,
     "the Lock is never released: the second thread waits",
     {{4, "draw() with no lock.release()"}}},
    {"deadlock",
     Group::kDeadlock,
     "transfers a->b and b->a: deadlock, then three cures",
     {{4, "transfer(src, dst, amount)"}}},
    {"producer-consumer",
     Group::kCommunication,
     "Putters and Takers wait on a Condition for thresholds",
     {{4, "Putter, Taker on a Condition"}}},
    {"condition-one-thread",
     Group::kCommunication,
     "take() and put() on one thread: wait() for no one",
     {{4, "Account.take()/put() in test()"}}},
    {"condition-spawner",
     Group::kCommunication,
     "a loop starting looping threads, two a round, for ever",
     {{4, "Accout.put_process() in test()"}}},
    {"queue-sentinel",
     Group::kCommunication,
     "a Putter and a Taker on a Queue; None ends the Taker",
     {{4, "Putter, Taker on queue.Queue"}}},
    {"queue-workers",
     Group::kCommunication,
     "five workers call task_done(); main's join() waits",
     {{4, "worker(), q.task_done(), q.join()"}}},
    {"server-ready",
     Group::kCommunication,
     "workers wait on an Event; thread names; wait timeouts",
     {{4, "worker(event), readis_ready"}}},
    {"pool-submit",
     Group::kPools,
     "ThreadPoolExecutor: submit, done(), a scoped pool, map",
     {{4, "ThreadPool cells, ThreadPoolExp3.py"}}},
    {"pool-apply-async",
     Group::kPools,
     "Pool(5): eight apply_async calls, then close, join",
     {{2, "long_time_task(name) on Pool(5)"}, {4, "pool.py"}}},
    {"pool-map",
     Group::kPools,
     "a Pool in a scope: map over (3, 6, 9)",
     {{4, "poolmap.py"}}},
    {"primes-sequential",
     Group::kCpuBound,
     "is_prime() of the six PRIMES, one after another",
     {{4, "PrimeNoWithfuture.py"}}},
    {"primes-threads",
     Group::kCpuBound,
     "the six PRIMES in a ThreadPoolExecutor, with map",
     {{4, "PrimeWithfuture.py with threads"}},
     "primes-sequential"},
    {"primes-processes",
     Group::kCpuBound,
     "the PRIMES on a process pool, then a thread pool",
     {{4, "PrimeWithfuture.py with processes"}},
     "primes-sequential"},
    {"sum-sequential",
     Group::kCpuBound,
     "the sum of 1..100,000,000 in one loop",
     {{1, "the sum of number_list in main()"}, {4, "multitask0.py"}}},
    {"sum-pool",
     Group::kCpuBound,
     "the same sum in 8 slices on a thread per core",
     {{1, "task_handler() in 8 Processes"}, {4, "multitask1.py"}},
     "sum-sequential"},
    {"sum-processes",
     Group::kCpuBound,
     "the same sum in 8 Processes, totals through a Queue",
     {{1, "task_handler() in 8 Processes"}, {4, "multitask1.py"}},
     "sum-sequential"},
    {"downloads-process",
     Group::kProcesses,
     "two downloads at once, a Process each, PIDs printed",
     {{0, "download_task() on two Processes"},
      {1, "download_task() on two Processes"},
      {3, "main_mulprocess()"}},
     "downloads-sequential"},
    {"pingpong-process",
     Group::kProcesses,
     "Ping and Pong processes, a counter each, joined at exit",
     {{0, "sub_task('ping'), sub_task('pong')"},
      {1, "sub_task('Ping'), sub_task('Pong')"},
      {4, "pingpang1.py (twice)"}}},
    {"pingpong-process-join",
     Group::kProcesses,
     "the same, start, join, start, join: five words each",
     {{4, "pingpang2.py"}}},
    {"process-child",
     Group::kProcesses,
     "a child Process runs a function; the parent joins it",
     {{2, "run_proc('test')"}, {4, "processtest1.py"}}},
    {"process-eight",
     Group::kProcesses,
     "eight Processes, listed by active_children()",
     {{4, "processtest2.py"}}},
    {"process-subclass",
     Group::kProcesses,
     "a Process subclass overriding run()",
     {{4, "processtest3.py"}}},
    {"queue-hello",
     Group::kProcesses,
     "a child puts 'hello' on a Queue; the parent gets it",
     {{4, "queuecommu1.py"}}},
    {"queue-writer-reader",
     Group::kProcesses,
     "writer and reader processes on a Queue; terminate()",
     {{2, "write(q), read(q)"}, {4, "queuecommu2.py"}}},
    {"queue-numbers",
     Group::kProcesses,
     "Ping and Pong take numbers from a Queue(10); 0 ends each",
     {{1, "sub_task(string, q)"}}},
    {"queue-ping-pong",
     Group::kProcesses,
     "1000 Ping from the parent, 1000 Pong from a child; join",
     {{1, "sub_task(queue)"}}},
    {"fork",
     Group::kSubprocess,
     "fork(): the child and the parent print their PIDs",
     {{2, "os.fork()"}}},
    {"subprocess-programs",
     Group::kSubprocess,
     "run each program named on the command line, or say it cannot",
     {{1, "subprocess.call(sys.argv[index])"}}},
    {"subprocess-status",
     Group::kSubprocess,
     "subprocess.call of a command, and its exit code",
     {{2, "subprocess.call(['nslookup', 'www.python.org'])"}}},
    {"hello-coroutines",
     Group::kAsyncio,
     "two hello() coroutines sleep 2 s at once: one sleep in all",
     {{1, "hello() with @asyncio.coroutine, and with async def"}}},
    {"header-fetch",
     Group::kAsyncio,
     "the headers of three web sites, fetched at once by coroutines",
     {{1, "wget(host) with asyncio.open_connection"}}},
    {"courier",
     Group::kAsyncio,
     "a courier coroutine driven by send(), and its states",
     {{1, "build_deliver_man(), package_center() (twice)"}}},
    {"generator-expressions",
     Group::kAsyncio,
     "a list built at once, and generators giving values on demand",
     {{1, "gen = (x * x for x in range(10))"}}},
    {"fibonacci",
     Group::kAsyncio,
     "Fibonacci numbers from a generator",
     {{1, "fib(num) with yield"}}},
};

// The programs of the seeds not ported yet: those that need concur's coming
// modules, and the GUI programs. A port moves its line to kScenarios.
struct Unported {
  Group group;
  const char* about;
  Source ports[kMaxSources];
};

constexpr Unported kNotYetPorted[] = {
    {Group::kResponsiveness,
     "a 10 s download freezes a tkinter window",
     {{1, "download() in tkinter's main loop (twice)"}}},
    {Group::kResponsiveness,
     "the download on a daemon Thread: the window still answers",
     {{1, "class DownloadTaskHandler(Thread)"}}},
    {Group::kResponsiveness,
     "five racing cars drawn by a background thread",
     {{1, "class BackgroundTask(Thread), with pygame"}}},
};

const Scenario* find_scenario(std::string_view name) {
  for (const Scenario& s : kScenarios) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// The scenario's name with '_' for '-': its source is examples/seeds/STEM.cpp
// and its program seeds/seed_STEM.
std::string stem_of(const Scenario& s) {
  std::string stem = s.name;
  std::replace(stem.begin(), stem.end(), '-', '_');
  return stem;
}

// ---------------------------------------------------------------------------
// Settings.

// 1 s of seed time lasts 20 ms: the whole tour takes a few seconds.
constexpr double kDefaultScale = 0.02;
// A scenario that runs longer than this much seed time (one minute at the
// default scale) is stopped and counted as failed, so a hang cannot stall
// `make tour`.
constexpr double kTimeLimitSeedSeconds = 3000;

struct Options {
  double scale = kDefaultScale;
  unsigned seed = std::random_device{}() % 1'000'000;
  bool all = false;
  bool help = false;
  std::vector<const Scenario*> selected;
};

constexpr char kHelp[] = R"(usage: concur COMMAND [ARGS]

Commands:
  tour                 list the seed tour's scenarios, by lesson, and the
                       seed programs not ported yet
  tour NAME...         run those scenarios
  tour --all           run every scenario, then a table of timings and the
                       speed-ups of the concurrent versions
  help                 show this help

Options for tour:
  --real-time          run with the seeds' real durations (a "download"
                       takes 5 to 10 s) instead of 1 s of seed time = 20 ms
  --scale FACTOR       real seconds per second of seed time (default 0.02)
  --seed N             seed the programs' random durations with N, to repeat
                       a run (default: a new seed each time)

Each scenario is a program in examples/seeds/, a port of one of the Python
tutorials in the design's seeds/; docs/tour.md describes them.
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "concur tour: %s\n(`concur help` shows the usage)\n",
               message.c_str());
  std::exit(2);
}

template <class Number>
Number parse_number(std::string_view option, const char* text) {
  Number value{};
  std::string_view s(text);
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) {
    usage_error(std::string(option) + " wants a number, not '" + text + "'");
  }
  return value;
}

Options parse_tour_options(std::span<char*> args) {
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    auto value = [&]() -> const char* {
      if (i + 1 == args.size())
        usage_error(std::string(arg) + " wants a value");
      return args[++i];
    };
    if (arg == "--all") {
      options.all = true;
    } else if (arg == "--real-time") {
      options.scale = 1;
    } else if (arg == "--scale") {
      options.scale = parse_number<double>(arg, value());
      if (!(options.scale > 0) || !std::isfinite(options.scale)) {
        usage_error("--scale wants a positive factor");
      }
    } else if (arg == "--seed") {
      options.seed = parse_number<unsigned>(arg, value());
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg.starts_with("-")) {
      usage_error("unknown option " + std::string(arg));
    } else if (const Scenario* s = find_scenario(arg)) {
      options.selected.push_back(s);
    } else {
      usage_error("no scenario named '" + std::string(arg) +
                  "'; `concur tour` lists them");
    }
  }
  if (options.all && !options.selected.empty()) {
    usage_error("give scenario names or --all, not both");
  }
  if (options.all) {
    for (const Scenario& s : kScenarios) options.selected.push_back(&s);
  }
  return options;
}

// ---------------------------------------------------------------------------
// Running a scenario.

struct Outcome {
  const Scenario* scenario;
  // Real seconds from start to exit.
  double wall = 0;
  // Real seconds, as the program measured and reported them.
  std::optional<double> measured = std::nullopt;
  // Why it failed; empty if it exited with status 0.
  std::string failure = {};
};

// The seed programs live in seeds/ beside this binary.
std::filesystem::path program_of(const Scenario& s) {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() /
         "seeds" / ("seed_" + stem_of(s));
}

// The report protocol: lines of "KEY VALUE"; the tour uses "time SECONDS".
void parse_report(std::string_view text, Outcome& outcome) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.starts_with("time ")) continue;
    line.remove_prefix(5);
    double seconds = 0;
    auto [ptr, error] =
        std::from_chars(line.data(), line.data() + line.size(), seconds);
    if (error == std::errc() && ptr == line.data() + line.size())
      outcome.measured = seconds;
  }
}

// The descriptor number on which a scenario reports; the tour puts its pipe
// there in the child.
constexpr int kReportFd = 3;

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

Outcome run(const Scenario& scenario, double scale) {
  Outcome outcome{&scenario};
  std::filesystem::path program = program_of(scenario);
  if (!std::filesystem::exists(program)) {
    outcome.failure =
        program.string() + " is missing; build the concur_tour target";
    return outcome;
  }

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, report[1], kReportFd);
  std::string path = program.string();
  char* argv[] = {path.data(), nullptr};
  // The child writes to the same terminal: what we printed must come first.
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int spawn_error =
      posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(report[1]);
  if (spawn_error != 0) {
    close(report[0]);
    outcome.failure = "cannot run " + path + ": " + std::strerror(spawn_error);
    return outcome;
  }

  // Read reports until the child exits. Not until end-of-file: a process
  // the scenario started may hold the pipe open after it.
  fcntl(report[0], F_SETFL, O_NONBLOCK);
  const auto limit =
      std::chrono::duration<double>(kTimeLimitSeedSeconds * scale);
  std::string text;
  int status = 0;
  bool timed_out = false;
  auto drain = [&] {
    char buffer[512];
    ssize_t n = 0;
    while ((n = read(report[0], buffer, sizeof buffer)) > 0)
      text.append(buffer, n);
  };
  for (;;) {
    pollfd waiting{report[0], POLLIN, 0};
    poll(&waiting, 1, 20);
    drain();
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (!timed_out && std::chrono::steady_clock::now() - start > limit) {
      kill(pid, SIGKILL);
      timed_out = true;
    }
  }
  outcome.wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  drain();
  close(report[0]);

  parse_report(text, outcome);
  if (timed_out) {
    char text[64];
    std::snprintf(text, sizeof text, "stopped after %.3g s; it may hang",
                  limit.count());
    outcome.failure = text;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    outcome.failure = describe_status(status);
  }
  return outcome;
}

// ---------------------------------------------------------------------------
// Output.

// The sources as "000 program; 001 program", from column `indent` (where
// the caller has put the cursor), wrapped to 80 columns at that indent.
void print_sources(std::span<const Source> sources, int indent) {
  int column = indent;
  const char* separator = "";
  for (const Source& source : sources) {
    if (source.program == nullptr) break;
    int width = 4 + static_cast<int>(std::strlen(source.program));
    if (column > indent && column + 2 + width > 80) {
      std::printf(";\n%*s", indent, "");
      column = indent;
      separator = "";
    }
    column += std::printf("%s%03d %s", separator, source.seed, source.program);
    separator = "; ";
  }
  std::printf("\n");
}

void list_scenarios() {
  std::printf(
      "The seed tour: the programs of the Python tutorials in the design's\n"
      "seeds/, ported to concur, by lesson. Run one with `concur tour NAME`,\n"
      "all with `concur tour --all`. Under each scenario, the seed programs\n"
      "it ports (seed number, then the program's name).\n");
  for (const GroupTitle& g : kGroups) {
    std::printf("\n%s\n", g.title);
    for (const Scenario& s : kScenarios) {
      if (s.group != g.group) continue;
      std::printf("  %-22s %s\n%25s", s.name, s.about, "");
      print_sources(s.ports, 25);
    }
    bool heading = false;
    for (const Unported& u : kNotYetPorted) {
      if (u.group != g.group) continue;
      if (!heading) std::printf("  not yet ported:\n");
      heading = true;
      std::printf("    - %s\n%8s", u.about, "");
      print_sources(u.ports, 8);
    }
  }
  std::printf("\nThe seeds, numbered by their files in the design's seeds/:\n");
  for (const char* file : kSeedFiles) std::printf("  %s\n", file);
}

void print_banner(const Scenario& s) {
  std::printf("\n=== %s: %s\n", s.name, s.about);
  std::printf("    program examples/seeds/%s.cpp\n", stem_of(s).c_str());
  const char* label = "ports";
  for (const Source& source : s.ports) {
    if (source.program == nullptr) break;
    std::printf("    %-7s seeds/%s: %s\n", label, kSeedFiles[source.seed],
                source.program);
    label = "";
  }
  std::printf("\n");
}

std::string pad_left(const std::string& text, std::size_t width) {
  return std::string(width > text.size() ? width - text.size() : 0, ' ') + text;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", seconds);
  return text;
}

void print_table(const std::vector<Outcome>& outcomes, const Options& options) {
  std::printf(
      "\n=== Tour summary: 1 s of seed time = %g ms, random seed %u"
      " (--seed %u repeats it)\n\n",
      options.scale * 1000, options.seed, options.seed);
  std::printf("  %-22s %10s %10s  %s\n", "scenario", "wall", "measured",
              "speed-up");
  double total = 0;
  int failed = 0;
  for (const Outcome& o : outcomes) {
    total += o.wall;
    std::string measured = o.measured ? seconds_text(*o.measured) : "";
    std::string note;
    if (!o.failure.empty()) {
      ++failed;
      note = "FAILED: " + o.failure;
    } else if (o.scenario->baseline != nullptr) {
      const Scenario* baseline = find_scenario(o.scenario->baseline);
      auto base = std::find_if(
          outcomes.begin(), outcomes.end(),
          [&](const Outcome& b) { return b.scenario == baseline; });
      if (base != outcomes.end() && base->measured && o.measured &&
          *o.measured > 0) {
        char ratio[96];
        std::snprintf(ratio, sizeof ratio, "%.2fx over %s",
                      *base->measured / *o.measured, baseline->name);
        note = ratio;
      }
    }
    std::string row = std::string("  ") + o.scenario->name;
    row.resize(25, ' ');
    row += pad_left(seconds_text(o.wall), 10) + " " + pad_left(measured, 10) +
           "  " + note;
    row.erase(row.find_last_not_of(' ') + 1);
    std::printf("%s\n", row.c_str());
  }
  std::printf("  %-22s %10s\n", "total", seconds_text(total).c_str());
  if (failed > 0)
    std::printf("\n%d of %zu scenarios FAILED\n", failed, outcomes.size());
  std::printf(
      "\nwall: the program's run, start to exit, in real seconds.\n"
      "measured: the time the program measured itself, in real seconds.\n");
}

int tour(std::span<char*> args) {
  Options options = parse_tour_options(args);
  if (options.help) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (options.selected.empty()) {
    list_scenarios();
    return 0;
  }
  // The children read their settings from the environment they inherit.
  char scale[32];
  std::snprintf(scale, sizeof scale, "%.9g", options.scale);
  setenv("CONCUR_TOUR_SCALE", scale, 1);
  setenv("CONCUR_TOUR_SEED", std::to_string(options.seed).c_str(), 1);
  setenv("CONCUR_TOUR_REPORT_FD", std::to_string(kReportFd).c_str(), 1);

  std::vector<Outcome> outcomes;
  for (const Scenario* s : options.selected) {
    print_banner(*s);
    outcomes.push_back(run(*s, options.scale));
    if (!outcomes.back().failure.empty()) {
      std::printf("\n!!! %s failed: %s\n", s->name,
                  outcomes.back().failure.c_str());
    }
  }
  print_table(outcomes, options);
  bool all_passed =
      std::all_of(outcomes.begin(), outcomes.end(),
                  [](const Outcome& o) { return o.failure.empty(); });
  return all_passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::span<char*> args(argv + 1, argc > 0 ? argc - 1 : 0);
  std::string_view command = args.empty() ? "help" : args[0];
  if (command == "tour") return tour(args.subspan(1));
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::fprintf(stderr, "concur: unknown command '%.*s'\n\n%s",
               static_cast<int>(command.size()), command.data(), kHelp);
  return 2;
}
