#pragma once
// JSON string literals written straight into an output buffer, for hand-built JSON on hot paths
// (log lines, SSE chunks) where building a boost::json::value per call would allocate.
#include <string_view>

namespace sluice::core {

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
  for (const char* p = run; p != end; ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
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
