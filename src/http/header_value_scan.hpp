#pragma once
// Where a header value, or a request line's target, ends. Sixteen bytes a step with SSE2 (every
// x86-64 has it): bearer tokens are ~1-2.5 KB of plain characters and an Azure OpenAI target
// ~80, which Beast's loops looked at one byte at a time (~7-9 instructions a byte). Used by
// Beast's header parser (src/http/beast_basic_parser.ipp).
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::http {

// The first byte of [p, end) below `kLowestText` (a control character, and SP when kLowestText is
// 0x21) that is not a HTAB allowed by `kTabIsText`, or DEL (0x7f); `end` when there is none.
// Bytes 0x80-0xff are text.
template <unsigned char kLowestText, bool kTabIsText>
inline const char* find_text_end(const char* p, const char* end) noexcept {
  static_assert(kLowestText <= 0x21);
  const auto ends_text = [](unsigned char c) {
    return (c < kLowestText && !(kTabIsText && c == 0x09)) || c == 0x7f;
  };
#if defined(__SSE2__)
  const __m128i lowest = _mm_set1_epi8(static_cast<char>(kLowestText));
  const __m128i tab = _mm_set1_epi8(0x09);
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Bytes >= 0x80 compare as negative in the signed compare: mask them out of "below".
    const __m128i high = _mm_cmplt_epi8(bytes, _mm_setzero_si128());
    __m128i control = _mm_andnot_si128(high, _mm_cmplt_epi8(bytes, lowest));
    if constexpr (kTabIsText) control = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), control);
    const __m128i hits = _mm_or_si128(control, _mm_cmpeq_epi8(bytes, del));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(mask);
  }
#endif
  for (; p < end; ++p) {
    if (ends_text(static_cast<unsigned char>(*p))) return p;
  }
  return p;
}

// A header value ends at a control character other than HTAB (0x00-0x1f but 0x09) or DEL;
// obs-text (0x80-0xff) is part of it.
inline const char* find_header_value_end(const char* p, const char* end) noexcept {
  return find_text_end<0x20, true>(p, end);
}

// A request target ends where Beast's is_pathchar() says no: a control character, SP or DEL.
inline const char* find_request_target_end(const char* p, const char* end) noexcept {
  return find_text_end<0x21, false>(p, end);
}

// True; defined with Beast's parser in src/http/beast_basic_parser.ipp, which uses the scan above.
bool beast_parser_scans_values_fast() noexcept;

}  // namespace sluice::http
