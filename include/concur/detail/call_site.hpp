// concur/detail/call_site.hpp — where a call was made, for the deadlock
// detector's reports: std::source_location's file and line, which clang 14
// cannot give through libstdc++'s <source_location> (it lacks the builtin
// that header needs), while both compilers have __builtin_FILE/LINE.
#pragma once

#include <cstdint>

namespace concur::detail {

// As a defaulted parameter, `CallSite where = CallSite::current()` names the
// caller's line, as std::source_location::current() does.
class CallSite {
 public:
  constexpr CallSite() noexcept = default;
  static constexpr CallSite current(
      const char* file = __builtin_FILE(),
      std::uint_least32_t line = __builtin_LINE()) noexcept {
    return CallSite(file, line);
  }
  constexpr const char* file_name() const noexcept { return file_; }
  // 0 for a default-made site: unknown.
  constexpr std::uint_least32_t line() const noexcept { return line_; }

 private:
  constexpr CallSite(const char* file, std::uint_least32_t line) noexcept
      : file_(file), line_(line) {}

  const char* file_ = "";
  std::uint_least32_t line_ = 0;
};

}  // namespace concur::detail
