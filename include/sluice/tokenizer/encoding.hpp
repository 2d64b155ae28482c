#pragma once
// Exact, tiktoken-compatible byte-pair encodings: cl100k_base, o200k_base and o200k_harmony.
//
// The same text gives the same token ids as OpenAI's tiktoken (checked against npm tiktoken
// 1.0.22, its Rust core compiled to WASM). The rank tables are embedded in the binary and parsed
// once per process on first use; after that every call is read-only, lock-free and safe from any
// number of threads at once.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.hpp"

namespace sluice::tokenizer {

using Rank = std::uint32_t;  // a token id; ordinary tokens are ranked by merge priority

class RankTable;

// The pre-tokenizer regex an encoding splits text with before merging.
enum class Pattern { kCl100k, kO200k };

// A set of special tokens named by their text ("<|endoftext|>"), as tiktoken's
// allowed_special / disallowed_special arguments: nothing, everything, or a list.
class SpecialTokenSet {
 public:
  static SpecialTokenSet none() { return SpecialTokenSet(false, {}); }
  static SpecialTokenSet all() { return SpecialTokenSet(true, {}); }
  static SpecialTokenSet of(std::vector<std::string> tokens) {
    return SpecialTokenSet(false, std::move(tokens));
  }

  bool is_all() const noexcept { return all_; }
  bool contains(std::string_view token) const noexcept;

 private:
  SpecialTokenSet(bool all, std::vector<std::string> tokens)
      : all_(all), tokens_(std::move(tokens)) {}
  bool all_;
  std::vector<std::string> tokens_;
};

struct SpecialToken {
  std::string_view text;
  Rank id;
};

// One encoding. Obtain it from get_encoding() or encoding_for_model(); it lives until the process
// exits. All member functions are const and thread-safe. None throws except std::bad_alloc.
//
// Text is UTF-8. Bytes that are not well-formed UTF-8 are not an error here: each such byte is
// split like a punctuation character and encoded as its byte token, so decode(encode(x)) == x for
// any bytes. (tiktoken only accepts valid strings; callers that must reject invalid input check it
// first with find_invalid_utf8().)
class Encoding {
 public:
  Encoding(const Encoding&) = delete;
  Encoding& operator=(const Encoding&) = delete;
  ~Encoding();

  std::string_view name() const noexcept { return name_; }
  Pattern pattern() const noexcept { return pattern_; }
  // One past the largest token id, ordinary or special.
  Rank n_vocab() const noexcept { return n_vocab_; }
  std::span<const SpecialToken> special_tokens() const noexcept { return specials_; }
  std::optional<Rank> special_token_id(std::string_view text) const noexcept;

  // tiktoken encode_ordinary: special-token text is encoded as plain text.
  std::vector<Rank> encode_ordinary(std::string_view text) const;
  // Same, appending to `out` (reuse one vector to avoid an allocation per call).
  void encode_ordinary(std::string_view text, std::vector<Rank>& out) const;
  // encode_ordinary(text).size(), without building the vector. Allocates nothing, except
  // per-thread scratch space: the cache of merged pieces (512 KiB) on a thread's first call, and
  // the long-piece encoder's buffers the first time a piece longer than 256 bytes needs merging
  // (whose tables, tens of megabytes per encoding, are built once per process then).
  // Cost is linear in the length of the text, whatever the text.
  std::size_t count(std::string_view text) const;

  // tiktoken encode(text, allowed_special, disallowed_special). Special tokens in `allowed` are
  // emitted as their ids. If the text contains a special token in `disallowed` (by default: any
  // special token not allowed), the result is an invalid_argument error naming the token and its
  // byte offset, as tiktoken raises ValueError.
  core::Result<std::vector<Rank>> encode(
      std::string_view text, const SpecialTokenSet& allowed = SpecialTokenSet::none(),
      const SpecialTokenSet& disallowed = SpecialTokenSet::all()) const;
  // encode(...)->size() without building the vector.
  core::Result<std::size_t> count(std::string_view text, const SpecialTokenSet& allowed,
                                  const SpecialTokenSet& disallowed = SpecialTokenSet::all()) const;

  // The bytes of the tokens, concatenated; they need not be valid UTF-8 (a token can hold part of
  // a character). An id that is neither an ordinary nor a special token is an invalid_argument
  // error naming it.
  core::Result<std::string> decode(std::span<const Rank> ids) const;
  // The bytes of one token, or nothing for an unknown id.
  std::optional<std::string_view> token_bytes(Rank id) const noexcept;

  // The ordinary-token table (an internal type; for sluice's benchmarks and tests).
  const RankTable& rank_table() const noexcept { return ranks_; }

 private:
  friend class EncodingRegistry;
  struct SpecialMatch {
    std::size_t pos;
    std::size_t len;
    Rank id;
  };

  Encoding(std::string name, Pattern pattern, const RankTable& ranks,
           std::vector<std::pair<std::string, Rank>> specials);

  // The first special token at or after `from` for which accept(text) holds.
  template <class Accept>
  std::optional<SpecialMatch> find_special(std::string_view text, std::size_t from,
                                           Accept&& accept) const;
  template <class Sink>
  core::Result<void> encode_with_specials(std::string_view text, const SpecialTokenSet& allowed,
                                          const SpecialTokenSet& disallowed, Sink&& sink) const;

  std::string name_;
  Pattern pattern_;
  const RankTable& ranks_;
  std::string special_text_;            // all special token texts, back to back
  std::vector<SpecialToken> specials_;  // by id; views into special_text_
  std::vector<SpecialToken> by_text_;   // sorted by text, for lookup
  std::size_t max_special_len_ = 0;
  Rank n_vocab_ = 0;
};

// Names get_encoding() accepts: "cl100k_base", "o200k_base", "o200k_harmony".
std::span<const std::string_view> encoding_names() noexcept;

// The encoding called `name`, loaded on first use (thread-safe, once per process). An unknown name
// is a not_found error listing the valid names. Throws std::runtime_error only if the embedded rank
// tables are corrupt, which the build rules out by checking their sha256.
core::Result<const Encoding*> get_encoding(std::string_view name);

// The same for a name known to be valid; loads on first use.
const Encoding& cl100k_base();
const Encoding& o200k_base();
const Encoding& o200k_harmony();

}  // namespace sluice::tokenizer
