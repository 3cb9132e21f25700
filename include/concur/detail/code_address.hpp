// Function addresses that cross to another process. A process forked from
// the sender has the sender's code at the same addresses; one started from
// the forkserver (a fresh image of the program) has each loaded object at
// another address, so there a sent address moves by its object's offset.
#pragma once

#include <cstdint>

namespace concur::detail {

// The address in this process of the code the sending process had at
// `sent`: `sent` itself unless this process was started by the forkserver.
// ValueError if `sent` lies in no object that this process has loaded (a
// library the sender loaded with dlopen).
std::uintptr_t local_code_address(std::uintptr_t sent);

}  // namespace concur::detail
