// POSIX shared memory objects and random names: the OS calls behind
// multiprocessing.shared_memory. Failures are the OSError subclass Python
// raises, carrying the object's name.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "sys/fd.hpp"

namespace concur::sys {

// shm_open(name, flags, 0600), close-on-exec, retried on EINTR. `name`
// starts with '/'.
FileDescriptor shm_open(const std::string& name, int flags);
void shm_unlink(const std::string& name);
// ftruncate, retried on EINTR.
void truncate(int fd, off_t size, const std::string& name);
// The size of the object `fd` refers to (fstat).
std::size_t file_size(int fd, const std::string& name);
// Maps all `size` bytes of `fd` read-write and shared; munmap undoes it.
void* map_shared(int fd, std::size_t size, const std::string& name);
void unmap(void* data, std::size_t size) noexcept;
// 2 * nbytes lowercase hex digits from getrandom (Python's
// secrets.token_hex).
std::string random_hex(std::size_t nbytes);

}  // namespace concur::sys
