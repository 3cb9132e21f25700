// How a Process's target and its arguments reach a child started by the
// forkserver (detail/mp_context.hpp): the call is encoded, and the shared
// objects among its arguments travel as descriptors beside the bytes (part
// of <concur/multiprocessing.hpp>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/codec.hpp"
#include "concur/detail/sendable.hpp"
#include "concur/detail/sys/shared_memory.hpp"
#include "concur/threading.hpp"

namespace concur::multiprocessing_detail {

// The descriptors a message carries, gathered while it is encoded. The
// descriptors are borrowed: they must stay open until the message is sent.
class Outbox {
 public:
  // The index of `fd` among the message's descriptors; a descriptor added
  // twice is sent once.
  std::uint32_t add(int fd);
  std::span<const int> fds() const noexcept { return fds_; }

 private:
  std::vector<int> fds_;
};

// The descriptors a message brought, owned until taken.
class Inbox {
 public:
  explicit Inbox(std::vector<int> fds) noexcept : fds_(std::move(fds)) {}
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;
  ~Inbox();

  // Descriptor i, now the caller's. ValueError if the message has no such
  // descriptor or it was taken.
  int take(std::uint32_t i);
  // The shared memory behind descriptor i, mapped the first time.
  std::shared_ptr<sys::SharedMapping> block(std::uint32_t i);

 private:
  std::vector<int> fds_;
  std::vector<std::shared_ptr<sys::SharedMapping>> blocks_;
};

// A pointer into one of multiprocessing's shared blocks (locks, values),
// sent as its block's descriptor and its offset there.
void send_block_pointer(codec::Writer& w, Outbox& out,
                        const std::shared_ptr<const void>& p);
// The pointer back, to `size` bytes; ValueError if they lie outside the
// block received.
std::shared_ptr<std::byte> receive_block_pointer(codec::Reader& r, Inbox& in,
                                                 std::size_t size);
// `count` objects of type T there (the sender made them).
template <class T>
std::shared_ptr<T> receive_block_object(codec::Reader& r, Inbox& in,
                                        std::size_t count = 1) {
  std::shared_ptr<std::byte> bytes =
      receive_block_pointer(r, in, count * sizeof(T));
  T* p = std::launder(reinterpret_cast<T*>(bytes.get()));
  return std::shared_ptr<T>(std::move(bytes), p);
}

// Specialised by each shared type that can travel to a forkserver child:
//   static void send(codec::Writer&, Outbox&, const T&);
//   static T receive(codec::Reader&, Inbox&);
template <class T>
struct Transfer {};

// Declares Transfer<multiprocessing::Type>, defined where Type's state is.
#define CONCUR_MP_DECLARE_TRANSFER(Type)                               \
  template <>                                                          \
  struct Transfer<multiprocessing::Type> {                             \
    static void send(codec::Writer& w, Outbox& out,                    \
                     const multiprocessing::Type& value);              \
    static multiprocessing::Type receive(codec::Reader& r, Inbox& in); \
  }

template <class T>
concept Transferable = requires(codec::Writer& w, Outbox& out, const T& value,
                                codec::Reader& r, Inbox& in) {
  Transfer<T>::send(w, out, value);
  { Transfer<T>::receive(r, in) } -> std::same_as<T>;
};
template <class T>
concept ServerArgument = Transferable<T> || detail::SendableArgument<T>;

template <class T>
void send_value(codec::Writer& w, Outbox& out, const T& value) {
  if constexpr (Transferable<T>) {
    Transfer<T>::send(w, out, value);
  } else {
    detail::send_argument<T>(w, value);
  }
}

template <class T>
T receive_value(codec::Reader& r, Inbox& in) {
  if constexpr (Transferable<T>) {
    return Transfer<T>::receive(r, in);
  } else {
    return detail::receive_argument<T>(r);
  }
}

// What a forkserver child calls: it decodes the target and its arguments,
// and calls it.
using Entry = void (*)(codec::Reader& in, Inbox& fds);

template <class F, class... Args>
void run_received(codec::Reader& in, Inbox& fds) {
  F f = receive_value<F>(in, fds);
  // Braces: the arguments are decoded in order.
  std::tuple<Args...> args{receive_value<Args>(in, fds)...};
  std::apply([&f](auto&... a) { std::invoke(f, a...); }, args);
}

// A Process's target: called in a forked child, or encoded for one the
// forkserver starts.
struct ProcessTarget : threading_detail::Callable {
  // Writes the call (its entry first); false if it cannot travel.
  virtual bool encode(codec::Writer& w, Outbox& out) const = 0;
};

template <class F, class... Args>
struct BoundTarget final : ProcessTarget {
  template <class G, class... A>
  explicit BoundTarget(G&& g, A&&... a)
      : call(std::forward<G>(g), std::forward<A>(a)...) {}
  void operator()() override {
    std::apply([](auto& f, auto&... a) { std::invoke(f, a...); }, call);
  }
  bool encode(codec::Writer& w, Outbox& out) const override {
    if constexpr (detail::SendableCallable<F> &&
                  (ServerArgument<Args> && ...)) {
      detail::send_argument<Entry>(w, &run_received<F, Args...>);
      send_all(w, out, std::index_sequence_for<F, Args...>{});
      return true;
    } else {
      return false;
    }
  }
  template <std::size_t... I>
  void send_all(codec::Writer& w, Outbox& out,
                std::index_sequence<I...>) const {
    (send_value<std::tuple_element_t<I, std::tuple<F, Args...>>>(
         w, out, std::get<I>(call)),
     ...);
  }
  std::tuple<F, Args...> call;
};

template <class F, class... Args>
std::unique_ptr<ProcessTarget> bind_target(F&& f, Args&&... args) {
  return std::make_unique<BoundTarget<std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace concur::multiprocessing_detail
