// Fuzz target for the tokenizer: any bytes must encode without crashing, decode back to the same
// bytes (valid UTF-8 or not: invalid bytes are encoded as byte tokens), count the same as encode,
// and chat counting must reject or count any input without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/encoding.hpp"

using namespace sluice::tokenizer;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

// Builds each encoding's lazy tables (the backtracking merge table behind long pieces) before the
// first input: under ASan that takes seconds, and charged to one input it reads as a timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string long_piece(4096, 'q');
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) (void)enc->count(long_piece);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    const auto ids = enc->encode_ordinary(text);
    check(enc->count(text) == ids.size());
    const auto back = enc->decode(ids);
    check(back && *back == text);

    const auto with_specials = enc->encode(text, SpecialTokenSet::all());
    check(with_specials.has_value());
    const auto back_special = enc->decode(*with_specials);
    check(back_special && *back_special == text);

    // Disallowed specials may make this an error, but never a crash.
    const auto strict = enc->encode(text);
    check(!strict || *strict == ids);
  }
  (void)count_chat_prompt_tokens(text, {.encoding = &o200k_base()});
  return 0;
}
