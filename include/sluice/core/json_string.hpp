#pragma once
// JSON string literals written straight into an output buffer, for hand-built JSON on hot paths
// (log lines, SSE chunks) where building a boost::json::value per call would allocate.
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::core {

// Where the first byte of [p, end) that JSON must escape is ('"', '\\' or a control character),
// or `end`. Sixteen bytes a step with SSE2 (every x86-64 has it): generated text is mostly long
// runs of plain characters, which a byte at a time cost ~4 instructions each.
inline const char* find_json_escape(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below_space = _mm_set1_epi8(0x20);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Bytes >= 0x80 compare as negative in the signed compare: mask them out of "below 0x20".
    const __m128i high = _mm_cmplt_epi8(bytes, _mm_setzero_si128());
    const __m128i control = _mm_andnot_si128(high, _mm_cmplt_epi8(bytes, below_space));
    const __m128i hits = _mm_or_si128(
        control, _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(mask);
  }
#endif
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\') return p;
  }
  return end;
}

// append_json_string appends `text` to `out` as a JSON string literal, quotes included;
// append_json_escaped appends the same without the quotes (for text spliced into a literal): '"'
// and '\' are escaped, \n \r \t by name, other control characters as \u00XX. Bytes >= 0x80 pass
// through, so valid UTF-8 stays valid JSON. `Buffer` is std::string, fmt::memory_buffer or anything
// with push_back(char) and append(const char*, const char*). Any thread.
template <class Buffer>
void append_json_escaped(Buffer& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* run = text.data();  // start of the pending run of characters needing no escape
  const char* end = text.data() + text.size();
  for (const char* p = find_json_escape(run, end); p != end; p = find_json_escape(p + 1, end)) {
    auto c = static_cast<unsigned char>(*p);
    out.append(run, p);
    run = p + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default: {
        const char escaped[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out.append(escaped, escaped + sizeof escaped);
      }
    }
  }
  out.append(run, end);
}

template <class Buffer>
void append_json_string(Buffer& out, std::string_view text) {
  out.push_back('"');
  append_json_escaped(out, text);
  out.push_back('"');
}

}  // namespace sluice::core
