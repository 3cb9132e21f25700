// The calling thread's name for the deadlock detector's reports, without
// the side effect of current_thread(): a thread concur does not know yet
// gets no dummy Thread registered for it.
#pragma once

#include <cstdint>
#include <string>

namespace concur::threading_detail {

// The Thread's name, "MainThread", or "thread <kernel id>"; empty when it
// cannot be read without waiting (the caller may hold the Thread's lock).
std::string known_thread_name();

// Changes whenever known_thread_name() may name the calling thread anew:
// a Thread renamed, a fork, or the thread becoming known to concur. Equal
// stamps, equal names.
std::uint64_t thread_name_stamp() noexcept;

}  // namespace concur::threading_detail
