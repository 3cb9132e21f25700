// The calling thread's name for the deadlock detector's reports, without
// the side effect of current_thread(): a thread concur does not know yet
// gets no dummy Thread registered for it.
#pragma once

#include <string>

namespace concur::threading_detail {

// The Thread's name, "MainThread", or "thread <kernel id>"; empty when it
// cannot be read without waiting (the caller may hold the Thread's lock).
std::string known_thread_name();

}  // namespace concur::threading_detail
