#include "concur/errors.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace concur {

namespace {

// strerror_r in its GNU form (which may return a static string instead of
// filling the buffer): strerror itself is not thread-safe.
std::string error_text(int errnum) {
  char buffer[128];
  return strerror_r(errnum, buffer, sizeof buffer);
}

template <class E>
std::exception_ptr make(int errnum, std::string filename) {
  return std::make_exception_ptr(E(errnum, std::move(filename)));
}

}  // namespace

OSError::OSError(int errnum, std::string filename)
    : Error([&] {
        std::string text =
            "[Errno " + std::to_string(errnum) + "] " + error_text(errnum);
        if (!filename.empty()) text += ": '" + filename + "'";
        return text;
      }()),
      errnum_(errnum),
      strerror_(error_text(errnum)),
      filename_(std::move(filename)) {}

// Python's errno-to-subclass table (PEP 3151).
std::exception_ptr make_os_error(int errnum, std::string filename) {
  switch (errnum) {
    case EAGAIN:
    case EALREADY:
    case EINPROGRESS:
      return make<BlockingIOError>(errnum, std::move(filename));
    case ECHILD:
      return make<ChildProcessError>(errnum, std::move(filename));
    case EPIPE:
    case ESHUTDOWN:
      return make<BrokenPipeError>(errnum, std::move(filename));
    case ECONNABORTED:
      return make<ConnectionAbortedError>(errnum, std::move(filename));
    case ECONNREFUSED:
      return make<ConnectionRefusedError>(errnum, std::move(filename));
    case ECONNRESET:
      return make<ConnectionResetError>(errnum, std::move(filename));
    case EEXIST:
      return make<FileExistsError>(errnum, std::move(filename));
    case ENOENT:
      return make<FileNotFoundError>(errnum, std::move(filename));
    case EINTR:
      return make<InterruptedError>(errnum, std::move(filename));
    case EISDIR:
      return make<IsADirectoryError>(errnum, std::move(filename));
    case ENOTDIR:
      return make<NotADirectoryError>(errnum, std::move(filename));
    case EACCES:
    case EPERM:
      return make<PermissionError>(errnum, std::move(filename));
    case ESRCH:
      return make<ProcessLookupError>(errnum, std::move(filename));
    case ETIMEDOUT:
      return make<TimeoutError>(errnum, std::move(filename));
    default:
      return make<OSError>(errnum, std::move(filename));
  }
}

void throw_os_error(int errnum, std::string filename) {
  std::rethrow_exception(make_os_error(errnum, std::move(filename)));
}

}  // namespace concur

namespace concur {

namespace {

std::string group_text(const std::string& message, std::size_t n) {
  return message + " (" + std::to_string(n) +
         (n == 1 ? " sub-exception)" : " sub-exceptions)");
}

}  // namespace

ExceptionGroup::ExceptionGroup(const std::string& message,
                               std::vector<std::exception_ptr> exceptions)
    : Error(group_text(message, exceptions.size())),
      exceptions_(std::move(exceptions)) {}

BaseExceptionGroup::BaseExceptionGroup(
    const std::string& message, std::vector<std::exception_ptr> exceptions)
    : BaseException(group_text(message, exceptions.size())),
      exceptions_(std::move(exceptions)) {}

void throw_exception_group(const std::string& message,
                           std::vector<std::exception_ptr> exceptions) {
  for (const auto& e : exceptions) {
    try {
      std::rethrow_exception(e);
    } catch (const Error&) {
      continue;
    } catch (const BaseException&) {
      throw BaseExceptionGroup(message, std::move(exceptions));
    } catch (...) {
      continue;  // a foreign exception: an error, as far as Python knows
    }
  }
  throw ExceptionGroup(message, std::move(exceptions));
}

}  // namespace concur
