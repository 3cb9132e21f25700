// concur::Generator against Python's generator semantics (CPython's
// Lib/test/test_generators.py is the checklist): laziness, next/send/
// throw/close, the four states, exceptions, yield from, and lifetimes.
#include "concur/generator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "concur/errors.hpp"

namespace {

using concur::Generator;
using concur::GeneratorState;
using concur::yield_from;

Generator<int> count_up(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

Generator<long> fibonacci(int n) {
  long a = 0;
  long b = 1;
  for (int i = 0; i < n; ++i) {
    co_yield b;
    const long next = a + b;
    a = b;
    b = next;
  }
}

template <class T>
std::vector<T> all_of(Generator<T>& gen) {
  std::vector<T> got;
  for (T& v : gen) got.push_back(v);
  return got;
}

TEST(Generator, RangeForGivesEveryValueInOrder) {
  auto gen = fibonacci(8);
  EXPECT_THAT(all_of(gen), testing::ElementsAre(1, 1, 2, 3, 5, 8, 13, 21));
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
}

TEST(Generator, NothingRunsUntilTheFirstNext) {
  int ran = 0;
  auto body = [](int& ran) -> Generator<int> {
    ++ran;
    co_yield 1;
  };
  auto gen = body(ran);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(gen.state(), GeneratorState::kCreated);
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(ran, 1);
}

TEST(Generator, NextPastTheEndIsStopIterationAndTryNextEmpty) {
  auto gen = count_up(2);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.try_next(), std::optional<int>(1));
  EXPECT_EQ(gen.try_next(), std::nullopt);
  EXPECT_THROW(gen.next(), concur::StopIteration);
  EXPECT_THROW(gen.next(), concur::StopIteration);
  EXPECT_EQ(gen.try_next(), std::nullopt);
}

TEST(Generator, ASecondLoopGoesOnWhereTheFirstStopped) {
  auto gen = count_up(5);
  for (int v : gen) {
    if (v == 1) break;
  }
  EXPECT_THAT(all_of(gen), testing::ElementsAre(2, 3, 4));
}

Generator<int>* self_gen = nullptr;
GeneratorState seen_inside = GeneratorState::kCreated;

Generator<int> reports_its_state() {
  seen_inside = self_gen->state();
  co_yield 1;
}

TEST(Generator, StatesAreInspectsFour) {
  auto gen = reports_its_state();
  self_gen = &gen;
  EXPECT_EQ(gen.state(), GeneratorState::kCreated);
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(seen_inside, GeneratorState::kRunning);
  EXPECT_EQ(gen.state(), GeneratorState::kSuspended);
  EXPECT_EQ(gen.try_next(), std::nullopt);
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  EXPECT_STREQ(concur::state_name(GeneratorState::kCreated), "GEN_CREATED");
  EXPECT_STREQ(concur::state_name(GeneratorState::kRunning), "GEN_RUNNING");
  EXPECT_STREQ(concur::state_name(GeneratorState::kSuspended), "GEN_SUSPENDED");
  EXPECT_STREQ(concur::state_name(GeneratorState::kClosed), "GEN_CLOSED");
}

Generator<int> resumes_itself() {
  co_yield 1;
  self_gen->next();
  co_yield 2;
}

TEST(Generator, ResumingItselfIsAlreadyExecuting) {
  auto gen = resumes_itself();
  self_gen = &gen;
  EXPECT_EQ(gen.next(), 1);
  try {
    gen.next();
    FAIL() << "no error";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "generator already executing");
  }
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
}

// The seed's courier: the consumer gets each n by send and answers.
Generator<std::string, int> consumer(std::vector<std::string>& log) {
  std::string reply;
  for (;;) {
    const std::optional<int> n = co_yield reply;
    if (!n) co_return;
    log.push_back("consuming " + std::to_string(*n));
    reply = "200 OK";
  }
}

TEST(Send, TheSentValueIsTheCoYieldsResult) {
  std::vector<std::string> log;
  auto c = consumer(log);
  EXPECT_EQ(c.next(), "");  // c.send(None): start it
  for (int n = 1; n <= 3; ++n) EXPECT_EQ(c.send(n), "200 OK");
  EXPECT_THAT(
      log, testing::ElementsAre("consuming 1", "consuming 2", "consuming 3"));
  // next() sends "None": the consumer returns.
  EXPECT_THROW(c.next(), concur::StopIteration);
  EXPECT_EQ(c.state(), GeneratorState::kClosed);
}

