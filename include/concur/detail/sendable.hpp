// What a call sent to another process of this program may hold: plain
// functions, stateless callables and encodable values, and how each is
// written and read back (the process pool's calls, a forkserver child's
// target).
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

#include "concur/codec.hpp"
#include "concur/detail/code_address.hpp"

namespace concur::detail {

// A callable that can be sent: a function of this program, which travels
// as its address (moved to the receiver's copy of the program,
// code_address.hpp), or a class with no state (a captureless lambda),
// which the receiver makes anew.
template <class F>
concept FunctionPointer =
    std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;
template <class F>
concept StatelessCallable =
    std::is_class_v<F> && std::is_empty_v<F> && std::default_initializable<F>;
template <class F>
concept SendableCallable = FunctionPointer<F> || StatelessCallable<F>;
// An argument that can be sent: encodable (codec.hpp), or a callable as
// above (map sends its function as an argument of each chunk).
template <class T>
concept SendableArgument = codec::Encodable<T> || SendableCallable<T>;

template <class T>
void send_argument(codec::Writer& w, const std::type_identity_t<T>& value) {
  if constexpr (FunctionPointer<T>) {
    const auto address = reinterpret_cast<std::uintptr_t>(value);
    w.write(&address, sizeof address);
  } else if constexpr (codec::Encodable<T>) {
    codec::encode(w, value);
  }
}

template <class T>
T receive_argument(codec::Reader& r) {
  if constexpr (FunctionPointer<T>) {
    std::uintptr_t address = 0;
    r.read(&address, sizeof address, "a function's address");
    return reinterpret_cast<T>(local_code_address(address));
  } else if constexpr (codec::Encodable<T>) {
    return codec::decode<T>(r);
  } else {
    return T{};
  }
}

}  // namespace concur::detail
