// The exception tree of <concur/errors.hpp>: Python's shape, its names, the
// errno-to-subclass table, OSError's message and fields, errors with fields
// of their own, and a control-flow root that `catch (std::exception&)` does
// not catch.

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

#include "concur/errors.hpp"
#include "concur/futures.hpp"
#include "concur/queue.hpp"
#include "concur/threading.hpp"

namespace {

using concur::BaseException;
using concur::Error;
using concur::OSError;

template <class Derived, class Base>
constexpr bool kIsA = std::is_base_of_v<Base, Derived>;

// The tree in the header's comment, edge by edge.
static_assert(kIsA<Error, BaseException> && kIsA<Error, std::exception>);
static_assert(!kIsA<BaseException, std::exception>);
static_assert(kIsA<concur::RuntimeError, Error>);
static_assert(kIsA<concur::ValueError, Error>);
static_assert(kIsA<concur::TypeError, Error>);
static_assert(kIsA<concur::EOFError, Error>);
static_assert(kIsA<OSError, Error>);
static_assert(kIsA<concur::BlockingIOError, OSError>);
static_assert(kIsA<concur::ChildProcessError, OSError>);
static_assert(kIsA<concur::ConnectionError, OSError>);
static_assert(kIsA<concur::BrokenPipeError, concur::ConnectionError>);
static_assert(kIsA<concur::ConnectionAbortedError, concur::ConnectionError>);
static_assert(kIsA<concur::ConnectionRefusedError, concur::ConnectionError>);
static_assert(kIsA<concur::ConnectionResetError, concur::ConnectionError>);
static_assert(kIsA<concur::FileExistsError, OSError>);
static_assert(kIsA<concur::FileNotFoundError, OSError>);
static_assert(kIsA<concur::InterruptedError, OSError>);
static_assert(kIsA<concur::IsADirectoryError, OSError>);
static_assert(kIsA<concur::NotADirectoryError, OSError>);
static_assert(kIsA<concur::PermissionError, OSError>);
static_assert(kIsA<concur::ProcessLookupError, OSError>);
static_assert(kIsA<concur::TimeoutError, OSError>);
static_assert(
    kIsA<concur::threading::BrokenBarrierError, concur::RuntimeError>);
static_assert(kIsA<concur::futures::BrokenExecutor, concur::RuntimeError>);
static_assert(
    kIsA<concur::futures::BrokenThreadPool, concur::futures::BrokenExecutor>);
static_assert(kIsA<concur::futures::CancelledError, Error>);
static_assert(kIsA<concur::futures::InvalidStateError, Error>);
static_assert(kIsA<concur::queue::Empty, Error>);
static_assert(kIsA<concur::queue::Full, Error>);
static_assert(kIsA<concur::queue::ShutDown, Error>);

TEST(Errors, TypeNamesArePythons) {
  EXPECT_STREQ(Error("x").type_name(), "Error");
  EXPECT_STREQ(concur::ValueError("x").type_name(), "ValueError");
  EXPECT_STREQ(concur::RuntimeError("x").type_name(), "RuntimeError");
  EXPECT_STREQ(concur::TypeError("x").type_name(), "TypeError");
  EXPECT_STREQ(concur::EOFError("x").type_name(), "EOFError");
  EXPECT_STREQ(OSError("x").type_name(), "OSError");
  EXPECT_STREQ(concur::TimeoutError("x").type_name(), "TimeoutError");
  EXPECT_STREQ(concur::BrokenPipeError(EPIPE).type_name(), "BrokenPipeError");
  EXPECT_STREQ(concur::queue::ShutDown("x").type_name(), "ShutDown");
}

TEST(Errors, WhatIsTheMessageThroughEveryBase) {
  const concur::ValueError error("bad value");
  const std::exception& as_std = error;
  const BaseException& as_base = error;
  EXPECT_STREQ(error.what(), "bad value");
  EXPECT_STREQ(as_std.what(), "bad value");
  EXPECT_STREQ(as_base.what(), "bad value");
}

TEST(OSError, MessageIsPythons) {
  const OSError error(ENOENT, "missing.txt");
  EXPECT_EQ(error.errnum(), ENOENT);
  EXPECT_EQ(error.strerror(), std::strerror(ENOENT));
  EXPECT_EQ(error.filename(), "missing.txt");
  EXPECT_EQ(std::string(error.what()),
            "[Errno 2] No such file or directory: 'missing.txt'");
  EXPECT_EQ(std::string(OSError(EACCES).what()),
            "[Errno 13] Permission denied");
}

TEST(OSError, WithoutAnErrnoCarriesTheMessageAlone) {
  const concur::TimeoutError error("the future did not finish in time");
  EXPECT_EQ(error.errnum(), 0);
  EXPECT_TRUE(error.strerror().empty());
  EXPECT_TRUE(error.filename().empty());
  EXPECT_STREQ(error.what(), "the future did not finish in time");
}

// Throws the subclass for `errnum` and reports its type name, or "" if it
// was not an OSError carrying errnum and the filename.
std::string RaisedFor(int errnum) {
  try {
    concur::throw_os_error(errnum, "f");
  } catch (const OSError& e) {
    if (e.errnum() != errnum || e.filename() != "f") return "";
    return e.type_name();
  }
  return "";
}

TEST(OSError, ErrnoPicksPythonsSubclass) {
  EXPECT_EQ(RaisedFor(EAGAIN), "BlockingIOError");
  EXPECT_EQ(RaisedFor(EALREADY), "BlockingIOError");
  EXPECT_EQ(RaisedFor(EINPROGRESS), "BlockingIOError");
  EXPECT_EQ(RaisedFor(ECHILD), "ChildProcessError");
  EXPECT_EQ(RaisedFor(EPIPE), "BrokenPipeError");
  EXPECT_EQ(RaisedFor(ESHUTDOWN), "BrokenPipeError");
  EXPECT_EQ(RaisedFor(ECONNABORTED), "ConnectionAbortedError");
  EXPECT_EQ(RaisedFor(ECONNREFUSED), "ConnectionRefusedError");
  EXPECT_EQ(RaisedFor(ECONNRESET), "ConnectionResetError");
  EXPECT_EQ(RaisedFor(EEXIST), "FileExistsError");
  EXPECT_EQ(RaisedFor(ENOENT), "FileNotFoundError");
  EXPECT_EQ(RaisedFor(EINTR), "InterruptedError");
  EXPECT_EQ(RaisedFor(EISDIR), "IsADirectoryError");
  EXPECT_EQ(RaisedFor(ENOTDIR), "NotADirectoryError");
  EXPECT_EQ(RaisedFor(EACCES), "PermissionError");
  EXPECT_EQ(RaisedFor(EPERM), "PermissionError");
  EXPECT_EQ(RaisedFor(ESRCH), "ProcessLookupError");
  EXPECT_EQ(RaisedFor(ETIMEDOUT), "TimeoutError");
  EXPECT_EQ(RaisedFor(EIO), "OSError");
  EXPECT_EQ(RaisedFor(ENOSPC), "OSError");
}

TEST(OSError, SubclassesAreCaughtAsTheirBases) {
  EXPECT_THROW(concur::throw_os_error(ECONNRESET), concur::ConnectionError);
  EXPECT_THROW(concur::throw_os_error(ECONNRESET), OSError);
  EXPECT_THROW(concur::throw_os_error(ETIMEDOUT), concur::TimeoutError);
  EXPECT_THROW(concur::throw_os_error(ENOENT), Error);
  EXPECT_THROW(concur::throw_os_error(ENOENT), std::exception);
}

TEST(OSError, MakeGivesTheSameAsAnExceptionPtr) {
  std::exception_ptr error = concur::make_os_error(ENOENT, "x");
  EXPECT_THROW(std::rethrow_exception(error), concur::FileNotFoundError);
}

// An error with fields of its own, defined as subprocess's
// CalledProcessError will be.
class CalledProcessError : public concur::RuntimeError {
 public:
  CalledProcessError(int returncode, std::string cmd)
      : RuntimeError("Command '" + cmd + "' returned non-zero exit status " +
                     std::to_string(returncode) + "."),
        returncode_(returncode),
        cmd_(std::move(cmd)) {}
  CONCUR_ERROR_TYPE_NAME(CalledProcessError)
  int returncode() const noexcept { return returncode_; }
  const std::string& cmd() const noexcept { return cmd_; }

