// concur/errors.hpp — the exception tree shared by every concur module.
//
// The names and the shape follow Python's built-in exceptions, so that a
// reader who knows which Python call raises what knows which C++ type to
// catch:
//
//   BaseException                     the root of everything concur throws
//    +-- Error                        Python's Exception; also a std::exception
//    |    +-- RuntimeError
//    |    |    +-- threading::BrokenBarrierError
//    |    |    +-- futures::WorkerDiedError
//    |    |    +-- futures::BrokenExecutor
//    |    |         +-- futures::BrokenThreadPool
//    |    |         +-- futures::BrokenProcessPool
//    |    +-- futures::RemoteError     a worker process's foreign exception
//    |    +-- ValueError
//    |    +-- TypeError
//    |    +-- EOFError
//    |    |    +-- asyncio::IncompleteReadError
//    |    +-- OSError                 errnum(), strerror(), filename()
//    |    |    +-- BlockingIOError          EAGAIN, EALREADY, EINPROGRESS
//    |    |    +-- ChildProcessError        ECHILD
//    |    |    +-- ConnectionError
//    |    |    |    +-- BrokenPipeError         EPIPE, ESHUTDOWN
//    |    |    |    +-- ConnectionAbortedError  ECONNABORTED
//    |    |    |    +-- ConnectionRefusedError  ECONNREFUSED
//    |    |    |    +-- ConnectionResetError    ECONNRESET
//    |    |    +-- FileExistsError          EEXIST
//    |    |    +-- FileNotFoundError        ENOENT
//    |    |    +-- InterruptedError         EINTR
//    |    |    +-- IsADirectoryError        EISDIR
//    |    |    +-- NotADirectoryError       ENOTDIR
//    |    |    +-- PermissionError          EACCES, EPERM
//    |    |    +-- ProcessLookupError       ESRCH
//    |    |    +-- TimeoutError             ETIMEDOUT
//    |    +-- StopIteration            a Generator's next() past its end
//    |    +-- queue::Empty, queue::Full, queue::ShutDown
//    |    +-- futures::CancelledError, futures::InvalidStateError
//    |    +-- ExceptionGroup           errors raised together (TaskGroup)
//    +-- BaseExceptionGroup           the same, with one not an Error
//    +-- SystemExit                   sys::exit(code)
//    +-- GeneratorExit                thrown into a Generator by close()
//    +-- asyncio::CancelledError      thrown into a cancelled task
//
// Errors are what a program handles; control flow is how concur unwinds a
// coroutine or a generator that is being cancelled or closed. Only Error
// derives from std::exception, so that `catch (const std::exception&)` and
// `catch (const concur::Error&)`, the C++ spellings of Python's `except
// Exception:`, never swallow a cancellation; `catch (const
// concur::BaseException&)` and `catch (...)` do, as a bare `except:` does.
//
// Every type answers type_name() with its Python name ("ValueError"), so a
// handler can print "ValueError: message" the way Python's tracebacks end;
// what() is the message alone, Python's str(e).
//
// Differences from Python: the class tree is fixed at compile time, so
// raising "an OSError" from an errno value goes through throw_os_error,
// which picks the subclass Python's OSError constructor would; errnum() is
// 0 where Python's errno is None.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace concur {

// The root of every exception concur throws (Python's BaseException).
class BaseException {
 public:
  explicit BaseException(std::string message) : message_(std::move(message)) {}
  BaseException(const BaseException&) = default;
  BaseException& operator=(const BaseException&) = default;
  virtual ~BaseException() = default;

  // The message (Python's str(e)).
  virtual const char* what() const noexcept { return message_.c_str(); }
  // The Python name of the most derived type.
  virtual const char* type_name() const noexcept { return "BaseException"; }

 private:
  std::string message_;
};

