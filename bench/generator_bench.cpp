// Benchmarks for concur::Generator: the cost of one value through next(),
// through a range-for, and through yield_from chains 1 and 100 deep, whose
// per-value cost should not grow with the depth. Python's peer is
// bench/peers/python/generator_peer.py (a generator's next(), yield from).
//
// Names are "<workload>/<implementation>"; bench/peers/run.py pairs them.
#include <cstdint>

#include "benchmark/benchmark.h"
#include "concur/generator.hpp"

namespace {

using concur::Generator;

// Counts up for ever; the benchmark stops taking values.
Generator<std::int64_t> naturals() {
  for (std::int64_t i = 0;; ++i) co_yield i;
}

// naturals() behind `depth` delegating generators.
Generator<std::int64_t> delegated(int depth) {
  if (depth == 0) {
    co_yield concur::yield_from(naturals());
  } else {
    co_yield concur::yield_from(delegated(depth - 1));
  }
}

void generator_next(benchmark::State& state) {
  auto gen = naturals();
  for (auto _ : state) benchmark::DoNotOptimize(gen.next());
}
BENCHMARK(generator_next)->Name("generator_next/concur");

void generator_range_for(benchmark::State& state) {
  auto gen = naturals();
  auto it = gen.begin();
  for (auto _ : state) {
    benchmark::DoNotOptimize(*it);
    ++it;
  }
}
BENCHMARK(generator_range_for)->Name("generator_range_for/concur");

template <int kDepth>
void generator_yield_from(benchmark::State& state) {
  auto gen = delegated(kDepth - 1);
  for (auto _ : state) benchmark::DoNotOptimize(gen.next());
}
BENCHMARK(generator_yield_from<1>)->Name("generator_yield_from_1/concur");
BENCHMARK(generator_yield_from<100>)->Name("generator_yield_from_100/concur");

}  // namespace
