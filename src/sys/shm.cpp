#include "sys/shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "concur/errors.hpp"

namespace concur::sys {

FileDescriptor shm_open(const std::string& name, int flags) {
  for (;;) {
    // glibc's shm_open adds O_CLOEXEC itself; it is named for clarity.
    const int fd = ::shm_open(name.c_str(), flags | O_CLOEXEC, 0600);
    if (fd >= 0) return FileDescriptor(fd);
    if (errno != EINTR) throw_os_error(errno, name);
  }
}

void shm_unlink(const std::string& name) {
  if (::shm_unlink(name.c_str()) != 0) throw_os_error(errno, name);
}

void truncate(int fd, off_t size, const std::string& name) {
  while (::ftruncate(fd, size) != 0) {
    if (errno != EINTR) throw_os_error(errno, name);
  }
}

std::size_t file_size(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_os_error(errno, name);
  return static_cast<std::size_t>(st.st_size);
}

void* map_shared(int fd, std::size_t size, const std::string& name) {
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) throw_os_error(errno, name);
  return data;
}

void unmap(void* data, std::size_t size) noexcept { ::munmap(data, size); }

std::string random_hex(std::size_t nbytes) {
  std::vector<unsigned char> bytes(nbytes);
  std::size_t got = 0;
  while (got < nbytes) {
    const ssize_t n = ::getrandom(bytes.data() + got, nbytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os_error(errno);
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * nbytes);
  for (unsigned char b : bytes) {
    text += kDigits[b >> 4];
    text += kDigits[b & 0xf];
  }
  return text;
}

}  // namespace concur::sys
