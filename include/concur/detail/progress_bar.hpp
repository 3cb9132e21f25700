// ProgressBar: a tqdm-style line on stderr for every call that maps or
// collects results (futures map() and as_completed(), and the pools to come):
// "label  37/100 [=======>      ]  37%  1234.5 it/s  ETA 0:00:03".
//
// Made only when asked for and stderr is a terminal, so that logs and pipes
// never receive control characters. Redraws at most ten times a second.
// Thread safety: one thread updates a bar at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace concur::detail {

class ProgressBar {
 public:
  // Null unless `wanted` and stderr is a terminal.
  static std::unique_ptr<ProgressBar> make(bool wanted, std::size_t total,
                                           std::string label);
  ProgressBar(std::size_t total, std::string label);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // Draws the final state and ends the line.
  ~ProgressBar();

  void update(std::size_t done);
  // The line for `done` items after `elapsed`, without control characters.
  static std::string render(std::size_t done, std::size_t total,
                            std::chrono::duration<double> elapsed,
                            const std::string& label);

 private:
  void draw();

  const std::size_t total_;
  const std::string label_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::size_t done_ = 0;
};

}  // namespace concur::detail
