// The encodings sluice ships, built on first use from the embedded rank files.
#include <array>
#include <string>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/embedded_rank_files.hpp"
#include "tokenizer/rank_table.hpp"

namespace sluice::tokenizer {

// Function-local statics: C++ guarantees one thread builds each table while others wait, and after
// that reads need no lock.
class EncodingRegistry {
 public:
  static const RankTable& cl100k_ranks() {
    static const RankTable table =
        RankTable::parse_tiktoken(embedded::cl100k_base_tiktoken(), "cl100k_base.tiktoken");
    return table;
  }
  static const RankTable& o200k_ranks() {
    static const RankTable table =
        RankTable::parse_tiktoken(embedded::o200k_base_tiktoken(), "o200k_base.tiktoken");
    return table;
  }

  static const Encoding& cl100k() {
    static const Encoding encoding("cl100k_base", Pattern::kCl100k, cl100k_ranks(),
                                   {{"<|endoftext|>", 100257},
                                    {"<|fim_prefix|>", 100258},
                                    {"<|fim_middle|>", 100259},
                                    {"<|fim_suffix|>", 100260},
                                    {"<|endofprompt|>", 100276}});
    return encoding;
  }
  static const Encoding& o200k() {
    static const Encoding encoding("o200k_base", Pattern::kO200k, o200k_ranks(),
                                   {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}});
    return encoding;
  }
  // tiktoken_ext/openai_public.py o200k_harmony(): o200k_base's specials, the named harmony
  // tokens, and <|reserved_i|> for every i in [200013, 201088). 200018 has two names.
  static const Encoding& harmony() {
    static const Encoding encoding = [] {
      std::vector<std::pair<std::string, Rank>> specials = {
          {"<|endoftext|>", 199999},
          {"<|endofprompt|>", 200018},
          {"<|startoftext|>", 199998},
          {"<|reserved_200000|>", 200000},
          {"<|reserved_200001|>", 200001},
          {"<|return|>", 200002},
          {"<|constrain|>", 200003},
          {"<|reserved_200004|>", 200004},
          {"<|channel|>", 200005},
          {"<|start|>", 200006},
          {"<|end|>", 200007},
          {"<|message|>", 200008},
          {"<|reserved_200009|>", 200009},
          {"<|reserved_200010|>", 200010},
          {"<|reserved_200011|>", 200011},
          {"<|call|>", 200012},
      };
      for (Rank i = 200013; i < 201088; ++i) {
        specials.emplace_back("<|reserved_" + std::to_string(i) + "|>", i);
      }
      return Encoding("o200k_harmony", Pattern::kO200k, o200k_ranks(), std::move(specials));
    }();
    return encoding;
  }
};

namespace {
constexpr std::array<std::string_view, 3> kEncodingNames = {"cl100k_base", "o200k_base",
                                                            "o200k_harmony"};
}  // namespace

std::span<const std::string_view> encoding_names() noexcept {
  return kEncodingNames;
}

const Encoding& cl100k_base() {
  return EncodingRegistry::cl100k();
}
const Encoding& o200k_base() {
  return EncodingRegistry::o200k();
}
const Encoding& o200k_harmony() {
  return EncodingRegistry::harmony();
}

core::Result<const Encoding*> get_encoding(std::string_view name) {
  if (name == "cl100k_base") return &cl100k_base();
  if (name == "o200k_base") return &o200k_base();
  if (name == "o200k_harmony") return &o200k_harmony();
  std::string valid;
  for (const auto n : kEncodingNames) valid += (valid.empty() ? "" : ", ") + std::string(n);
  return core::Error{core::ErrorCode::kNotFound,
                     "unknown encoding '" + std::string(name) + "'; valid encodings: " + valid};
}

}  // namespace sluice::tokenizer
