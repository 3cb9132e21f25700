// join — what join() changes: the seeds' thread-naming and join programs.
//
// Ports, in order, seed 002's LoopThread:
//
//     def loop():
//         print('thread %s is running...' % threading.current_thread().name)
//         n = 0
//         while n < 5:
//             n += 1
//             print('thread %s >>> %s' % (threading.current_thread().name, n))
//             time.sleep(1)
//         print('thread %s ended.' % threading.current_thread().name)
//
//     t = threading.Thread(target=loop, name='LoopThread')
//     t.start(); t.join()
//
// and seed 004's join demos: func(x, y) printing a range in 'thread1' and
// 'thread2', each joined before the next starts; music() and movie() joined
// inside the start loop (so they run one after the other), then started
// together and joined after, with isAlive() printed; and myThread, a daemon
// Thread subclass with a name, joined before main ends.
#include <string>
#include <utility>
#include <vector>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

void loop() {
  std::string name = current_thread().name();
  tour::print("thread %s is running...\n", name.c_str());
  for (int n = 1; n <= 5; ++n) {
    tour::print("thread %s >>> %d\n", name.c_str(), n);
    tour::sleep(1s);
  }
  tour::print("thread %s ended.\n", name.c_str());
}

void func(int x, int y) {
  for (int i = x; i < y; ++i) tour::print("%d ", i);
}

void music(const char* par) {
  for (int i = 0; i < 3; ++i) {
    tour::print("listening %s\n", par);
    tour::sleep(10ms);
  }
}

void movie(const char* par) {
  for (int i = 0; i < 3; ++i) {
    tour::print("watching %s\n", par);
    tour::sleep(100ms);
  }
}

class MyThread : public Thread {
 public:
  MyThread(int num, std::string threadname)
      : Thread(ThreadOptions{.name = std::move(threadname)}), num_(num) {}

 protected:
  void run() override {
    tour::sleep(2s);
    tour::print("%d\n", num_);
  }

 private:
  int num_;
};

int main() {
  tour::print("-- current_thread().name --\n");
  tour::print("thread %s is running...\n", current_thread().name().c_str());
  Thread t(ThreadOptions{.name = "LoopThread"}, loop);
  t.start();
  t.join();
  tour::print("thread %s ended.\n", current_thread().name().c_str());

  tour::print("-- join before the next start: in order --\n");
  Thread t1(ThreadOptions{.name = "thread1"}, func, 1, 10);
  t1.start();
  t1.join();  // the seed says: comment this out and see
  Thread t2(ThreadOptions{.name = "thread2"}, func, 10, 15);
  t2.start();
  t2.join();
  tour::print("\n");

  tour::print("-- join inside the start loop: one after the other --\n");
  std::vector<Thread> threads{Thread(music, "Learn to Meow"),
                              Thread(movie, "The Wandering Earth")};
  for (Thread& thread : threads) {
    thread.start();
    thread.join();
  }

  tour::print("-- start all, then join all: at the same time --\n");
  Thread music_thread(music, "Learn to Meow");
  Thread movie_thread(movie, "The Wandering Earth");
  threads = {music_thread, movie_thread};
  for (Thread& thread : threads) thread.start();
  for (Thread& thread : threads) thread.join();
  tour::print("%s\n", music_thread.is_alive() ? "True" : "False");
  tour::print("%s\n", movie_thread.is_alive() ? "True" : "False");

  tour::print("-- a daemon Thread subclass, joined --\n");
  MyThread mythread(6, "mythread");
  mythread.set_daemon(true);
  mythread.start();
  mythread.join();
  tour::print("thread %s ended.\n", current_thread().name().c_str());
}