 private:
  int returncode_;
  std::string cmd_;
};

TEST(Errors, AnErrorWithFieldsKeepsTheTreeAndItsName) {
  try {
    throw CalledProcessError(3, "false");
  } catch (const Error& e) {
    EXPECT_STREQ(e.type_name(), "CalledProcessError");
    EXPECT_STREQ(e.what(), "Command 'false' returned non-zero exit status 3.");
    const auto* called = dynamic_cast<const CalledProcessError*>(&e);
    ASSERT_NE(called, nullptr);
    EXPECT_EQ(called->returncode(), 3);
    EXPECT_EQ(called->cmd(), "false");
  }
}

// A control-flow exception, as asyncio's CancelledError and a generator's
// GeneratorExit will be: under BaseException, outside Error.
class Cancelled : public BaseException {
 public:
  using BaseException::BaseException;
  CONCUR_ERROR_TYPE_NAME(Cancelled)
};

TEST(Errors, ControlFlowPassesThroughErrorHandlers) {
  bool swallowed = false;
  bool reached_root = false;
  try {
    try {
      try {
        throw Cancelled("cancelled");
      } catch (const Error&) {
        swallowed = true;
      }
    } catch (const std::exception&) {
      swallowed = true;
    }
  } catch (const BaseException& e) {
    reached_root = true;
    EXPECT_STREQ(e.type_name(), "Cancelled");
  }
  EXPECT_FALSE(swallowed);
  EXPECT_TRUE(reached_root);
}

}  // namespace
