// concur — the project's command.
//
//   concur tour                 lists the seed tour's scenarios
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
// The scenarios, in tour order. Adding one is adding its program to
// examples/seeds/ and a line here.
struct Scenario {
  // `concur tour NAME` runs seeds/seed_NAME, with '-' as '_'.
  const char* name;
  // What it shows, in one line.
  const char* about;
  // Which programs of the seeds (the design's seeds/NNN_*.txt) it ports.
  const char* ports;
  // The name of a sequential version of the same work, if there is one:
  // the table shows the speed-up over it.
  const char* baseline = nullptr;
};

constexpr Scenario kScenarios[] = {
    {"downloads-sequential", "two downloads, one after the other",
     "seeds 000, 001, 003: download_task() twice"},
    {"downloads-thread", "two downloads at once, a Thread(target=...) each",
     "seeds 000, 001: Thread(target=download, ...)", "downloads-sequential"},
    {"downloads-subclass", "two downloads at once, a Thread subclass each",
     "seeds 000, 001: class DownloadTask(Thread)", "downloads-sequential"},
    {"downloads-exit-hook",
     "unjoined download threads; an exit hook times them",
     "seed 001: _thread.start_new_thread + atexit", "downloads-sequential"},
    {"pingpong-join", "Ping and Pong threads on one shared counter, joined",
     "seed 004: pingpangThreadJoin.py with its joins"},
    {"pingpong-nojoin", "the same without join: threads are joined at exit",
     "seed 004: pingpangThreadJoin.py as printed"},
    {"pingpong-local", "Ping and Pong each counting on a threading.local",
     "seed 004: pingpang_thread-local.py"},
    {"deposit", "100 threads deposit 1: lost deposits, then a Lock",
     "seeds 000, 001: Account.deposit, AddMoneyThread"},
    {"balance", "balance += n; -= n, a million times in two threads",
     "seed 002: change_it / run_thread"},
    {"withdraw", "two withdrawals of 600 from 1000: negative, then a Lock",
     "seed 004: draw() by threads A and B"},
    {"deadlock", "transfers a->b and b->a: deadlock, then two cures",
     "seed 004: transfer(src, dst, amount)"},
    {"producer-consumer",
     "Putters and Takers wait on a Condition for thresholds",
     "seed 004: Putter / Taker with Condition"},
    {"queue-sentinel", "a Putter and a Taker on a Queue; None ends the Taker",
     "seed 004: Putter / Taker with queue.Queue"},
    {"queue-workers", "five workers call task_done(); main's join() waits",
     "seed 004: worker() with q.task_done() and q.join()"},
    {"server-ready", "workers wait on an Event; thread names; wait timeouts",
     "seed 004: worker(event), redis_ready"},
    {"join", "thread names, and what join() changes",
     "seeds 002, 004: LoopThread, music/movie, myThread"},
    {"pool-submit", "ThreadPoolExecutor: submit, done(), a scoped pool, map",
     "seed 004: ThreadPoolExecutor(max_workers=2) programs"},
    {"primes-sequential", "is_prime() of the six PRIMES, one after another",
     "seed 004: PrimeNoWithfuture.py"},
    {"primes-threads", "the six PRIMES in a ThreadPoolExecutor, with map",
     "seed 004: PrimeWithfuture.py, ThreadPoolExecutor", "primes-sequential"},
    {"sum-sequential", "the sum of 1..100,000,000 in one loop",
     "seeds 001, 004: multitask0.py"},
    {"sum-pool", "the same sum in 8 slices on a thread per core",
     "seeds 001, 004: multitask1.py, 8 processes", "sum-sequential"},
};

const Scenario* find_scenario(std::string_view name) {
  for (const Scenario& s : kScenarios) {
    if (name == s.name) return &s;
  }
  return nullptr;
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
  tour                 list the seed tour's scenarios
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
  std::string file = std::string("seed_") + s.name;
  std::replace(file.begin(), file.end(), '-', '_');
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() /
         "seeds" / file;
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

void list_scenarios() {
  std::printf(
      "The seed tour: the Python tutorials' programs, ported to concur.\n"
      "Run one with `concur tour NAME`, all with `concur tour --all`.\n\n");
  for (const Scenario& s : kScenarios) {
    std::printf("  %-22s %s\n  %-22s ports %s\n", s.name, s.about, "", s.ports);
  }
}

void print_banner(const Scenario& s) {
  std::printf("\n=== %s: %s\n    (ports %s)\n\n", s.name, s.about, s.ports);
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
