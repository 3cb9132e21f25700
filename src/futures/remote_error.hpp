// How an exception crosses from a worker process to the caller's: what the
// worker sends, and the exception the caller rebuilds from it. concur's
// own errors come back as themselves; anything else as futures::RemoteError.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

namespace concur::futures_detail {

struct SentError {
  std::string type;  // a concur error's Python name, or the C++ type
  std::string message;
  bool concur = false;      // one of concur's own (type is its type_name())
  std::int32_t errnum = 0;  // an OSError's
  std::string filename;     // an OSError's
  std::int32_t code = 0;    // a SystemExit's
};

// Inside a catch block: the exception in flight, to send.
SentError describe_current_error();
// The exception to raise in the caller.
std::exception_ptr rebuild_error(const SentError& sent);

}  // namespace concur::futures_detail
