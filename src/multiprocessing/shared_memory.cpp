// multiprocessing.shared_memory.SharedMemory over POSIX shared memory
// objects, after CPython's Lib/multiprocessing/shared_memory.py.
#include <fcntl.h>

#include <limits>
#include <string>
#include <utility>

#include "concur/multiprocessing.hpp"
#include "sys/fd.hpp"
#include "sys/shm.hpp"

namespace concur::multiprocessing::shared_memory {

namespace {

constexpr const char* kPrefix = "psm_";
// Random bytes in a default name: 128 bits, which nobody guesses.
constexpr std::size_t kNameBytes = 16;

// Undoes a creation that failed half-way; the first error is the one
// reported.
void unlink_quietly(const std::string& path) noexcept {
  try {
    sys::shm_unlink(path);
  } catch (const OSError&) {
  }
}

std::string with_slash(const std::string& name) {
  return !name.empty() && name.front() == '/' ? name : "/" + name;
}

}  // namespace

SharedMemory::SharedMemory(SharedMemoryOptions options) {
  if (options.size < 0) throw ValueError("'size' must be a positive integer");
  if (options.create && options.size == 0) {
    throw ValueError("'size' must be a positive number different from zero");
  }
  if (!options.name && !options.create) {
    throw ValueError("'name' can only be None if create=True");
  }
  if (static_cast<std::uint64_t>(options.size) >
      static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    throw ValueError("'size' is too large");
  }
  std::string path;
  sys::FileDescriptor fd;
  if (options.create) {
    const int flags = O_CREAT | O_EXCL | O_RDWR;
    if (options.name) {
      path = with_slash(*options.name);
      fd = sys::shm_open(path, flags);
    } else {
      // A random name that is taken already is tried again, as Python does.
      for (;;) {
        path = std::string("/") + kPrefix + sys::random_hex(kNameBytes);
        try {
          fd = sys::shm_open(path, flags);
          break;
        } catch (const FileExistsError&) {
        }
      }
    }
    try {
      sys::truncate(fd.get(), static_cast<off_t>(options.size), path);
    } catch (...) {
      unlink_quietly(path);
      throw;
    }
  } else {
    path = with_slash(*options.name);
    fd = sys::shm_open(path, O_RDWR);
  }
  size_ = sys::file_size(fd.get(), path);
  try {
    if (size_ == 0) throw ValueError("cannot mmap an empty file");
    data_ = sys::map_shared(fd.get(), size_, path);
  } catch (...) {
    if (options.create) unlink_quietly(path);
    throw;
  }
  // The mapping keeps the memory; the descriptor is not needed after it.
  name_ = path.substr(1);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(other.size_) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    close();
    name_ = std::move(other.name_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = other.size_;
  }
  return *this;
}

SharedMemory::~SharedMemory() { close(); }

std::span<std::byte> SharedMemory::buf() const {
  if (data_ == nullptr) {
    throw ValueError("SharedMemory '" + name_ +
                     "' is closed: its buffer is gone");
  }
  return {static_cast<std::byte*>(data_), size_};
}

void SharedMemory::close() noexcept {
  if (data_ != nullptr) sys::unmap(data_, size_);
  data_ = nullptr;
}

void SharedMemory::unlink() { sys::shm_unlink("/" + name_); }

}  // namespace concur::multiprocessing::shared_memory
