// multiprocessing.Pipe and Connection, after CPython's
// _test_multiprocessing.py (_TestConnection, _TestPoll, TestWait): whole
// messages between processes and threads, EOF and broken pipes, typed
// values and corrupt input.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "concur/codec.hpp"

#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;

std::string text_of(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

struct Point {
  int x;
  double y;
  std::string label;
  friend bool operator==(const Point&, const Point&) = default;
};

TEST(Connection, DuplexPipeCarriesBytesBothWays) {
  auto [a, b] = mp::Pipe();
  EXPECT_TRUE(a.readable() && a.writable() && b.readable() && b.writable());
  a.send_bytes("hello");
  b.send_bytes("world");
  a.send_bytes("");
  EXPECT_EQ(text_of(b.recv_bytes()), "hello");
  EXPECT_EQ(text_of(a.recv_bytes()), "world");
  EXPECT_TRUE(b.recv_bytes().empty());
}

TEST(Connection, ValuesKeepTheirType) {
  auto [a, b] = mp::Pipe();
  a.send(42);
  a.send(std::string("ping"));
  a.send(std::vector<double>{1.5, 2.5});
  a.send(std::tuple<int, std::string, std::optional<long>>{7, "x", 9L});
  a.send(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  a.send(Point{1, 2.5, "p"});
  EXPECT_EQ(b.recv<int>(), 42);
  EXPECT_EQ(b.recv<std::string>(), "ping");
  EXPECT_EQ((b.recv<std::vector<double>>()), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ((b.recv<std::tuple<int, std::string, std::optional<long>>>()),
            (std::tuple<int, std::string, std::optional<long>>{7, "x", 9L}));
  EXPECT_EQ((b.recv<std::map<std::string, int>>()),
            (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  EXPECT_EQ(b.recv<Point>(), (Point{1, 2.5, "p"}));
}

TEST(Connection, AnotherTypeIsATypeErrorNamingBoth) {
  auto [a, b] = mp::Pipe();
  a.send(42);
  try {
    static_cast<void>(b.recv<std::string>());
    ADD_FAILURE() << "no TypeError";
  } catch (const concur::TypeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("std::string"), std::string::npos) << what;
    EXPECT_NE(what.find("int"), std::string::npos) << what;
  }
  // The message was taken whole: the next one reads normally.
  a.send(std::string("next"));
  EXPECT_EQ(b.recv<std::string>(), "next");
}

TEST(Connection, OneWayPipe) {
  auto [reader, writer] = mp::Pipe(false);
  EXPECT_TRUE(reader.readable());
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_TRUE(writer.writable());
  try {
    reader.send_bytes("x");
    ADD_FAILURE() << "send on the reading end";
  } catch (const concur::OSError& e) {
    EXPECT_STREQ(e.what(), "connection is read-only");
  }
  try {
    static_cast<void>(writer.recv_bytes());
    ADD_FAILURE() << "recv on the writing end";
  } catch (const concur::OSError& e) {
    EXPECT_STREQ(e.what(), "connection is write-only");
  }
  writer.send(std::string("one way"));
  EXPECT_EQ(reader.recv<std::string>(), "one way");
}

TEST(Connection, EOFErrorOnceThePeerClosedAndNothingIsLeft) {
  auto [a, b] = mp::Pipe();
  a.send(1);
  a.send(2);
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_EQ(b.recv<int>(), 1);
  EXPECT_EQ(b.recv<int>(), 2);
  EXPECT_TRUE(b.poll());  // end of file is "readable"
  EXPECT_THROW(static_cast<void>(b.recv<int>()), concur::EOFError);
  EXPECT_THROW(static_cast<void>(b.recv_bytes()), concur::EOFError);
}

TEST(Connection, BrokenPipeWhenTheReaderIsGone) {
  for (bool duplex : {true, false}) {
    auto [r, w] = mp::Pipe(duplex);
    r.close();
    EXPECT_THROW(w.send_bytes("lost"), concur::BrokenPipeError) << duplex;
  }
}

TEST(Connection, ClosedConnection) {
  auto [a, b] = mp::Pipe();
  a.close();
  a.close();
  try {
    a.send_bytes("x");
    ADD_FAILURE() << "send after close";
  } catch (const concur::OSError& e) {
    EXPECT_STREQ(e.what(), "handle is closed");
  }
  EXPECT_THROW(static_cast<void>(a.recv<int>()), concur::OSError);
  EXPECT_THROW(static_cast<void>(a.fileno()), concur::OSError);
  EXPECT_THROW(static_cast<void>(a.poll()), concur::OSError);
  mp::Connection none;
  EXPECT_TRUE(none.closed());
  EXPECT_THROW(mp::Connection(-1, true, true), concur::ValueError);
  EXPECT_THROW(mp::Connection(b.fileno(), false, false), concur::ValueError);
}

TEST(Connection, MaxlengthAndRecvBytesInto) {
  auto [a, b] = mp::Pipe();
  a.send_bytes("0123456789");
  std::byte small[4];
  try {
    static_cast<void>(b.recv_bytes_into(small));
    ADD_FAILURE() << "no BufferTooShort";
  } catch (const mp::BufferTooShort& e) {
    EXPECT_EQ(text_of(e.message()), "0123456789");
  }
  a.send_bytes("abc");
  std::byte room[16];
  EXPECT_EQ(b.recv_bytes_into(room), 3u);
  EXPECT_EQ(std::memcmp(room, "abc", 3), 0);
  a.send_bytes("too long for the limit");
  try {
    static_cast<void>(b.recv_bytes(5));
    ADD_FAILURE() << "no OSError";
  } catch (const concur::OSError& e) {
    EXPECT_STREQ(e.what(), "bad message length");
  }
  // As in Python, the stream is unusable after that.
  EXPECT_THROW(static_cast<void>(b.recv_bytes()), concur::OSError);
}

TEST(Connection, PollWithTimeout) {
  auto [a, b] = mp::Pipe();
  EXPECT_FALSE(b.poll());
  EXPECT_FALSE(b.poll(10ms));
  EXPECT_THROW(static_cast<void>(b.poll(-1s)), concur::ValueError);
  a.send(1);
  EXPECT_TRUE(b.poll());
  EXPECT_TRUE(b.poll(1s));
  EXPECT_EQ(b.recv<int>(), 1);
  EXPECT_FALSE(b.poll());
}

TEST(Connection, WaitReturnsTheReadyOnes) {
  auto [a1, b1] = mp::Pipe();
  auto [a2, b2] = mp::Pipe();
  auto [a3, b3] = mp::Pipe(false);
  std::vector<mp::Connection*> all{&b1, &b2, &a3};
  EXPECT_TRUE(mp::connection::wait(all, 0s).empty());
  EXPECT_TRUE(mp::connection::wait(all, 10ms).empty());
  a2.send(2);
  b3.send(3);
  auto ready = mp::connection::wait(all);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0], &b2);
  EXPECT_EQ(ready[1], &a3);

  mp::Process quick([] {});
  quick.start();
  const int sentinel = quick.sentinel();
  const std::vector<int> fds{sentinel};
  EXPECT_EQ(mp::connection::wait(std::span<const int>(fds)),
            std::vector<int>{sentinel});
  quick.join();
}

TEST(Connection, MessagesAcrossProcessesInOrder) {
  auto pipe = mp::Pipe();
  mp::Connection& parent = pipe.first;
  mp::Connection& child = pipe.second;
  mp::Process echo([&parent, &child] {
    parent.close();
    for (;;) {
      std::vector<std::byte> m;
      try {
        m = child.recv_bytes();
      } catch (const concur::EOFError&) {
        concur::sys::exit(0);
      }
      child.send_bytes(m);
    }
  });
  echo.start();
  child.close();
  for (std::size_t size : {0u, 1u, 100u, 4096u, 65536u, 65544u, 1u << 20}) {
    std::vector<std::byte> out(size);
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = static_cast<std::byte>(i * 31 + size);
    }
    parent.send_bytes(out);
    EXPECT_EQ(parent.recv_bytes(), out) << size;
  }
  for (int i = 0; i < 1000; ++i) {
    parent.send(std::to_string(i));
    ASSERT_EQ(parent.recv<std::string>(), std::to_string(i));
  }
  parent.close();
  echo.join();
  EXPECT_EQ(echo.exitcode(), 0);
}

TEST(Connection, LargeValueFromAChild) {
  auto pipe = mp::Pipe(false);
  mp::Connection& r = pipe.first;
  mp::Connection& w = pipe.second;
  mp::Process sender([&w] {
    std::vector<std::int64_t> big(1 << 20);
    for (std::size_t i = 0; i < big.size(); ++i) {
      big[i] = static_cast<std::int64_t>(i);
    }
    w.send(big);
  });
  sender.start();
  w.close();
  auto big = r.recv<std::vector<std::int64_t>>();
  ASSERT_EQ(big.size(), 1u << 20);
  bool ok = true;
  for (std::size_t i = 0; i < big.size(); ++i) {
    ok = ok && big[i] == static_cast<std::int64_t>(i);
  }
  EXPECT_TRUE(ok);
  sender.join();
}

TEST(Connection, CorruptFramesAreErrorsNotCrashes) {
  // A header that claims 2^60 bytes, then the peer hangs up: no huge
  // allocation, a defined error.
  {
    auto [a, b] = mp::Pipe();
    const std::uint64_t huge = std::uint64_t{1} << 60;
    ASSERT_EQ(::write(a.fileno(), &huge, sizeof huge), 8);
    ASSERT_EQ(::write(a.fileno(), "abc", 3), 3);
    a.close();
    try {
      static_cast<void>(b.recv_bytes());
      ADD_FAILURE() << "no error";
    } catch (const concur::OSError& e) {
      EXPECT_STREQ(e.what(), "got end of file during message");
    }
  }
  // Half a header.
  {
    auto [a, b] = mp::Pipe();
    ASSERT_EQ(::write(a.fileno(), "abc", 3), 3);
    a.close();
    EXPECT_THROW(static_cast<void>(b.recv<int>()), concur::OSError);
  }
  // A whole frame whose value is cut short, or has bytes after it.
  {
    auto [a, b] = mp::Pipe();
    using Value = std::tuple<int, std::string, std::vector<int>>;
    concur::codec::Buffer buffer;
    concur::codec::Writer writer(buffer);
    concur::codec::encode_tagged(writer, Value{1, "two", {3, 4, 5}});
    auto whole = buffer.bytes();
    a.send_bytes(whole.first(whole.size() - 3));
    EXPECT_THROW(static_cast<void>(b.recv<Value>()), concur::EOFError);
    std::vector<std::byte> longer(whole.begin(), whole.end());
    longer.push_back(std::byte{0});
    a.send_bytes(longer);
    EXPECT_THROW(static_cast<void>(b.recv<Value>()), concur::ValueError);
    a.send_bytes(whole);
    EXPECT_EQ(b.recv<Value>(), (Value{1, "two", {3, 4, 5}}));
  }
}

TEST(Connection, ManyThreadsSendAndReceiveWholeMessages) {
  auto pipe = mp::Pipe();
  mp::Connection& a = pipe.first;
  mp::Connection& b = pipe.second;
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::atomic<int> whole{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&a, t] {
      for (int i = 0; i < kEach; ++i) {
        // Each message repeats one byte a length that identifies it.
        const std::size_t n =
            static_cast<std::size_t>(1 + (t * kEach + i) % 3000);
        a.send_bytes(std::string(n, static_cast<char>('a' + t)));
      }
    });
    threads.emplace_back([&b, &whole] {
      for (int i = 0; i < kEach; ++i) {
        auto m = b.recv_bytes();
        bool same = !m.empty();
        for (std::byte c : m) same = same && c == m[0];
        if (same) whole.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(whole.load(), kThreads * kEach);
  EXPECT_FALSE(b.poll());
}

}  // namespace
