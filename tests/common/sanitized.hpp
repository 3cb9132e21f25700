// Whether this test binary is built with ThreadSanitizer or
// AddressSanitizer: stress tests scale their rounds down under them, since
// every memory access costs several times more there.
#pragma once

namespace concur_test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace concur_test