// In a class derived from one of concur's exceptions: its type_name().
#define CONCUR_ERROR_TYPE_NAME(Name) \
  const char* type_name() const noexcept override { return #Name; }

// The base of every error concur raises (Python's Exception), and a
// std::exception too.
class Error : public BaseException, public std::exception {
 public:
  using BaseException::BaseException;
  const char* what() const noexcept override { return BaseException::what(); }
  CONCUR_ERROR_TYPE_NAME(Error)
};

// An error type with no fields of its own: Name derives from Base, takes
// Base's constructors and answers type_name() with "Name". A type with
// fields is an ordinary class with CONCUR_ERROR_TYPE_NAME in its body.
#define CONCUR_DEFINE_ERROR(Name, Base) \
  class Name : public Base {            \
   public:                              \
    using Base::Base;                   \
    CONCUR_ERROR_TYPE_NAME(Name)        \
  }

// A call made in a state that does not allow it: starting a thread twice,
// releasing a lock that is not held, submitting to a shut-down pool.
CONCUR_DEFINE_ERROR(RuntimeError, Error);
// Raised by the deadlock detector in raise mode (concur/deadlock.hpp) in
// the one thread whose wait for a lock would have closed a cycle of
// threads waiting for each other. Python has no such error.
CONCUR_DEFINE_ERROR(DeadlockError, RuntimeError);
// An argument with a valid type but an invalid value: a negative or NaN
// timeout, a negative semaphore count, a barrier of zero parties.
CONCUR_DEFINE_ERROR(ValueError, Error);
// A value of the wrong type: a received message that holds another type
// than the one asked for.
CONCUR_DEFINE_ERROR(TypeError, Error);
// Input ended before a whole value was read: a truncated message, or a
// connection whose peer has gone with nothing left to read.
CONCUR_DEFINE_ERROR(EOFError, Error);

// A system call failed (Python's OSError). With an errno value, the message
// is Python's "[Errno 2] No such file or directory: 'name'"; without one
// (errnum() == 0), it is the message given.
class OSError : public Error {
 public:
  explicit OSError(std::string message) : Error(std::move(message)) {}
  explicit OSError(int errnum, std::string filename = {});
  CONCUR_ERROR_TYPE_NAME(OSError)

  // The errno value; 0 when there is none.
  int errnum() const noexcept { return errnum_; }
  // The system's text for errnum() (strerror), empty when there is none.
  const std::string& strerror() const noexcept { return strerror_; }
  // The file the call was about, empty when none.
  const std::string& filename() const noexcept { return filename_; }

 private:
  int errnum_ = 0;
  std::string strerror_;
  std::string filename_;
};

CONCUR_DEFINE_ERROR(BlockingIOError, OSError);
CONCUR_DEFINE_ERROR(ChildProcessError, OSError);
CONCUR_DEFINE_ERROR(ConnectionError, OSError);
CONCUR_DEFINE_ERROR(BrokenPipeError, ConnectionError);
CONCUR_DEFINE_ERROR(ConnectionAbortedError, ConnectionError);
CONCUR_DEFINE_ERROR(ConnectionRefusedError, ConnectionError);
CONCUR_DEFINE_ERROR(ConnectionResetError, ConnectionError);
CONCUR_DEFINE_ERROR(FileExistsError, OSError);
CONCUR_DEFINE_ERROR(FileNotFoundError, OSError);
CONCUR_DEFINE_ERROR(InterruptedError, OSError);
CONCUR_DEFINE_ERROR(IsADirectoryError, OSError);
CONCUR_DEFINE_ERROR(NotADirectoryError, OSError);
CONCUR_DEFINE_ERROR(PermissionError, OSError);
CONCUR_DEFINE_ERROR(ProcessLookupError, OSError);
// An operation that did not finish in time. As in Python, an OSError: the
// timeouts concur measures itself carry no errno; ETIMEDOUT maps here too.
CONCUR_DEFINE_ERROR(TimeoutError, OSError);

// A Generator's next() or send() after its last value, as Python's
// StopIteration from next(gen). A generator body that lets one escape gets
// RuntimeError instead ("generator raised StopIteration"), as since Python
// 3.7, so that it cannot end a loop that drives it by mistake.
CONCUR_DEFINE_ERROR(StopIteration, Error);

// Thrown into a suspended Generator, at its co_yield, by close() (and by
// the destructor of one still suspended), so that the body's cleanup runs.
// Not an Error: `catch (const concur::Error&)` in the body lets it pass.
class GeneratorExit : public BaseException {
 public:
  GeneratorExit() : BaseException("") {}
  CONCUR_ERROR_TYPE_NAME(GeneratorExit)
};

// Thrown by sys::exit(code) (<concur/sys.hpp>) to end a thread's target or
// a multiprocessing child's run() with an exit code, as Python's
// sys.exit(code) does: a Thread ends quietly, a Process ends with exitcode
// code(). Not an Error: `catch (const concur::Error&)` lets it pass.
class SystemExit : public BaseException {
 public:
  explicit SystemExit(int code)
      : BaseException("exit code " + std::to_string(code)), code_(code) {}
  CONCUR_ERROR_TYPE_NAME(SystemExit)
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Several exceptions raised together, each kept whole (Python's
// ExceptionGroup): a TaskGroup whose tasks failed. what() is "MESSAGE (N
// sub-exceptions)", as Python's str().
//
// Differences from Python: ExceptionGroup is an Error and
// BaseExceptionGroup a BaseException, two unrelated classes (a C++ class
// cannot be both without two BaseException bases); a group holds
// BaseExceptionGroup only when one of its exceptions is not an Error.
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(const std::string& message,
                 std::vector<std::exception_ptr> exceptions);
  CONCUR_ERROR_TYPE_NAME(ExceptionGroup)
  const std::vector<std::exception_ptr>& exceptions() const noexcept {
    return exceptions_;
  }

 private:
  std::vector<std::exception_ptr> exceptions_;
};
class BaseExceptionGroup : public BaseException {
 public:
  BaseExceptionGroup(const std::string& message,
                     std::vector<std::exception_ptr> exceptions);
  CONCUR_ERROR_TYPE_NAME(BaseExceptionGroup)
  const std::vector<std::exception_ptr>& exceptions() const noexcept {
    return exceptions_;
  }

 private:
  std::vector<std::exception_ptr> exceptions_;
};
// Throws ExceptionGroup(message, exceptions), or BaseExceptionGroup if one
// of them is a concur BaseException that is not an Error (CancelledError,
// SystemExit); foreign exceptions count as errors.
[[noreturn]] void throw_exception_group(
    const std::string& message, std::vector<std::exception_ptr> exceptions);

// Throws the OSError subclass that Python maps `errnum` to (OSError itself
// for the others), carrying `filename` if given.
[[noreturn]] void throw_os_error(int errnum, std::string filename = {});
// The same as an exception_ptr, for code that stores errors (futures).
std::exception_ptr make_os_error(int errnum, std::string filename = {});

}  // namespace concur
