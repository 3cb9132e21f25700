# Compiles SOURCE with clang's thread-safety analysis as errors. EXPECT is
# "pass" (it must compile) or "fail" (it must be rejected, by that analysis
# and not by anything else).
execute_process(
  COMMAND ${CLANGXX} -std=c++20 -fsyntax-only -Wthread-safety
          -Werror=thread-safety -I${INCLUDE} ${SOURCE}
  RESULT_VARIABLE result
  ERROR_VARIABLE errors)
if(EXPECT STREQUAL "pass" AND NOT result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} should compile:\n${errors}")
endif()
if(EXPECT STREQUAL "fail")
  if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled; the analysis should reject it")
  endif()
  if(NOT errors MATCHES "requires holding mutex 'mu' exclusively")
    message(FATAL_ERROR "${SOURCE} failed for another reason:\n${errors}")
  endif()
  message(STATUS "rejected as expected:\n${errors}")
endif()
