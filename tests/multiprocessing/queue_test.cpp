// multiprocessing.Queue, JoinableQueue and SimpleQueue, after CPython's
// _test_multiprocessing.py (_TestQueue, _TestSimpleQueue): items between
// real processes, timeouts, misuse, items larger than the ring, and
// processes killed inside put and get.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"
#include "concur/detail/sys/shared_memory.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;
using concur_test::Gate;
using concur_test::Report;

struct Item {
  std::uint32_t producer;
  std::uint32_t seq;
  std::string payload;
};

// The payload an item must carry: its length and bytes follow from the
// producer and the sequence number, so a reader can tell a whole item.
std::string payload_of(std::uint32_t producer, std::uint32_t seq,
                       std::size_t big) {
  const std::size_t n = seq % 7 == 0 ? big + seq % 1000 : seq % 100;
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + (producer * 31 + seq * 7 + i) % 26);
  }
  return s;
}

TEST(Queue, FifoWithinAProcess) {
  mp::Queue<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 1000; ++i) q.put(i);
  EXPECT_EQ(q.qsize(), 1000u);
  EXPECT_FALSE(q.full());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, CarriesAnyEncodableType) {
  mp::Queue<Item> q;
  q.put(Item{1, 2, "three"});
  q.put(Item{4, 5, std::string(100000, 'x')});
  Item a = q.get();
  EXPECT_EQ(a.producer, 1u);
  EXPECT_EQ(a.payload, "three");
  Item b = q.get();
  EXPECT_EQ(b.payload, std::string(100000, 'x'));
  mp::Queue<std::vector<std::string>> v;
  v.put({"a", "bb", ""});
  EXPECT_EQ(v.get(), (std::vector<std::string>{"a", "bb", ""}));
}

TEST(Queue, TimeoutsAndTheNonBlockingForms) {
  mp::Queue<int> q(2);
  EXPECT_THROW(q.get_nowait(), concur::queue::Empty);
  EXPECT_THROW(q.get(10ms), concur::queue::Empty);
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_FALSE(q.try_get(1ms).has_value());
  q.put(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), concur::queue::Full);
  EXPECT_THROW(q.put(3, 10ms), concur::queue::Full);
  EXPECT_THROW(q.put(3, -1s), concur::ValueError);
  EXPECT_THROW(q.get(-1s), concur::ValueError);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(q.try_get(), 2);
}

TEST(Queue, CloseEndsThisProcesssUse) {
  mp::Queue<int> q;
  q.put(1);
  mp::Queue<int> copy = q;
  q.close();
  EXPECT_THROW(copy.put(2), concur::ValueError);
  EXPECT_THROW(copy.get(), concur::ValueError);
  q.join_thread();
  q.cancel_join_thread();
}

TEST(Queue, BadOptions) {
  EXPECT_THROW(mp::Queue<int>(std::size_t{1} << 24), concur::ValueError);
  EXPECT_THROW(mp::SimpleQueue<int>(mp::QueueOptions{.maxsize = 3}),
               concur::ValueError);
}

TEST(Queue, BetweenProcessesInOrder) {
  mp::Queue<int> q(100);
  mp::Process producer([&q] {
    for (int i = 0; i < 20000; ++i) q.put(i);
  });
  producer.start();
  bool in_order = true;
  for (int i = 0; i < 20000; ++i) in_order = in_order && q.get() == i;
  EXPECT_TRUE(in_order);
  producer.join();
  EXPECT_EQ(producer.exitcode(), 0);
}

TEST(Queue, ABlockedGetWakesForAnotherProcesssPut) {
  mp::Queue<std::string> q;
  Gate go;
  mp::Process producer([&q, &go] {
    go.wait();
    q.put("late");
  });
  producer.start();
  concur::threading::Thread opener([&go] { go.open(); });
  opener.start();
  EXPECT_EQ(q.get(), "late");
  opener.join();
  producer.join();
}

TEST(Queue, ItemsLargerThanTheRingStreamThrough) {
  mp::Queue<std::string> q(mp::QueueOptions{.buffer_bytes = 4096});
  mp::Process producer([&q] {
    for (std::uint32_t i = 0; i < 40; ++i) q.put(payload_of(1, i, 300000));
  });
  producer.start();
  bool whole = true;
  for (std::uint32_t i = 0; i < 40; ++i) {
    whole = whole && q.get() == payload_of(1, i, 300000);
  }
  EXPECT_TRUE(whole);
  producer.join();
}

