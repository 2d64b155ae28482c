#pragma once
// Where a header value ends: the first byte of [p, end) that is a control character other than
// HTAB (0x00-0x1f except 0x09) or DEL (0x7f), or `end`. Bytes 0x80-0xff (obs-text) are part of a
// value. Sixteen bytes a step with SSE2 (every x86-64 has it): bearer tokens are ~1-2.5 KB of
// plain characters, which Beast's loop looked at one at a time. Used by Beast's header parser
// (src/http/beast_basic_parser.ipp).
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::http {

inline const char* find_header_value_end(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i tab = _mm_set1_epi8(0x09);
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Bytes >= 0x80 compare as negative in the signed compare: mask them out of "below 0x20".
    const __m128i high = _mm_cmplt_epi8(bytes, _mm_setzero_si128());
    const __m128i below_space = _mm_andnot_si128(high, _mm_cmplt_epi8(bytes, space));
    const __m128i control = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), below_space);
    const __m128i hits = _mm_or_si128(control, _mm_cmpeq_epi8(bytes, del));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(mask);
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return p;
  }
  return p;
}

// True; defined with Beast's parser in src/http/beast_basic_parser.ipp, which uses the scan above.
bool beast_parser_scans_values_fast() noexcept;

}  // namespace sluice::http
