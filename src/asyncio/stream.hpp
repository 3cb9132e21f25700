// A connection's state, shared by its StreamReader and StreamWriter: the
// channel (a socket, a pipe's end, TLS), what has been read and not yet
// taken, what has been written and not yet sent, and the tasks waiting on
// either.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/channel.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/asyncio/streams.hpp"
#include "concur/detail/asyncio_core.hpp"

namespace concur::asyncio_detail {

class Stream {
 public:
  // The halves a stream has: a pipe's end has one.
  enum class Halves { kBoth, kReadOnly, kWriteOnly };
  Stream(asyncio::EventLoop& loop, std::unique_ptr<Channel> channel,
         std::size_t limit, Halves halves = Halves::kBoth);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  // --- reading ---
  std::string_view buffered() const noexcept {
    return {rbuf_.get() + rhead_, rtail_ - rhead_};
  }
  // Takes n bytes off the front of the buffer.
  std::string take(std::size_t n);
  void drop(std::size_t n) noexcept;
  bool eof() const noexcept { return eof_; }
  const std::exception_ptr& error() const noexcept { return error_; }
  std::size_t limit() const noexcept { return limit_; }
  // Waits for more data, the end, or an error (one task at a time).
  class DataWait;
  DataWait wait_for_data(const char* caller);

  // --- writing ---
  void write(std::string_view data);
  void write_eof();
  void close();
  bool can_write_eof() const noexcept { return channel_->can_shutdown_write(); }
  bool closing() const noexcept { return closing_; }
  bool lost() const noexcept { return channel_->closed(); }
  std::size_t write_buffered() const noexcept { return wbuf_.size() - whead_; }
  bool over_high_water() const noexcept {
    return write_buffered() > kHighWater;
  }
  WaitList& drainers() noexcept { return drainers_; }
  WaitList& closers() noexcept { return closers_; }
  const std::exception_ptr& lost_error() const noexcept { return lost_error_; }

  asyncio::SocketAddress peer;
  asyncio::SocketAddress sock;

 private:
  static constexpr std::size_t kHighWater = std::size_t{64} * 1024;
  static constexpr std::size_t kLowWater = std::size_t{16} * 1024;

  void start_reading();
  void stop_reading();
  void on_readable();
  // Receives into the buffer: true if that brought data, the end, or an
  // error (a waiting reader has something to look at).
  bool receive();
  // Makes room in the read buffer for one more receive.
  void make_room();
  void on_writable();
  // Watches writability while there is something to send, or while a
  // receive waits for it (TLS).
  void update_writer();
  // Sends what the socket takes; false if the connection was lost.
  bool flush();
  void finish_writes();
  // The connection is gone (closed, reset): wakes every waiter.
  void connection_lost(const std::exception_ptr& error);
  void maybe_resume_reading();

  asyncio::EventLoop* loop_;
  std::unique_ptr<Channel> channel_;
  std::size_t limit_;
  Halves halves_;

  std::unique_ptr<char[]> rbuf_;
  std::size_t rcapacity_ = 0;
  std::size_t rhead_ = 0;
  std::size_t rtail_ = 0;
  bool eof_ = false;
  bool reading_ = false;
  // TLS: a receive that must first send, a send that must first receive.
  bool receive_wants_writable_ = false;
  bool send_wants_readable_ = false;
  std::exception_ptr error_;
  WaitList readers_;

  std::string wbuf_;
  std::size_t whead_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool eof_requested_ = false;
  bool eof_sent_ = false;
  std::exception_ptr lost_error_;
  WaitList drainers_;
  WaitList closers_;
};

class Stream::DataWait {
 public:
  DataWait(Stream& s, const char* caller) noexcept : s_(s), caller_(caller) {}
  bool await_ready() const noexcept;
  bool await_suspend(std::coroutine_handle<> /*unused*/);
  void await_resume();

 private:
  Stream& s_;
  const char* caller_;
  WaitList::Waiter waiter_;
  TaskCore* task_ = nullptr;
};

// Waits until a descriptor is readable or writable (a connect in
// progress, a TLS handshake).
class FdReady final : public Suspension {
 public:
  FdReady(asyncio::EventLoop& loop, int fd, Channel::Blocked readiness) noexcept
      : loop_(loop), fd_(fd), readiness_(readiness) {}
  FdReady(const FdReady&) = delete;
  FdReady& operator=(const FdReady&) = delete;
  ~FdReady() { unregister(); }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> /*unused*/);
  void await_resume() { task_->throw_if_cancelled(); }
  bool cancel_wait(const std::string& /*message*/) override {
    unregister();
    return false;
  }
  void abandon() noexcept override { unregister(); }

 private:
  void unregister() noexcept;
  asyncio::EventLoop& loop_;
  int fd_;
  Channel::Blocked readiness_;
  TaskCore* task_ = nullptr;
  bool registered_ = false;
};

// Waits on a WaitList until woken (drain, wait_closed, serve_forever, a
// child's end).
class ListWait {
 public:
  explicit ListWait(WaitList& list) noexcept : list_(list) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> /*unused*/) {
    task_ = &current_task_or_throw();
    return list_.enqueue(waiter_, *task_);
  }
  void await_resume() {
    list_.leave(waiter_);
    task_->throw_if_cancelled();
  }

 private:
  WaitList& list_;
  WaitList::Waiter waiter_;
  TaskCore* task_ = nullptr;
};

inline Stream::DataWait Stream::wait_for_data(const char* caller) {
  return DataWait(*this, caller);
}

}  // namespace concur::asyncio_detail
