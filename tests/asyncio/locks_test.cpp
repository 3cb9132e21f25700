// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier and the
// queues (Python's test_locks and test_queues are the checklist: FIFO
// order, and a cancelled waiter never loses a wake-up or an item).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"

namespace asyncio = concur::asyncio;
using namespace std::chrono_literals;

namespace {

asyncio::Task<void> take_lock(asyncio::Lock* lock, std::vector<int>* order,
                              int id) {
  co_await lock->acquire();
  order->push_back(id);
  co_await asyncio::sleep(0s);
  lock->release();
}

asyncio::Task<void> lock_fifo() {
  asyncio::Lock lock;
  std::vector<int> order;
  co_await lock.acquire();
  EXPECT_TRUE(lock.locked());
  std::vector<asyncio::Task<void>> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(asyncio::create_task(take_lock(&lock, &order, i)));
  }
  co_await asyncio::sleep(0s);
  lock.release();
  co_await asyncio::gather(std::move(tasks));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  {
    auto held = co_await lock.scoped();
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, WaitersGetItInFifoOrder) { asyncio::run(lock_fifo()); }

asyncio::Task<void> lock_cancel_after_wakeup() {
  asyncio::Lock lock;
  std::vector<int> order;
  co_await lock.acquire();
  auto a = asyncio::create_task(take_lock(&lock, &order, 1));
  auto b = asyncio::create_task(take_lock(&lock, &order, 2));
  co_await asyncio::sleep(0s);
  lock.release();  // wakes a...
  a.cancel();      // ...which is cancelled before it runs: b must get it
  EXPECT_THROW(co_await a, asyncio::CancelledError);
  co_await b;
  EXPECT_EQ(order, (std::vector<int>{2}));
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ACancelledWaiterPassesTheWakeUpOn) {
  asyncio::run(lock_cancel_after_wakeup());
}

asyncio::Task<void> lock_cancel_before_wakeup() {
  asyncio::Lock lock;
  std::vector<int> order;
  co_await lock.acquire();
  auto a = asyncio::create_task(take_lock(&lock, &order, 1));
  auto b = asyncio::create_task(take_lock(&lock, &order, 2));
  co_await asyncio::sleep(0s);
  a.cancel();
  co_await asyncio::sleep(0s);
  lock.release();
  co_await b;
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(order, (std::vector<int>{2}));
}

TEST(Lock, ACancelledWaiterLeavesTheQueue) {
  asyncio::run(lock_cancel_before_wakeup());
}

asyncio::Task<void> wait_event(asyncio::Event* e, int* woken) {
  bool v = co_await e->wait();
  if (v) ++*woken;
}

asyncio::Task<void> event_case() {
  asyncio::Event event;
  int woken = 0;
  std::vector<asyncio::Task<void>> tasks;
  for (int i = 0; i < 3; ++i)
    tasks.push_back(asyncio::create_task(wait_event(&event, &woken)));
  auto cancelled = asyncio::create_task(wait_event(&event, &woken));
  co_await asyncio::sleep(0s);
  cancelled.cancel();
  event.set();
  event.clear();  // waiters woken before the clear still return true
  co_await asyncio::gather(std::move(tasks));
  EXPECT_EQ(woken, 3);
  EXPECT_THROW(co_await cancelled, asyncio::CancelledError);
  EXPECT_FALSE(event.is_set());
  event.set();
  bool v = co_await event.wait();
  EXPECT_TRUE(v);
}

TEST(Event, SetWakesEveryWaiter) { asyncio::run(event_case()); }

asyncio::Task<void> cond_waiter(asyncio::Condition* c, int* ready,
                                std::vector<int>* got, int id) {
  co_await c->acquire();
  auto ready_now = c->wait_for([ready] { return *ready > 0; });
  co_await ready_now;
  --*ready;
  got->push_back(id);
  EXPECT_TRUE(c->locked());
  c->release();
}

asyncio::Task<void> condition_case() {
  asyncio::Condition cond;
  int ready = 0;
  std::vector<int> got;
  std::vector<asyncio::Task<void>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(asyncio::create_task(cond_waiter(&cond, &ready, &got, i)));
  }
  co_await asyncio::sleep(0s);
  EXPECT_THROW(cond.notify(), concur::RuntimeError);
  EXPECT_THROW(co_await cond.wait(), concur::RuntimeError);
  co_await cond.acquire();
  ready = 1;
  cond.notify(1);
  cond.release();
  co_await asyncio::sleep(1ms);
  EXPECT_EQ(got, (std::vector<int>{0}));
  co_await cond.acquire();
  ready = 2;
  cond.notify_all();
  cond.release();
  co_await asyncio::gather(std::move(tasks));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

TEST(Condition, NotifyWakesInFifoOrder) { asyncio::run(condition_case()); }

asyncio::Task<void> cond_wait_then_flag(asyncio::Condition* c, bool* relocked) {
  co_await c->acquire();
  try {
    co_await c->wait();
  } catch (const asyncio::CancelledError&) {
    *relocked = c->locked();
    c->release();
    throw;
  }
}

asyncio::Task<void> condition_cancel() {
  asyncio::Condition cond;
  bool relocked = false;
  auto t = asyncio::create_task(cond_wait_then_flag(&cond, &relocked));
  co_await asyncio::sleep(0s);
  co_await cond.acquire();  // t waits for the lock back once cancelled
  t.cancel();
  co_await asyncio::sleep(0s);
  EXPECT_FALSE(t.done());
  cond.release();
  EXPECT_THROW(co_await t, asyncio::CancelledError);
  EXPECT_TRUE(relocked);
}

TEST(Condition, ACancelledWaitTakesTheLockBack) {
  asyncio::run(condition_cancel());
}

asyncio::Task<void> hold_semaphore(asyncio::Semaphore* s,
                                   std::vector<int>* order, int id) {
  co_await s->acquire();
  order->push_back(id);
  co_await asyncio::sleep(1ms);
  s->release();
}

asyncio::Task<void> semaphore_case() {
  EXPECT_THROW(asyncio::Semaphore(-1), concur::ValueError);
  asyncio::Semaphore sem(2);
  std::vector<int> order;
  std::vector<asyncio::Task<void>> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(asyncio::create_task(hold_semaphore(&sem, &order, i)));
  }
  co_await asyncio::gather(std::move(tasks));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(sem.value(), 2);
  asyncio::BoundedSemaphore bounded(1);
  co_await bounded.acquire();
  bounded.release();
  EXPECT_THROW(bounded.release(), concur::ValueError);
}

