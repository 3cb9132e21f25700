// How concur names an exception it reports (an escaped thread target, a
// failed child process): the C++ type, demangled, as Python's reports name
// the exception's class.
#pragma once

#include <string>

namespace concur::detail {

// Inside a catch block: the demangled type of the exception in flight
// ("concur::ValueError", "std::runtime_error").
std::string current_exception_type();

// Inside a catch block: "TYPE: what()" for a std::exception, "TYPE"
// otherwise, as the last line of a Python traceback reads.
std::string describe_current_exception();

}  // namespace concur::detail
