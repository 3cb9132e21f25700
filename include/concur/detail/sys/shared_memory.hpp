// Memory shared between processes: a mapping of a descriptor (a memfd for
// concur's own segments, a POSIX shared memory object for SharedMemory),
// unmapped and closed when the object dies. A memfd has no name in the file
// system: nothing is left in /dev/shm when its processes die, and a child
// inherits it through fork or receives the descriptor over a Unix socket.
//
// Thread safety: distinct objects, safe; one object is read-only after
// construction (data, size, fd) and may be shared.
#pragma once

#include <cstddef>
#include <utility>

namespace concur::sys {

class SharedMapping {
 public:
  SharedMapping() noexcept = default;
  SharedMapping(SharedMapping&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        fd_(std::exchange(other.fd_, -1)) {}
  SharedMapping& operator=(SharedMapping&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~SharedMapping() { reset(); }

  // `size` zeroed bytes in a new memfd (`name` shows in /proc/PID/maps
  // only). Throws OSError.
  static SharedMapping anonymous(std::size_t size, const char* name);
  // Maps all of descriptor `fd`, taking it over. Throws OSError.
  static SharedMapping map(int fd);

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  int fd() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return data_ != nullptr; }
  void reset() noexcept;

 private:
  SharedMapping(void* data, std::size_t size, int fd) noexcept
      : data_(data), size_(size), fd_(fd) {}

  void* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
};

}  // namespace concur::sys
