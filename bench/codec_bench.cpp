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

// Counts the encoded bytes of each iteration as processed.
void CountBytes(benchmark::State& state, const codec::Buffer& buffer) {
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(buffer.size()));
}

// Encodes value into the emptied buffer: as a tagged frame if Tagged.
template <bool Tagged, class T>
void EncodeInto(codec::Buffer& buffer, const T& value) {
  buffer.clear();
  codec::Writer w(buffer);
  if constexpr (Tagged) {
    codec::encode_tagged(w, value);
  } else {
    codec::encode(w, value);
  }
}

// Decodes the T that buffer holds: from a tagged frame if Tagged.
template <bool Tagged, class T>
T DecodeFrom(const codec::Buffer& buffer) {
  codec::Reader r(buffer);
  if constexpr (Tagged) {
    return codec::decode_tagged<T>(r);
  } else {
    return codec::decode<T>(r);
  }
}

// Encodes and decodes back; Tagged, as a tagged frame: the type check a
// receiver does on top of the decode.
template <class T, bool Tagged>
void RoundTrip(benchmark::State& state) {
  const T value = sample<T>();
  codec::Buffer buffer;
  for (auto _ : state) {
    EncodeInto<Tagged>(buffer, value);
    T back = DecodeFrom<Tagged, T>(buffer);
    benchmark::DoNotOptimize(back);
  }
  CountBytes(state, buffer);
}

template <class T>
void Encode(benchmark::State& state) {
  const T value = sample<T>();
  codec::Buffer buffer;
  for (auto _ : state) {
    EncodeInto<false>(buffer, value);
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  CountBytes(state, buffer);
}

template <class T>
void Decode(benchmark::State& state) {
  const codec::Buffer buffer = codec::dumps(sample<T>());
  for (auto _ : state) {
    T back = DecodeFrom<false, T>(buffer);
    benchmark::DoNotOptimize(back);
  }
  CountBytes(state, buffer);
}

#define CODEC_BENCH(T, name)                                     \
  BENCHMARK(RoundTrip<T, false>)->Name("codec_roundtrip/" name); \
  BENCHMARK(Encode<T>)->Name("codec_encode/" name);              \
  BENCHMARK(Decode<T>)->Name("codec_decode/" name);              \
  BENCHMARK(RoundTrip<T, true>)->Name("codec_tagged_roundtrip/" name)

CODEC_BENCH(int, "int");
CODEC_BENCH(std::string, "string16");
CODEC_BENCH(std::vector<double>, "vector_double_1000");
CODEC_BENCH(Order, "aggregate");

}  // namespace
