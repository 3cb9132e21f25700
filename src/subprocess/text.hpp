// Python's universal newlines for what subprocess reads back in text mode.
#pragma once

#include <string>

namespace concur::subprocess_detail {

// `bytes` with "\r\n" and "\r" turned into "\n" when `text`; as is
// otherwise.
std::string translated(std::string bytes, bool text);

}  // namespace concur::subprocess_detail