TEST(Queue, ManyProducerAndConsumerProcesses) {
  constexpr std::uint32_t kProducers = 3;
  constexpr std::uint32_t kEach = 3000;
  mp::Queue<Item> q(mp::QueueOptions{.maxsize = 50, .buffer_bytes = 1 << 16});
  mp::Queue<Item> out;
  std::vector<mp::Process> procs;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    procs.emplace_back([&q, p] {
      for (std::uint32_t i = 0; i < kEach; ++i) {
        q.put(Item{p, i, payload_of(p, i, 40000)});
      }
    });
  }
  for (int c = 0; c < 3; ++c) {
    procs.emplace_back([&q, &out] {
      for (;;) {
        Item item = q.get();
        if (item.producer == kProducers) return;
        const bool whole =
            item.payload == payload_of(item.producer, item.seq, 40000);
        out.put(Item{item.producer, item.seq, whole ? "" : "torn"});
      }
    });
  }
  for (auto& p : procs) p.start();
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  int torn = 0;
  for (std::uint32_t n = 0; n < kProducers * kEach; ++n) {
    Item got = out.get();
    torn += !got.payload.empty();
    seen.insert({got.producer, got.seq});
  }
  for (int c = 0; c < 3; ++c) q.put(Item{kProducers, 0, ""});
  for (auto& p : procs) p.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(seen.size(), kProducers * kEach);
  EXPECT_TRUE(out.empty());
}

TEST(Queue, ThreadsOfOneProcessShareIt) {
  mp::Queue<int> q(64);
  std::atomic<long> sum{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&q] {
      for (int i = 1; i <= 2000; ++i) q.put(i);
    });
    threads.emplace_back([&q, &sum] {
      for (int i = 0; i < 2000; ++i) sum.fetch_add(q.get());
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 4L * 2000 * 2001 / 2);
}

TEST(JoinableQueue, TaskDoneAndJoinAcrossProcesses) {
  mp::JoinableQueue<int> q;
  for (int i = 0; i < 100; ++i) q.put(i);
  EXPECT_FALSE(q.join(0s));
  mp::Process worker([&q] {
    for (int i = 0; i < 100; ++i) {
      static_cast<void>(q.get());
      q.task_done();
    }
  });
  worker.start();
  q.join();
  worker.join();
  EXPECT_TRUE(q.join(0s));
  try {
    q.task_done();
    ADD_FAILURE() << "task_done too often";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "task_done() called too many times");
  }
}

TEST(SimpleQueue, GetPutEmpty) {
  mp::SimpleQueue<std::string> q;
  EXPECT_TRUE(q.empty());
  mp::Process p([&q] { q.put("from child"); });
  p.start();
  EXPECT_EQ(q.get(), "from child");
  p.join();
  EXPECT_TRUE(q.empty());
  q.close();
  EXPECT_THROW(q.put("x"), concur::ValueError);
}

TEST(QueueCrash, AConsumerKilledWhileWaitingBlocksNobody) {
  mp::Queue<int> q;
  Report report;
  mp::Process blocked([&q, &report] {
    report.send("waiting");
    static_cast<void>(q.get());  // holds the consumers' lock, asleep
  });
  blocked.start();
  EXPECT_EQ(report.receive(), "waiting");
  // Let it reach its sleep, then kill it there (or on its way).
  std::this_thread::sleep_for(20ms);
  blocked.kill();
  blocked.join();
  q.put(7);
  EXPECT_EQ(q.get(1s), 7);
}

TEST(QueueCrash, AProducerKilledMidItemLeavesNoPartOfIt) {
  mp::Queue<std::string> q(mp::QueueOptions{.buffer_bytes = 4096});
  Report report;
  mp::Process producer([&q, &report] {
    report.send("streaming");
    q.put(std::string(1 << 20, 'z'));  // blocks: nobody reads, ring full
  });
  producer.start();
  EXPECT_EQ(report.receive(), "streaming");
  std::this_thread::sleep_for(20ms);
  producer.kill();
  producer.join();
  // The next put closes the stream (once a reader makes room for that);
  // the reader drops what it read of the dead item.
  concur::threading::Thread next([&q] { q.put("after"); });
  next.start();
  EXPECT_EQ(q.get(), "after");
  next.join();
  EXPECT_TRUE(q.empty());
}

TEST(QueueCrash, AConsumerAssemblingFindsItsProducerDead) {
  mp::Queue<std::string> q(mp::QueueOptions{.buffer_bytes = 4096});
  Gate slow;
  mp::Process producer([&q, &slow] {
    // Streams an item, then stops in the middle of the next one.
    q.put(std::string(100000, 'a'));
    slow.wait();
  });
  producer.start();
  EXPECT_EQ(q.get(), std::string(100000, 'a'));
  producer.kill();
  producer.join();

  Report report;
  mp::Process half([&q, &report] {
    report.send("started");
    q.put(std::string(1 << 20, 'b'));
  });
  half.start();
  EXPECT_EQ(report.receive(), "started");
  concur::threading::Thread killer([&half] {
    std::this_thread::sleep_for(5ms);
    half.kill();
  });
  killer.start();
  // Either the whole item (it finished first) or, once the dead producer
  // is noticed, nothing of it: then the next item.
  concur::threading::Thread late([&q, &half] {
    half.join();
    q.put("next");
  });
  late.start();
  std::string got = q.get();
  if (got.size() == (1u << 20)) {
    EXPECT_EQ(got, std::string(1 << 20, 'b'));
    got = q.get();
  }
  EXPECT_EQ(got, "next");
  killer.join();
  late.join();
}

