// The objects (the program and its shared libraries) a process has loaded,
// as the forkserver's children need them to move the parent's function
// addresses to their own (concur/detail/code_address.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace concur::detail {

struct LoadedObject {
  std::string name;  // empty for the program itself
  std::uint64_t start;
  std::uint64_t end;  // one past its last loaded byte
};

// This process's loaded objects, in the dynamic linker's order.
std::vector<LoadedObject> loaded_objects();

// Makes local_code_address move the addresses of the objects `sender` lists
// to this process's copies of them. Once, while the process has one thread
// (a forkserver child before it runs anything).
void adopt_sender_objects(const std::vector<LoadedObject>& sender);

}  // namespace concur::detail
