// concur/errors.hpp — the exception hierarchy shared by every concur module.
//
// Every error concur raises derives from concur::Error, which derives from
// std::exception, so `catch (const concur::Error&)` catches exactly what this
// library throws. The names follow Python's built-in exceptions so that a
// reader who knows which Python call raises what knows which C++ type to
// catch. Module-specific errors (queue::Empty, threading::BrokenBarrierError,
// ...) live in their module's header and derive from one of these.
//
// Differences from Python: Python's TimeoutError is an OSError; here it
// derives from concur::Error directly, since concur raises it only for
// timeouts it measures itself.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace concur {

// The base of every exception concur throws. what() is the message alone;
// type_name() is the Python-style class name ("ValueError"), so a handler
// can print "ValueError: message" the way Python's tracebacks end.
class Error : public std::exception {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  virtual const char* type_name() const noexcept { return "Error"; }

 private:
  std::string message_;
};

#define CONCUR_DEFINE_ERROR(Name, Base)                               \
  class Name : public Base {                                          \
   public:                                                            \
    using Base::Base;                                                 \
    const char* type_name() const noexcept override { return #Name; } \
  }

// A call made in a state that does not allow it: starting a thread twice,
// releasing a lock that is not held, submitting to a shut-down pool.
CONCUR_DEFINE_ERROR(RuntimeError, Error);
// An argument with a valid type but an invalid value: a negative timeout,
// a negative semaphore count, a barrier of zero parties.
CONCUR_DEFINE_ERROR(ValueError, Error);
// An operation that did not finish within the timeout it was given.
CONCUR_DEFINE_ERROR(TimeoutError, Error);

}  // namespace concur
