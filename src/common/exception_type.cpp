#include "common/exception_type.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

#include "concur/errors.hpp"

namespace concur::detail {

namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

}  // namespace

std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type != nullptr ? demangle(type->name())
                         : std::string("unknown exception");
}

std::string describe_current_exception() {
  std::string text = current_exception_type();
  try {
    throw;
  } catch (const std::exception& e) {
    text += std::string(": ") + e.what();
  } catch (const BaseException& e) {
    text += std::string(": ") + e.what();
  } catch (...) {  // neither: its type is all there is to say
  }
  return text;
}

}  // namespace concur::detail