TEST(Send, AJustStartedGeneratorTakesNoValue) {
  std::vector<std::string> log;
  auto c = consumer(log);
  try {
    c.send(1);
    FAIL() << "no error";
  } catch (const concur::TypeError& e) {
    EXPECT_STREQ(e.what(),
                 "can't send non-None value to a just-started generator");
  }
  EXPECT_EQ(c.state(), GeneratorState::kCreated);
  EXPECT_EQ(c.next(), "");
}

TEST(Send, ToAClosedGeneratorIsStopIteration) {
  std::vector<std::string> log;
  auto c = consumer(log);
  c.next();
  c.close();
  EXPECT_THROW(c.send(1), concur::StopIteration);
}

Generator<int> catches_value_errors(int& caught) {
  for (int i = 0;; ++i) {
    try {
      co_yield i;
    } catch (const concur::ValueError&) {
      ++caught;
    }
  }
}

TEST(Throw, ACaughtErrorGivesTheNextValue) {
  int caught = 0;
  auto gen = catches_value_errors(caught);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.throw_(concur::ValueError("x")), 1);
  EXPECT_EQ(caught, 1);
  EXPECT_EQ(gen.next(), 2);
}

TEST(Throw, AnUncaughtErrorComesBackOutAndCloses) {
  int caught = 0;
  auto gen = catches_value_errors(caught);
  gen.next();
  EXPECT_THROW(gen.throw_(concur::TypeError("t")), concur::TypeError);
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  EXPECT_THROW(gen.next(), concur::StopIteration);
}

TEST(Throw, IntoAGeneratorNotStartedRaisesAtOnceAndClosesIt) {
  int ran = 0;
  auto body = [](int& ran) -> Generator<int> {
    ++ran;
    co_yield 1;
  };
  auto gen = body(ran);
  EXPECT_THROW(gen.throw_(std::runtime_error("r")), std::runtime_error);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  EXPECT_THROW(gen.throw_(std::exception_ptr()), concur::ValueError);
}

// Sets a flag when destroyed: the body's RAII cleanup.
struct Cleanup {
  bool& done;
  ~Cleanup() { done = true; }
};

Generator<int> with_cleanup(bool& cleaned, bool& saw_exit) {
  const Cleanup cleanup{cleaned};
  try {
    co_yield 1;
    co_yield 2;
  } catch (const concur::GeneratorExit&) {
    saw_exit = true;
    throw;
  }
}

TEST(Close, RunsTheCleanupAtTheCoYield) {
  bool cleaned = false;
  bool saw_exit = false;
  auto gen = with_cleanup(cleaned, saw_exit);
  EXPECT_EQ(gen.next(), 1);
  gen.close();
  EXPECT_TRUE(cleaned);
  EXPECT_TRUE(saw_exit);
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  gen.close();  // again: nothing
  EXPECT_THROW(gen.next(), concur::StopIteration);
}

TEST(Close, OfAGeneratorNotStartedRunsNothing) {
  bool cleaned = false;
  bool saw_exit = false;
  auto gen = with_cleanup(cleaned, saw_exit);
  gen.close();
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  EXPECT_FALSE(saw_exit);
  EXPECT_THROW(gen.next(), concur::StopIteration);
}

Generator<int> ignores_exit() {
  for (;;) {
    try {
      co_yield 1;
    } catch (const concur::GeneratorExit&) {
    }
  }
}

TEST(Close, AGeneratorThatYieldsAgainIsARuntimeError) {
  auto gen = ignores_exit();
  gen.next();
  try {
    gen.close();
    FAIL() << "no error";
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "generator ignored GeneratorExit");
  }
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
}

Generator<int> fails_on_exit() {
  try {
    co_yield 1;
  } catch (const concur::GeneratorExit&) {
    throw concur::ValueError("cleanup failed");
  }
}

TEST(Close, AnotherErrorFromTheCleanupComesOut) {
  auto gen = fails_on_exit();
  gen.next();
  EXPECT_THROW(gen.close(), concur::ValueError);
}

