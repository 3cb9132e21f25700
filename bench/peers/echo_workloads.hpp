// The echo workloads that concur (bench/asyncio_bench.cpp) and its peers
// (bench/peers/asio_echo_bench.cpp, python/asyncio_peer.py) share: a
// server and its clients on one thread's loop, over loopback TCP, each
// client sending a message and reading it back whole before the next.
//
// echo_1: one connection; an operation is one round trip.
// echo_100: 100 connections at once; an operation is one round trip of
// one of them (1 / the loop's throughput in round trips).
#pragma once

#include <cstddef>

namespace concur_bench::echo_workloads {

inline constexpr std::size_t kMessageBytes = 64;
inline constexpr int kRoundsOne = 20'000;  // echo_1: rounds a sample
inline constexpr int kConnections = 100;   // echo_100
inline constexpr int kRoundsEach = 200;    // echo_100: rounds a connection

}  // namespace concur_bench::echo_workloads
