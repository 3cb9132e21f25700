// concur/detail/mp_shared_memory.hpp — Python's
// multiprocessing.shared_memory.SharedMemory: a named block of memory that
// any process may attach to by name. Part of <concur/multiprocessing.hpp>,
// which includes it: include that.
//
// A POSIX shared memory object (shm_open; /dev/shm/NAME on Linux), created
// for the owner only (mode 0600) with O_CREAT | O_EXCL, so creating over an
// existing name fails instead of sharing it by surprise. The default name
// is "psm_" and 32 random hex digits from getrandom (Python's is
// secrets.token_hex with 8 digits, limited by macOS's name length; here the
// name is unguessable).
//
// As in Python, the memory outlives the object: close() unmaps it from this
// process (the destructor closes too), and unlink() removes the name, after
// which the memory goes once every process has closed it. A segment that
// nobody unlinks stays in /dev/shm until the machine restarts: the creator
// should unlink it when done.
//
// Thread safety: distinct objects, safe; one object may be read from many
// threads (buf, name, size), but close() must not race with other calls.
// The bytes of buf() are shared memory: order access to them with a
// multiprocessing Lock or atomics, as between threads.
//
// Differences from Python: there is no resource tracker (Python's warns of
// and unlinks segments leaked at exit): unlink what you create. buf() after
// close() throws ValueError (Python's buf is None then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace concur::multiprocessing::shared_memory {

// SharedMemory's arguments by name: SharedMemory({.create = true, .size =
// 4096}).
struct SharedMemoryOptions {
  std::optional<std::string> name{};  // empty: a new random name (create)
  bool create = false;
  std::int64_t size = 0;  // used when creating; an attach maps it all
};

class SharedMemory {
 public:
  // Python's SharedMemory(name=None, create=False, size=0). Creating: a new
  // segment of `size` bytes (zeroed) under `name`, or under a new random
  // name if empty; FileExistsError if the name is taken. Attaching: maps the
  // whole existing segment `name` (its size is the segment's);
  // FileNotFoundError if there is none. ValueError for a negative size
  // ("'size' must be a positive integer"), for creating with size 0
  // ("'size' must be a positive number different from zero"), for no name
  // without create ("'name' can only be None if create=True"), and for
  // attaching to an empty segment ("cannot mmap an empty file"). Names may
  // be given with or without the leading '/'.
  explicit SharedMemory(SharedMemoryOptions options);
  explicit SharedMemory(std::optional<std::string> name, bool create = false,
                        std::int64_t size = 0)
      : SharedMemory(SharedMemoryOptions{std::move(name), create, size}) {}
  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  // Closes (does not unlink), as Python's __del__.
  ~SharedMemory();

  // The memory. ValueError once closed.
  std::span<std::byte> buf() const;
  // The name without the leading '/', as Python reports it.
  const std::string& name() const noexcept { return name_; }
  // The size of the mapping in bytes.
  std::size_t size() const noexcept { return size_; }
  // Unmaps the memory from this process; harmless when closed already.
  void close() noexcept;
  // Removes the name (shm_unlink); the memory stays for the processes that
  // map it. FileNotFoundError if it was removed already. Works after
  // close(), as in Python.
  void unlink();

 private:
  std::string name_;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace concur::multiprocessing::shared_memory
