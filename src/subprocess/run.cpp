// The functions over Popen (run, call, check_call, check_output,
// getstatusoutput, getoutput), subprocess's errors, and universal
// newlines.
#include <signal.h>
#include <string.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "concur/subprocess.hpp"
#include "subprocess/text.hpp"

namespace concur::subprocess_detail {

std::string translated(std::string bytes, bool text) {
  if (!text || bytes.find('\r') == std::string::npos) return bytes;
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '\r') {
      out += bytes[i];
      continue;
    }
    out += '\n';
    if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
  }
  return out;
}

namespace {

// Python's repr of the command: the list, or the shell's command line.
std::string describe(const std::vector<std::string>& cmd) {
  std::string text = "[";
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    if (i != 0) text += ", ";
    text += "'" + cmd[i] + "'";
  }
  return text + "]";
}

std::string seconds_text(double seconds) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%g", seconds);
  return buffer;
}

}  // namespace

}  // namespace concur::subprocess_detail

namespace concur::subprocess {

namespace sd = concur::subprocess_detail;

CalledProcessError::CalledProcessError(int returncode,
                                       std::vector<std::string> cmd,
                                       std::string output,
                                       std::string error_output)
    : SubprocessError([&] {
        std::string text = "Command '" + sd::describe(cmd) + "' ";
        if (returncode < 0) {
          const char* name = sigabbrev_np(-returncode);
          return text + "died with <Signals.SIG" + (name ? name : "?") + ": " +
                 std::to_string(-returncode) + ">.";
        }
        return text + "returned non-zero exit status " +
               std::to_string(returncode) + ".";
      }()),
      returncode_(returncode),
      cmd_(std::move(cmd)),
      output_(std::move(output)),
      error_output_(std::move(error_output)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> cmd, double seconds,
                               std::string output, std::string error_output)
    : SubprocessError("Command '" + sd::describe(cmd) + "' timed out after " +
                      sd::seconds_text(seconds) + " seconds"),
      cmd_(std::move(cmd)),
      seconds_(seconds),
      output_(std::move(output)),
      error_output_(std::move(error_output)) {}

void CompletedProcess::check_returncode() const {
  if (returncode != 0) {
    throw CalledProcessError(returncode, args, stdout, stderr);
  }
}

CompletedProcess run(Args args, Options options) {
  if (options.capture_output) {
    if (options.stdout.kind() != Redirect::Kind::kInherit ||
        options.stderr.kind() != Redirect::Kind::kInherit) {
      throw ValueError(
          "stdout and stderr arguments may not be used with capture_output.");
    }
    options.stdout = PIPE;
    options.stderr = PIPE;
  }
  const auto timeout = options.timeout;
  const bool check = options.check;
  Popen p(std::move(args), std::move(options));
  std::pair<std::string, std::string> output;
  try {
    output = p.communicate(std::nullopt, timeout);
  } catch (const TimeoutExpired& e) {
    // Python's run: kill, then collect the output (all of it: a second
    // communicate returns what the first had read too) and reap.
    p.kill();
    auto all = p.communicate();
    throw TimeoutExpired(e.cmd(), e.timeout(), std::move(all.first),
                         std::move(all.second));
  } catch (...) {
    p.kill();
    static_cast<void>(p.wait());
    throw;
  }
  CompletedProcess done{p.args(), *p.returncode(), std::move(output.first),
                        std::move(output.second)};
  if (check) done.check_returncode();
  return done;
}

int call(Args args, Options options) {
  const auto timeout = options.timeout;
  Popen p(std::move(args), std::move(options));
  try {
    return timeout ? p.wait(*timeout) : p.wait();
  } catch (...) {
    p.kill();
    static_cast<void>(p.wait());
    throw;
  }
}

int check_call(Args args, Options options) {
  const std::vector<std::string> cmd = args.get();
  const int code = call(std::move(args), std::move(options));
  if (code != 0) throw CalledProcessError(code, cmd);
  return 0;
}

std::string check_output(Args args, Options options) {
  if (options.stdout.kind() != Redirect::Kind::kInherit) {
    throw ValueError("stdout argument not allowed, it will be overridden.");
  }
  options.stdout = PIPE;
  options.check = true;
  return run(std::move(args), std::move(options)).stdout;
}

std::pair<int, std::string> getstatusoutput(std::string_view cmd) {
  CompletedProcess done = run(
      cmd,
      Options{.stdout = PIPE, .stderr = STDOUT, .shell = true, .text = true});
  std::string out = std::move(done.stdout);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return {done.returncode, std::move(out)};
}

std::string getoutput(std::string_view cmd) {
  return getstatusoutput(cmd).second;
}

}  // namespace concur::subprocess