TEST(Semaphore, StrictFifoAndBounded) { asyncio::run(semaphore_case()); }

asyncio::Task<void> semaphore_cancel_after_wakeup() {
  asyncio::Semaphore sem(0);
  std::vector<int> order;
  auto a = asyncio::create_task(hold_semaphore(&sem, &order, 1));
  auto b = asyncio::create_task(hold_semaphore(&sem, &order, 2));
  co_await asyncio::sleep(0s);
  sem.release();  // goes to a...
  a.cancel();     // ...cancelled before running: b gets it
  EXPECT_THROW(co_await a, asyncio::CancelledError);
  co_await b;
  EXPECT_EQ(order, (std::vector<int>{2}));
  EXPECT_EQ(sem.value(), 1);
}

TEST(Semaphore, ACancelledWaiterLosesNoUnit) {
  asyncio::run(semaphore_cancel_after_wakeup());
}

asyncio::Task<void> barrier_party(asyncio::Barrier* b,
                                  std::vector<std::size_t>* idx) {
  std::size_t i = co_await b->wait();
  idx->push_back(i);
}

asyncio::Task<void> barrier_case() {
  EXPECT_THROW(asyncio::Barrier(0), concur::ValueError);
  asyncio::Barrier barrier(3);
  std::vector<std::size_t> idx;
  for (int round = 0; round < 2; ++round) {
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i)
      tasks.push_back(asyncio::create_task(barrier_party(&barrier, &idx)));
    co_await asyncio::gather(std::move(tasks));
  }
  std::sort(idx.begin(), idx.end());
  EXPECT_EQ(idx, (std::vector<std::size_t>{0, 0, 1, 1, 2, 2}));
  auto waiting = asyncio::create_task(barrier_party(&barrier, &idx));
  co_await asyncio::sleep(0s);
  EXPECT_EQ(barrier.n_waiting(), 1u);
  co_await barrier.abort();
  EXPECT_THROW(co_await waiting, concur::threading::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, RoundsAndAbort) { asyncio::run(barrier_case()); }

// --- queues ------------------------------------------------------------------

asyncio::Task<void> producer(asyncio::Queue<int>* q, int n) {
  for (int i = 0; i < n; ++i) co_await q->put(i);
}