TEST(QueueCrash, ThousandKillsAtRandomMomentsLoseNothing) {
  // Two producer and two consumer processes run flat out; the parent kills
  // one of them at a random moment, a thousand times, and starts a new one.
  // Each producer incarnation has an id of its own and records in shared
  // memory the last item whose put returned; consumers count every item
  // they get, and whether it was whole.
  // A thousand in the release build; fewer under the sanitizers, where
  // every process start costs several times more.
  constexpr int kKills = concur_test::kSanitized ? 200 : 1000;
  constexpr std::uint32_t kIncarnations = kKills + 8;
  constexpr std::uint32_t kMaxSeq = 4000;
  struct Shared {
    std::atomic<std::int32_t> acked[kIncarnations];
    std::atomic<std::uint8_t> seen[kIncarnations][kMaxSeq];
    std::atomic<std::uint32_t> torn;
    std::atomic<bool> stop_producers;
    std::atomic<bool> stop_consumers;
  };
  auto mapping = concur::sys::SharedMapping::anonymous(sizeof(Shared), "test");
  auto* shared = new (mapping.data()) Shared;
  for (auto& a : shared->acked) a.store(-1);

  mp::Queue<Item> q(mp::QueueOptions{.maxsize = 200, .buffer_bytes = 1 << 16});
  std::uint32_t next_incarnation = 0;
  auto producer = [&](std::uint32_t id) {
    return mp::Process([&q, shared, id] {
      for (std::uint32_t seq = 0;
           seq < kMaxSeq && !shared->stop_producers.load(); ++seq) {
        q.put(Item{id, seq, payload_of(id, seq, 40000)});
        shared->acked[id].store(static_cast<std::int32_t>(seq));
      }
      while (!shared->stop_producers.load()) std::this_thread::sleep_for(1ms);
    });
  };
  auto consumer = [&] {
    return mp::Process([&q, shared] {
      for (;;) {
        std::optional<Item> item = q.try_get(20ms);
        if (!item) {
          if (shared->stop_consumers.load()) return;
          continue;
        }
        if (item->producer >= kIncarnations || item->seq >= kMaxSeq ||
            item->payload != payload_of(item->producer, item->seq, 40000)) {
          shared->torn.fetch_add(1);
          continue;
        }
        shared->seen[item->producer][item->seq].fetch_add(1);
      }
    });
  };
  mp::set_fork_warning(false);
  std::vector<mp::Process> producers;
  std::vector<mp::Process> consumers;
  for (int i = 0; i < 2; ++i) {
    producers.push_back(producer(next_incarnation++));
    producers.back().start();
    consumers.push_back(consumer());
    consumers.back().start();
  }
  std::mt19937 random(12345);
  int consumer_kills = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 1500));
    const bool hit_consumer = random() % 2 == 0;
    auto& group = hit_consumer ? consumers : producers;
    mp::Process& victim = group[random() % group.size()];
    victim.kill();
    victim.join();
    if (hit_consumer) {
      ++consumer_kills;
      victim = consumer();
    } else {
      victim = producer(next_incarnation++);
    }
    victim.start();
  }
  shared->stop_producers.store(true);
  for (auto& p : producers) p.join();
  shared->stop_consumers.store(true);
  for (auto& c : consumers) c.join();

  int duplicates = 0;
  int missing = 0;
  for (std::uint32_t id = 0; id < next_incarnation; ++id) {
    const std::int32_t acked = shared->acked[id].load();
    for (std::uint32_t seq = 0; seq < kMaxSeq; ++seq) {
      const int n = shared->seen[id][seq].load();
      duplicates += n > 1;
      missing += n == 0 && static_cast<std::int32_t>(seq) <= acked;
    }
  }
  EXPECT_EQ(shared->torn.load(), 0u);
  EXPECT_EQ(duplicates, 0);
  // Only an item its reader died holding may be missing: at most one per
  // consumer killed.
  EXPECT_LE(missing, consumer_kills);
  EXPECT_TRUE(q.empty());
  mp::set_fork_warning(true);
  std::printf("kills: %d (%d consumers), items lost with their reader: %d\n",
              kKills, consumer_kills, missing);
}

}  // namespace
