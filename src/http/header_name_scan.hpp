#pragma once
// Past the plain part of a header field's name: the first byte of [p, end) that is not a letter,
// a digit or '-', looked for sixteen bytes a step with SSE2 (every x86-64 has it). Nearly every
// name is only those (`Content-Type`, `x-ms-region`), and Beast's loop looked at each byte in
// turn, with a table look-up and two compares (~6 instructions a byte, ~18 names a proxied
// request). Every byte skipped is a token character, so Beast's own loop, which goes on from
// the byte returned, accepts and refuses exactly what it did. Fewer than sixteen bytes left: `p`
// itself, and Beast's loop does the rest. Used by Beast's header parser
// (src/http/beast_basic_parser.ipp).
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::http {

inline const char* skip_plain_header_name(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i case_bit = _mm_set1_epi8(0x20);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Letters of either case are 'a'-'z' with the case bit set. Signed compares: bytes of 0x80
    // and up are negative, so they are in neither range.
    const __m128i folded = _mm_or_si128(bytes, case_bit);
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(bytes, _mm_set1_epi8('9' + 1)));
    const __m128i hyphen = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('-'));
    const int plain = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), hyphen));
    if (plain != 0xffff) return p + __builtin_ctz(~plain);
  }
#endif
  return p;
}

}  // namespace sluice::http
