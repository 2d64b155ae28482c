#include "tokenizer/base64.hpp"

#include <array>
#include <cstdint>

namespace sluice::tokenizer {
namespace {

constexpr std::array<std::int8_t, 256> make_values() {
  std::array<std::int8_t, 256> values{};
  for (auto& v : values) v = -1;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return values;
}
constexpr auto kValues = make_values();

}  // namespace

bool decode_base64(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  // Sized once and written through a pointer: a rank file is ~200,000 of these, and a push_back
  // per byte was a quarter of loading one (the first request that counts tokens waits for it).
  const std::size_t start = out.size();
  out.resize(start + in.size() / 4 * 3);
  char* write = out.data() + start;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = kValues[static_cast<unsigned char>(c)]) < 0) {
        out.resize(start);
        return false;
      }
    }
    const std::uint32_t bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    *write++ = static_cast<char>(bits >> 16);
    if (pad < 2) *write++ = static_cast<char>((bits >> 8) & 0xFF);
    if (pad < 1) *write++ = static_cast<char>(bits & 0xFF);
  }
  out.resize(static_cast<std::size_t>(write - out.data()));
  return true;
}

}  // namespace sluice::tokenizer
