#pragma once
// The first of a few byte values in a text, sixteen bytes a step: `std::string_view::find_first_of`
// calls `memchr` over the set for every byte of the text (~15 instructions a byte), which showed
// in profiles of the SSE relay (line ends in every chunk) and of the load generator's JTL lines.
#include <cstddef>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::core {

// Where the first byte of `text` from `from` on that is one of `set` (one to four bytes) is, or
// std::string_view::npos: the same answer as text.find_first_of(set, from).
inline std::size_t find_any_byte(std::string_view text, std::string_view set,
                                 std::size_t from = 0) noexcept {
  if (set.empty() || set.size() > 4) return text.find_first_of(set, from);
  const char* p = text.data() + (from < text.size() ? from : text.size());
  const char* const end = text.data() + text.size();
  // Unused slots repeat the first byte, so every comparison below has something to compare.
  const char a = set[0];
  const char b = set.size() > 1 ? set[1] : a;
  const char c = set.size() > 2 ? set[2] : a;
  const char d = set.size() > 3 ? set[3] : a;
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  const __m128i vd = _mm_set1_epi8(d);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, va), _mm_cmpeq_epi8(bytes, vb)),
                     _mm_or_si128(_mm_cmpeq_epi8(bytes, vc), _mm_cmpeq_epi8(bytes, vd)));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) {
      return static_cast<std::size_t>(p - text.data()) + __builtin_ctz(mask);
    }
  }
#endif
  for (; p != end; ++p) {
    if (*p == a || *p == b || *p == c || *p == d) return static_cast<std::size_t>(p - text.data());
  }
  return std::string_view::npos;
}

}  // namespace sluice::core
