#include "concur/detail/progress_bar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace concur::detail {

std::unique_ptr<ProgressBar> ProgressBar::make(bool wanted, std::size_t total,
                                               std::string label) {
  if (!wanted || isatty(STDERR_FILENO) == 0) return nullptr;
  return std::make_unique<ProgressBar>(total, std::move(label));
}

ProgressBar::ProgressBar(std::size_t total, std::string label)
    : total_(total),
      label_(std::move(label)),
      start_(std::chrono::steady_clock::now()) {
  draw();
}

ProgressBar::~ProgressBar() {
  draw();
  std::fputc('\n', stderr);
}

void ProgressBar::update(std::size_t done) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  draw();
}

void ProgressBar::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  std::string line = render(done_, total_, last_draw_ - start_, label_);
  // \r and clear-to-end-of-line: redraw in place.
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
}

std::string ProgressBar::render(std::size_t done, std::size_t total,
                                std::chrono::duration<double> elapsed,
                                const std::string& label) {
  constexpr int kWidth = 24;
  double fraction =
      total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  double seconds = elapsed.count();
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  char eta[32] = "?";
  if (rate > 0) {
    auto left = static_cast<long>(
        static_cast<double>(total - std::min(done, total)) / rate);
    std::snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", left / 3600,
                  left / 60 % 60, left % 60);
  }
  char text[256];
  std::snprintf(text, sizeof text, "%s %zu/%zu [%s] %3d%% %.1f it/s ETA %s",
                label.c_str(), done, total, bar.c_str(),
                static_cast<int>(fraction * 100), rate, eta);
  return text;
}

}  // namespace concur::detail