TEST(Close, GeneratorExitIsNoError) {
  // `catch (const concur::Error&)` in a body lets close() through.
  auto body = []() -> Generator<int> {
    bool failed = false;
    try {
      co_yield 1;
    } catch (const concur::Error&) {
      failed = true;
    }
    if (failed) co_yield 2;
  };
  auto gen = body();
  gen.next();
  gen.close();
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
}

TEST(Lifetime, DestroyingASuspendedGeneratorClosesIt) {
  bool cleaned = false;
  bool saw_exit = false;
  {
    auto gen = with_cleanup(cleaned, saw_exit);
    gen.next();
  }
  EXPECT_TRUE(cleaned);
  EXPECT_TRUE(saw_exit);
}

TEST(Lifetime, AnErrorFromCleanupInTheDestructorIsPrintedNotThrown) {
  testing::internal::CaptureStderr();
  {
    auto gen = fails_on_exit();
    gen.next();
  }
  EXPECT_THAT(testing::internal::GetCapturedStderr(),
              testing::HasSubstr("Exception ignored in a generator: "
                                 "ValueError: cleanup failed"));
}

TEST(Lifetime, AMovedFromGeneratorIsAValueError) {
  auto gen = count_up(3);
  auto moved = std::move(gen);
  // NOLINTBEGIN(bugprone-use-after-move): the point of the test
  EXPECT_THROW(gen.next(), concur::ValueError);
  EXPECT_THROW(gen.begin(), concur::ValueError);
  gen.close();
  // NOLINTEND(bugprone-use-after-move)
  EXPECT_EQ(moved.next(), 0);
  gen = std::move(moved);
  EXPECT_EQ(gen.next(), 1);
}

Generator<int> fails_after(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
  throw concur::ValueError("body failed");
}

TEST(Errors, AnErrorFromTheBodyReachesTheConsumerAndCloses) {
  auto gen = fails_after(2);
  std::vector<int> got;
  try {
    for (int v : gen) got.push_back(v);
    FAIL() << "no error";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "body failed");
  }
  EXPECT_THAT(got, testing::ElementsAre(0, 1));
  EXPECT_EQ(gen.state(), GeneratorState::kClosed);
  EXPECT_THROW(gen.next(), concur::StopIteration);
}

TEST(Errors, StopIterationFromTheBodyBecomesARuntimeError) {
  auto body = []() -> Generator<int> {
    co_yield 1;
    throw concur::StopIteration("");
  };
  auto gen = body();
  gen.next();
  try {
    gen.next();
    FAIL() << "no error";
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "generator raised StopIteration");
  }
}

TEST(Values, MoveOnlyValuesAreMovedOut) {
  auto body = []() -> Generator<std::unique_ptr<int>> {
    for (int i = 0; i < 3; ++i) co_yield std::make_unique<int>(i);
  };
  auto gen = body();
  std::vector<int> got;
  for (auto& p : gen) got.push_back(*std::move(p));
  EXPECT_THAT(got, testing::ElementsAre(0, 1, 2));
  auto again = body();
  EXPECT_EQ(*again.next(), 0);
}

struct Counted {
  static inline int copies = 0;
  int v = 0;
  explicit Counted(int v) : v(v) {}
  Counted(const Counted& o) : v(o.v) { ++copies; }
  Counted(Counted&& o) noexcept : v(o.v) {}
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() = default;
};

TEST(Values, AnRvalueIsNotCopiedAndAnLvalueOnce) {
  Counted::copies = 0;
  auto body = []() -> Generator<Counted> {
    co_yield Counted(1);
    const Counted kept(2);
    co_yield kept;
    EXPECT_EQ(kept.v, 2);  // the consumer moved the copy, not this
  };
  auto gen = body();
  std::vector<int> got;
  for (Counted& c : gen) got.push_back(Counted(std::move(c)).v);
  EXPECT_THAT(got, testing::ElementsAre(1, 2));
  EXPECT_EQ(Counted::copies, 1);
}

// yield from ----------------------------------------------------------------

Generator<int> nested(int depth, int n) {
  if (depth == 0) {
    for (int i = 0; i < n; ++i) co_yield i;
    co_return;
  }
  co_yield -depth;
  co_yield yield_from(nested(depth - 1, n));
  co_yield depth;
}

TEST(YieldFrom, FlattensEveryLevelInOrder) {
  auto gen = nested(2, 2);
  EXPECT_THAT(all_of(gen), testing::ElementsAre(-2, -1, 0, 1, 1, 2));
}