asyncio::Task<long> consumer(asyncio::Queue<int>* q, int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    int v = co_await q->get();
    sum += v;
    q->task_done();
  }
  co_return sum;
}

asyncio::Task<void> queue_case() {
  asyncio::Queue<int> q(3);
  auto c = asyncio::create_task(consumer(&q, 1000));
  co_await producer(&q, 1000);
  co_await q.join();
  long sum = co_await c;
  EXPECT_EQ(sum, 999L * 1000 / 2);
  EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
  q.put_nowait(1);
  q.put_nowait(2);
  q.put_nowait(3);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(4), asyncio::QueueFull);
  EXPECT_EQ(q.get_nowait(), 1);
  for (int i = 0; i < 3; ++i) q.task_done();
  EXPECT_THROW(q.task_done(), concur::ValueError);
}

TEST(Queue, ProducerConsumerJoinAndTheNowaitForms) {
  asyncio::run(queue_case());
}

asyncio::Task<void> getter(asyncio::Queue<int>* q, std::vector<int>* got) {
  int v = co_await q->get();
  got->push_back(v);
}

asyncio::Task<void> queue_cancelled_getter() {
  asyncio::Queue<int> q;
  std::vector<int> got;
  auto a = asyncio::create_task(getter(&q, &got));
  auto b = asyncio::create_task(getter(&q, &got));
  co_await asyncio::sleep(0s);
  q.put_nowait(7);  // wakes a...
  a.cancel();       // ...cancelled first: the item goes to b
  EXPECT_THROW(co_await a, asyncio::CancelledError);
  co_await b;
  EXPECT_EQ(got, (std::vector<int>{7}));
}

TEST(Queue, ACancelledGetterLosesNoItem) {
  asyncio::run(queue_cancelled_getter());
}

asyncio::Task<void> putter(asyncio::Queue<int>* q, int v) {
  co_await q->put(v);
}

asyncio::Task<void> queue_cancelled_putter() {
  asyncio::Queue<int> q(1);
  q.put_nowait(0);
  auto a = asyncio::create_task(putter(&q, 1));
  auto b = asyncio::create_task(putter(&q, 2));
  co_await asyncio::sleep(0s);
  EXPECT_EQ(q.get_nowait(), 0);  // wakes a...
  a.cancel();                    // ...cancelled: b puts
  EXPECT_THROW(co_await a, asyncio::CancelledError);
  co_await b;
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, ACancelledPutterPassesItsTurnOn) {
  asyncio::run(queue_cancelled_putter());
}

asyncio::Task<void> queue_orders() {
  asyncio::LifoQueue<int> lifo;
  asyncio::PriorityQueue<int> prio;
  for (int v : {3, 1, 2}) {
    lifo.put_nowait(v);
    prio.put_nowait(v);
  }
  std::vector<int> l, p;
  while (!lifo.empty()) l.push_back(lifo.get_nowait());
  while (!prio.empty()) {
    int v = co_await prio.get();
    p.push_back(v);
  }
  EXPECT_EQ(l, (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(p, (std::vector<int>{1, 2, 3}));
}

TEST(Queue, LifoAndPriorityOrders) { asyncio::run(queue_orders()); }

asyncio::Task<void> queue_shutdown() {
  asyncio::Queue<int> q;
  std::vector<int> got;
  auto waiting = asyncio::create_task(getter(&q, &got));
  co_await asyncio::sleep(0s);
  q.put_nowait(1);
  q.put_nowait(2);
  co_await waiting;
  q.shutdown();
  EXPECT_THROW(q.put_nowait(3), asyncio::QueueShutDown);
  EXPECT_EQ(q.get_nowait(), 2);  // what is left can still be had
  auto after = asyncio::create_task(getter(&q, &got));
  EXPECT_THROW(co_await after, asyncio::QueueShutDown);

  asyncio::Queue<int> now;
  now.put_nowait(1);
  now.put_nowait(2);
  auto join = asyncio::create_task(now.join());
  co_await asyncio::sleep(0s);
  now.shutdown(true);
  co_await join;  // dropping the items released join()
  EXPECT_TRUE(now.empty());

  asyncio::Queue<int> empty;
  auto blocked = asyncio::create_task(getter(&empty, &got));
  co_await asyncio::sleep(0s);
  empty.shutdown();
  EXPECT_THROW(co_await blocked, asyncio::QueueShutDown);
}

TEST(Queue, Shutdown) { asyncio::run(queue_shutdown()); }

}  // namespace
