// The descriptors this process has open (from /proc/self/fd, the listing's
// own left out), for tests that check nothing leaks.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace concur::testing {

inline std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') fds.push_back(std::atoi(entry->d_name));
  }
  ::closedir(dir);
  fds.erase(std::remove(fds.begin(), fds.end(), own), fds.end());
  std::sort(fds.begin(), fds.end());
  return fds;
}

}  // namespace concur::testing
