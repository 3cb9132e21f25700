#include "common/code_map.hpp"

#include <link.h>
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "concur/detail/code_address.hpp"
#include "concur/errors.hpp"

namespace concur::detail {

namespace {

struct Moved {
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t delta;  // added, modulo 2^64
};

// Null in every process but a forkserver child, which fills it before it
// has a second thread; read-only afterwards (and null again in a child it
// forks).
std::vector<Moved>* moved = nullptr;

}  // namespace

std::vector<LoadedObject> loaded_objects() {
  std::vector<LoadedObject> objects;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* context) {
        std::uint64_t low = UINT64_MAX;
        std::uint64_t high = 0;
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& h = info->dlpi_phdr[i];
          if (h.p_type != PT_LOAD) continue;
          low = std::min<std::uint64_t>(low, h.p_vaddr);
          high = std::max<std::uint64_t>(high, h.p_vaddr + h.p_memsz);
        }
        if (low < high) {
          static_cast<std::vector<LoadedObject>*>(context)->push_back(
              {info->dlpi_name != nullptr ? info->dlpi_name : "",
               info->dlpi_addr + low, info->dlpi_addr + high});
        }
        return 0;
      },
      &objects);
  return objects;
}

void adopt_sender_objects(const std::vector<LoadedObject>& sender) {
  const std::vector<LoadedObject> mine = loaded_objects();
  std::vector<bool> used(mine.size(), false);
  auto* table = new std::vector<Moved>;
  for (const LoadedObject& theirs : sender) {
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (used[i] || mine[i].name != theirs.name ||
          mine[i].end - mine[i].start != theirs.end - theirs.start) {
        continue;
      }
      used[i] = true;
      table->push_back(
          {theirs.start, theirs.end, mine[i].start - theirs.start});
      break;
    }
  }
  std::sort(table->begin(), table->end(),
            [](const Moved& a, const Moved& b) { return a.start < b.start; });
  moved = table;
  // A child this process forks has this process's addresses: what it is
  // sent needs no moving.
  pthread_atfork(nullptr, nullptr, [] { moved = nullptr; });
}

std::uintptr_t local_code_address(std::uintptr_t sent) {
  if (moved == nullptr) return sent;
  auto it = std::upper_bound(
      moved->begin(), moved->end(), sent,
      [](std::uint64_t a, const Moved& m) { return a < m.start; });
  if (it != moved->begin()) {
    --it;
    if (sent < it->end) return static_cast<std::uintptr_t>(sent + it->delta);
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "%#llx",
                static_cast<unsigned long long>(sent));
  throw ValueError(std::string("the function at ") + hex +
                   " of the parent process is in no object this process "
                   "loaded (forkserver children load only what the program "
                   "loads at startup)");
}

}  // namespace concur::detail
