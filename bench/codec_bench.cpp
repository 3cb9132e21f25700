// Benchmarks for concur/codec.hpp: what one value costs to encode and
// decode, the work every multiprocessing message does on each side. Each
// iteration encodes the value into a reused Buffer (so the buffer's growth
// is not timed) and decodes it back; the Encode and Decode variants time
// one side alone. Bytes per second count the encoded bytes.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/codec.hpp"

namespace {

namespace codec = concur::codec;

struct Order {
  std::int64_t id;
  double price;
  std::int32_t quantity;
  bool buy;
  std::string symbol;
};

template <class T>
T sample();
template <>
int sample<int>() {
  return 123456789;
}
template <>
std::string sample<std::string>() {
  return "sixteen chars!!!";
}
template <>
std::vector<double> sample<std::vector<double>>() {
  std::vector<double> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = 0.5 * static_cast<double>(i);
  return v;
}
template <>
Order sample<Order>() {
  return Order{42, 101.25, 300, true, "ACME"};
}

template <class T>
void RoundTrip(benchmark::State& state) {
  const T value = sample<T>();
  codec::Buffer buffer;
  for (auto _ : state) {
    buffer.clear();
    codec::Writer w(buffer);
    codec::encode(w, value);
    codec::Reader r(buffer);
    T back = codec::decode<T>(r);
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(buffer.size()));
}

template <class T>
void Encode(benchmark::State& state) {
  const T value = sample<T>();
  codec::Buffer buffer;
  for (auto _ : state) {
    buffer.clear();
    codec::Writer w(buffer);
    codec::encode(w, value);
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(buffer.size()));
}

template <class T>
void Decode(benchmark::State& state) {
  const codec::Buffer buffer = codec::dumps(sample<T>());
  for (auto _ : state) {
    codec::Reader r(buffer);
    T back = codec::decode<T>(r);
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(buffer.size()));
}

// A tagged frame: the type check a receiver does on top of the decode.
template <class T>
void TaggedRoundTrip(benchmark::State& state) {
  const T value = sample<T>();
  codec::Buffer buffer;
  for (auto _ : state) {
    buffer.clear();
    codec::Writer w(buffer);
    codec::encode_tagged(w, value);
    codec::Reader r(buffer);
    T back = codec::decode_tagged<T>(r);
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(buffer.size()));
}

#define CODEC_BENCH(T, name)                              \
  BENCHMARK(RoundTrip<T>)->Name("codec_roundtrip/" name); \
  BENCHMARK(Encode<T>)->Name("codec_encode/" name);       \
  BENCHMARK(Decode<T>)->Name("codec_decode/" name);       \
  BENCHMARK(TaggedRoundTrip<T>)->Name("codec_tagged_roundtrip/" name)

CODEC_BENCH(int, "int");
CODEC_BENCH(std::string, "string16");
CODEC_BENCH(std::vector<double>, "vector_double_1000");
CODEC_BENCH(Order, "aggregate");

}  // namespace
