// The multiprocessing workloads, shared by concur's benchmarks
// (bench/multiprocessing_bench.cpp) and their C++ peers (Boost.Interprocess
// in peers/interprocess_bench.cpp, raw pipes and fork below), so that every
// implementation is timed by the same code.
//
// Workers are processes forked with fork() before the clock starts; they
// wait on a pipe that the parent writes to once the clock runs, and the
// clock stops when the last of them has been reaped. A worker that finds a
// wrong item exits with status 1, which fails the benchmark.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"

namespace concur_bench {

// Starts a process that waits for go, runs `work` (returning whether its
// items were right) and exits.
class Workers {
 public:
  Workers() {
    if (::pipe(go_) != 0) std::abort();
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() {
    ::close(go_[0]);
    ::close(go_[1]);
  }

  template <class Work>
  void spawn(Work work) {
    const pid_t pid = ::fork();
    if (pid < 0) std::abort();
    if (pid == 0) {
      char byte;
      if (::read(go_[0], &byte, 1) != 1) ::_exit(2);
      ::_exit(work() ? 0 : 1);
    }
    pids_.push_back(pid);
  }
  void go() {
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (::write(go_[1], "g", 1) != 1) std::abort();
    }
  }
  // Reaps every worker; false if one failed.
  bool reap() {
    bool ok = true;
    for (pid_t pid : pids_) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    pids_.clear();
    return ok;
  }

 private:
  int go_[2];
  std::vector<pid_t> pids_;
};

// Moves kBatch ints (0, 1, ... per producer) from P producer processes to C
// consumer processes through a fresh Channel per batch, which has
// put(int) and get() -> int and works across fork. One iteration is one
// item.
inline constexpr std::int64_t kBatch = std::int64_t{1} << 20;

template <class Channel, int kProducers, int kConsumers>
void transfer(benchmark::State& state) {
  while (state.KeepRunningBatch(kBatch)) {
    state.PauseTiming();
    auto channel = std::make_unique<Channel>();
    Workers workers;
    constexpr std::int64_t kEach = kBatch / kProducers;
    for (int p = 0; p < kProducers; ++p) {
      workers.spawn([&] {
        for (std::int64_t i = 0; i < kEach; ++i) {
          channel->put(static_cast<int>(i));
        }
        return true;
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      workers.spawn([&] {
        std::int64_t sum = 0;
        for (std::int64_t i = 0; i < kBatch / kConsumers; ++i) {
          sum += channel->get();
        }
        // With one consumer the sum is known exactly.
        return kConsumers > 1 || sum == kProducers * (kEach * (kEach - 1) / 2);
      });
    }
    state.ResumeTiming();
    workers.go();
    const bool ok = workers.reap();
    state.PauseTiming();
    channel.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("a worker saw a wrong item");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Moves kBlocks blocks of kBlockBytes from one process to another through
// a fresh Channel per batch, which has send(const std::byte*, size) and
// receive(std::byte*, size) -> bytes. One iteration is one block.
inline constexpr std::size_t kBlockBytes = 64 * 1024;
inline constexpr std::int64_t kBlocks = 4096;

template <class Channel>
void blocks(benchmark::State& state) {
  std::vector<std::byte> block(kBlockBytes);
  for (std::size_t i = 0; i < block.size(); ++i) {
    block[i] = static_cast<std::byte>(i);
  }
  while (state.KeepRunningBatch(kBlocks)) {
    state.PauseTiming();
    auto channel = std::make_unique<Channel>();
    Workers workers;
    workers.spawn([&] {
      channel->sender();
      for (std::int64_t i = 0; i < kBlocks; ++i) {
        channel->send(block.data(), block.size());
      }
      return true;
    });
    workers.spawn([&] {
      channel->receiver();
      std::vector<std::byte> in(kBlockBytes);
      bool ok = true;
      for (std::int64_t i = 0; i < kBlocks; ++i) {
        ok = channel->receive(in.data(), in.size()) == kBlockBytes && ok;
      }
      return ok && in == block;
    });
    channel->parent();
    state.ResumeTiming();
    workers.go();
    const bool ok = workers.reap();
    if (!ok) {
      state.SkipWithError("a block arrived torn");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(kBlockBytes));
}

// A pipe(2) moving the blocks with plain write and read calls: the bound
// for any channel built on a pipe. Each end closes what it does not use.
// Its capacity is the one concur's one-way Pipe asks for (1 MiB), so that
// both move the blocks through the same kernel buffer.
struct RawPipe {
  RawPipe() {
    if (::pipe(fds) != 0) std::abort();
    static_cast<void>(::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20));
  }
  ~RawPipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void sender() { ::close(fds[0]); }
  void receiver() { ::close(fds[1]); }
  void parent() {}
  void send(const std::byte* data, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fds[1], data, n);
      if (w <= 0) std::abort();
      data += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  std::size_t receive(std::byte* data, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fds[0], data + got, n - got);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }
  int fds[2];
};

}  // namespace concur_bench
