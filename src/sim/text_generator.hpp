#pragma once
// Completion text of an exact token length.
//
// Text is built from pieces that are each exactly one token for the deployment's encoding: words
// with their leading space (" river"), capitalised sentence starts, and punctuation. BPE works on
// pre-split chunks and each piece is its own chunk, so N pieces are N tokens; the simulator still
// counts the final text with the tokenizer for `usage`, and the unit tests check both agree.
// Streaming sends one piece per content chunk, which is how Azure streams (about a token a chunk).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/token_count.hpp"

namespace sluice::sim {

class TextGenerator {
 public:
  // Filters the built-in word list down to words that are single tokens for `counter` in every
  // position used. Throws std::runtime_error if too few remain (a broken tokenizer).
  explicit TextGenerator(std::shared_ptr<const TokenCount> counter);

  // Exactly `tokens` pieces. With `end_sentence`, the last piece is a full stop (a natural end).
  // Deterministic in `seed`. The views point into this generator (no allocation per piece) and
  // stay valid as long as it lives. Any thread.
  std::vector<std::string_view> generate(std::size_t tokens, std::uint64_t seed,
                                         bool end_sentence) const;

  static std::string join(const std::vector<std::string_view>& pieces);

  std::size_t vocabulary_size() const { return words_.size(); }

 private:
  struct Word {
    std::string spaced;          // " river"
    std::string capital;         // "River" (first word of the text)
    std::string spaced_capital;  // " River" (first word of a later sentence)
  };
  std::vector<Word> words_;
};

}  // namespace sluice::sim