TEST(YieldFrom, TenThousandLevelsDeepNeitherRecursesNorOverflows) {
  constexpr int kDepth = 10'000;
  auto gen = nested(kDepth, 3);
  long count = 0;
  long sum = 0;
  for (int v : gen) {
    ++count;
    sum += v;
  }
  EXPECT_EQ(count, 2L * kDepth + 3);
  EXPECT_EQ(sum, 0 + 1 + 2);
}

Generator<int> empty() { co_return; }

Generator<int> many_empty_delegations(int n) {
  for (int i = 0; i < n; ++i) co_yield yield_from(empty());
  co_yield 7;
}

TEST(YieldFrom, ManyEmptyDelegationsRunInConstantStack) {
  auto gen = many_empty_delegations(200'000);
  EXPECT_THAT(all_of(gen), testing::ElementsAre(7));
}

Generator<std::string, int> relay(std::vector<std::string>& log) {
  co_yield yield_from(consumer(log));
  co_yield "relay done";
}

TEST(YieldFrom, SendReachesTheInnermostGenerator) {
  std::vector<std::string> log;
  auto r = relay(log);
  EXPECT_EQ(r.next(), "");
  EXPECT_EQ(r.send(5), "200 OK");
  EXPECT_EQ(r.next(), "relay done");  // None ends the consumer
  EXPECT_THAT(log, testing::ElementsAre("consuming 5"));
}

Generator<int> delegates_and_catches(bool& caught) {
  try {
    co_yield yield_from(fails_after(1));
  } catch (const concur::ValueError&) {
    caught = true;
  }
  co_yield 100;
}

TEST(YieldFrom, TheInnerErrorReachesTheDelegator) {
  bool caught = false;
  auto gen = delegates_and_catches(caught);
  EXPECT_THAT(all_of(gen), testing::ElementsAre(0, 100));
  EXPECT_TRUE(caught);
}

Generator<int> outer_of_catcher(int& caught) {
  co_yield yield_from(catches_value_errors(caught));
}

TEST(YieldFrom, ThrowGoesToTheInnermostGenerator) {
  int caught = 0;
  auto gen = outer_of_catcher(caught);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.throw_(concur::ValueError("x")), 1);
  EXPECT_EQ(caught, 1);
}

Generator<int> cleans_then_delegates(bool& outer_clean, bool& inner_clean,
                                     bool& inner_exit) {
  const Cleanup cleanup{outer_clean};
  co_yield yield_from(with_cleanup(inner_clean, inner_exit));
}

TEST(YieldFrom, CloseUnwindsEveryLevel) {
  bool outer_clean = false;
  bool inner_clean = false;
  bool inner_exit = false;
  auto gen = cleans_then_delegates(outer_clean, inner_clean, inner_exit);
  EXPECT_EQ(gen.next(), 1);
  gen.close();
  EXPECT_TRUE(inner_exit);
  EXPECT_TRUE(inner_clean);
  EXPECT_TRUE(outer_clean);
}

Generator<int> delegates_to(Generator<int>& inner) {
  co_yield yield_from(std::move(inner));
}

TEST(YieldFrom, AnEmptyOrStartedGeneratorIsAValueError) {
  auto started = count_up(3);
  started.next();
  auto gen = delegates_to(started);
  EXPECT_THROW(gen.next(), concur::ValueError);
  auto moved = count_up(1);
  auto taken = std::move(moved);
  auto gen2 = delegates_to(moved);
  EXPECT_THROW(gen2.next(), concur::ValueError);
}

// Threads -------------------------------------------------------------------

TEST(Threads, GeneratorsOnManyThreadsAndOneHandedBetweenThem) {
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::vector<long> sums(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &sums] {
      for (int round = 0; round < 100; ++round) {
        auto gen = nested(3, 100);
        for (int v : gen) sums[t] += v;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (long s : sums) EXPECT_EQ(s, 100L * (99 * 100 / 2));
  // One generator, stepped by one thread after another.
  auto gen = count_up(4);
  std::vector<int> got;
  for (int t = 0; t < 4; ++t) {
    std::thread([&] { got.push_back(gen.next()); }).join();
  }
  EXPECT_THAT(got, testing::ElementsAre(0, 1, 2, 3));
}

}  // namespace
