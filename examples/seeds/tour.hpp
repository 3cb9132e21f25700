// tour.hpp — what the seed programs share, so that each of them reads like
// the Python it ports.
//
// Time. The seeds simulate work with sleep(): a "download" takes 5 to 10 s.
// `concur tour` runs them faster by setting CONCUR_TOUR_SCALE, the real
// duration of one second of seed time (0.02 by default: 1 s becomes 20 ms).
// tour::sleep scales its argument and Stopwatch::seconds() scales back, so a
// program prints the seed's numbers ("took 7 s", "Total: 9.01 s") whatever
// the scale. Run on its own, a program uses the seed's real durations.
//
// Random durations come from tour::randint, seeded from CONCUR_TOUR_SEED when
// it is set, so that the sequential and the concurrent downloads of one tour
// draw the same durations and their speed-up compares like with like.
//
// Real work (the primes, the sums) is not scaled: it prints real seconds.
// best_of() times work too short for one run to be a measure.
//
// Timings for the tour's table go to the file descriptor named by
// CONCUR_TOUR_REPORT_FD as lines "time SECONDS" (real seconds); without that
// variable, report() does nothing. docs/tour.md describes the protocol.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "concur/threading.hpp"

namespace tour {

// Real seconds per second of seed time, from CONCUR_TOUR_SCALE (default 1).
inline double scale() {
  static const double value = [] {
    const char* text = std::getenv("CONCUR_TOUR_SCALE");
    if (text == nullptr) return 1.0;
    char* end = nullptr;
    double parsed = std::strtod(text, &end);
    bool valid =
        end != text && *end == '\0' && std::isfinite(parsed) && parsed > 0;
    return valid ? parsed : 1.0;
  }();
  return value;
}

// The real duration of d seconds of seed time, for timeouts.
template <class Rep, class Period>
std::chrono::duration<double> scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<double>(d) * scale();
}

// Python's time.sleep, in seed time.
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  std::this_thread::sleep_for(scaled(d));
}

// Python's `start = time()` ... `time() - start`.
class Stopwatch {
 public:
  // Seed-time seconds since construction: what the Python original prints.
  double seconds() const { return elapsed().count() / scale(); }
  // Real time since construction.
  std::chrono::duration<double> elapsed() const {
    return std::chrono::steady_clock::now() - start_;
  }

 private:
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

// Hands a real time the program measured to `concur tour`, for its table.
inline void report(std::chrono::duration<double> measured) {
  const char* fd_text = std::getenv("CONCUR_TOUR_REPORT_FD");
  if (fd_text == nullptr) return;
  char line[64];
  int length =
      std::snprintf(line, sizeof line, "time %.6f\n", measured.count());
  // One write of a short line: atomic on a pipe, and a failure (the tour is
  // gone) costs only the table entry.
  [[maybe_unused]] auto written =
      ::write(std::atoi(fd_text), line, static_cast<std::size_t>(length));
}

inline void report(const Stopwatch& watch) { report(watch.elapsed()); }

// Python's random.randint(a, b): a uniform integer in [a, b]. Safe to call
// from any thread, as Python's is.
inline int randint(int a, int b) {
  static concur::threading::Lock lock;
  static std::mt19937 engine = [] {
    const char* seed = std::getenv("CONCUR_TOUR_SEED");
    return std::mt19937(seed != nullptr ? std::strtoul(seed, nullptr, 10)
                                        : std::random_device{}());
  }();
  std::scoped_lock with(lock);
  return std::uniform_int_distribution<int>(a, b)(engine);
}

// printf, flushed at once like Python's print(..., flush=True), so that the
// output of threads appears in the order they print it even when stdout is a
// pipe. Each call writes whole: two threads' lines may alternate, but never
// mix within one call.
[[gnu::format(printf, 1, 2)]] inline void print(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  flockfile(stdout);
  std::vprintf(format, args);
  std::fflush(stdout);
  funlockfile(stdout);
  va_end(args);
}

// Times real work as a benchmark does. A run of tens of milliseconds says
// little on its own: a page fault, an interrupt or another program on the
// machine can cost as much as the work. So this calls work() `runs` times,
// printing the integer it returns and the run's real time on one line, as
// the seeds print theirs ("5000000050000000  Execution time: 0.0331s"), and
// returns the fastest run, the least disturbed one: the figure to compare
// with another program's fastest. Printing every result also keeps the
// compiler from dropping the runs whose result nobody would read.
template <class Work>
std::chrono::duration<double> best_of(int runs, Work work) {
  auto best = std::chrono::duration<double>::max();
  for (int run = 1; run <= runs; ++run) {
    Stopwatch watch;
    long long result = work();
    std::chrono::duration<double> elapsed = watch.elapsed();
    print("%lld  Execution time: %.4fs (run %d of %d)\n", result,
          elapsed.count(), run, runs);
    best = std::min(best, elapsed);
  }
  return best;
}

}  // namespace tour
