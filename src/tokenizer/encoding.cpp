#include "sluice/tokenizer/encoding.hpp"

#include <algorithm>
#include <string>

#include "tokenizer/byte_pair_merge.hpp"
#include "tokenizer/merge_cache.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/rank_table.hpp"

namespace sluice::tokenizer {
namespace {

using pretokenizer::Ptr;

// Merges a short piece that is not a token, through the thread's cache of merged pieces.
template <class Sink>
void merge_short_piece(const RankTable& ranks, Ptr piece, std::size_t len, MergeCache& cache,
                       Sink& sink) {
  MergeCache::Entry* slot = nullptr;
  if (const MergeCache::Entry* hit = cache.find(ranks, piece, len, slot)) {
    sink.tokens(hit->tokens, hit->count);
    return;
  }
  Rank tokens[MergeCache::kMaxPieceLen];
  std::size_t n = 0;
  scan_merge(ranks, piece, len, [&](Rank r) { tokens[n++] = r; });
  cache.store(slot, ranks, len, tokens, n);
  sink.tokens(tokens, n);
}

// Encodes one segment of ordinary text. tiktoken looks the whole piece up first and only merges
// when it is not a token itself; that order matters for exactness, not just speed.
template <Pattern kPattern, class Sink>
void encode_segment(const RankTable& ranks, std::string_view text, Sink& sink) {
  const auto* begin = reinterpret_cast<Ptr>(text.data());
  MergeCache& cache = MergeCache::for_this_thread();
  pretokenizer::for_each_piece<kPattern>(begin, begin + text.size(), [&](Ptr b, Ptr e) {
    const auto len = static_cast<std::size_t>(e - b);
    const Rank whole = ranks.find(b, len);
    if (whole != kNoRank) {
      sink.token(whole);
    } else if (len <= MergeCache::kMaxPieceLen) {
      merge_short_piece(ranks, b, len, cache, sink);
    } else if (len <= kScanMergeMaxLen) {
      scan_merge(ranks, b, len, [&](Rank r) { sink.token(r); });
    } else {
      sink.long_piece(ranks, b, len);
    }
  });
}

template <class Sink>
void encode_segment(Pattern pattern, const RankTable& ranks, std::string_view text, Sink& sink) {
  if (pattern == Pattern::kCl100k) {
    encode_segment<Pattern::kCl100k>(ranks, text, sink);
  } else {
    encode_segment<Pattern::kO200k>(ranks, text, sink);
  }
}

struct VectorSink {
  std::vector<Rank>& out;
  void token(Rank r) { out.push_back(r); }
  void tokens(const Rank* r, std::size_t n) { out.insert(out.end(), r, r + n); }
  void long_piece(const RankTable& ranks, Ptr p, std::size_t len) {
    detail::long_merge(ranks, p, len, out);
  }
};

struct CountSink {
  std::size_t n = 0;
  void token(Rank) { ++n; }
  void tokens(const Rank*, std::size_t count) { n += count; }
  void long_piece(const RankTable& ranks, Ptr p, std::size_t len) {
    n += detail::long_merge_count(ranks, p, len);
  }
};

}  // namespace

bool SpecialTokenSet::contains(std::string_view token) const noexcept {
  return all_ || std::find(tokens_.begin(), tokens_.end(), token) != tokens_.end();
}

Encoding::Encoding(std::string name, Pattern pattern, const RankTable& ranks,
                   std::vector<std::pair<std::string, Rank>> specials)
    : name_(std::move(name)), pattern_(pattern), ranks_(ranks) {
  std::size_t total = 0;
  for (const auto& [text, id] : specials) total += text.size();
  special_text_.reserve(total);  // the views below must not move
  n_vocab_ = static_cast<Rank>(ranks.size());
  for (const auto& [text, id] : specials) {
    const std::string_view view(special_text_.data() + special_text_.size(), text.size());
    special_text_ += text;
    by_text_.push_back({view, id});
    max_special_len_ = std::max(max_special_len_, text.size());
    n_vocab_ = std::max(n_vocab_, id + 1);
  }
  specials_ = by_text_;
  // Stable, so that when two texts share an id (o200k_harmony's 200018) decode prefers the one
  // listed first.
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const SpecialToken& a, const SpecialToken& b) { return a.id < b.id; });
  std::sort(by_text_.begin(), by_text_.end(),
            [](const SpecialToken& a, const SpecialToken& b) { return a.text < b.text; });
}

Encoding::~Encoding() = default;

std::optional<Rank> Encoding::special_token_id(std::string_view text) const noexcept {
  const auto it =
      std::lower_bound(by_text_.begin(), by_text_.end(), text,
                       [](const SpecialToken& a, std::string_view t) { return a.text < t; });
  if (it == by_text_.end() || it->text != text) return std::nullopt;
  return it->id;
}

std::vector<Rank> Encoding::encode_ordinary(std::string_view text) const {
  std::vector<Rank> out;
  // About one token per four bytes of English; a guess that saves most regrowth.
  out.reserve(text.size() / 4 + 4);
  encode_ordinary(text, out);
  return out;
}

void Encoding::encode_ordinary(std::string_view text, std::vector<Rank>& out) const {
  VectorSink sink{out};
  encode_segment(pattern_, ranks_, text, sink);
}

std::size_t Encoding::count(std::string_view text) const {
  CountSink sink;
  encode_segment(pattern_, ranks_, text, sink);
  return sink.n;
}

// Every special token is "<|" name "|>" with no "|>" inside, so a special token starting at `pos`
// can only end at the first "|>" after it: one bounded search and one lookup per "<|".
template <class Accept>
std::optional<Encoding::SpecialMatch> Encoding::find_special(std::string_view text,
                                                             std::size_t from,
                                                             Accept&& accept) const {
  if (by_text_.empty()) return std::nullopt;
  for (std::size_t pos = text.find("<|", from); pos != std::string_view::npos;
       pos = text.find("<|", pos + 1)) {
    const std::string_view window = text.substr(pos + 2, max_special_len_ - 2);
    const std::size_t close = window.find("|>");
    if (close == std::string_view::npos) continue;
    const std::string_view candidate = text.substr(pos, close + 4);
    if (const auto id = special_token_id(candidate); id && accept(candidate)) {
      return SpecialMatch{pos, candidate.size(), *id};
    }
  }
  return std::nullopt;
}

template <class Sink>
core::Result<void> Encoding::encode_with_specials(std::string_view text,
                                                  const SpecialTokenSet& allowed,
                                                  const SpecialTokenSet& disallowed,
                                                  Sink&& sink) const {
  // As tiktoken: "all" disallowed means every special token that is not allowed.
  const auto is_disallowed = [&](std::string_view t) {
    return disallowed.is_all() ? !allowed.contains(t) : disallowed.contains(t);
  };
  if (const auto bad = find_special(text, 0, is_disallowed)) {
    return core::Error{core::ErrorCode::kInvalidArgument,
                       "text contains the special token " +
                           std::string(text.substr(bad->pos, bad->len)) + " at byte " +
                           std::to_string(bad->pos) +
                           ", which is not allowed; allow it or encode it as ordinary text"};
  }
  // Like tiktoken, each stretch between allowed special tokens is pre-tokenized on its own, so
  // "end of text" in the pattern is the end of the stretch.
  const auto is_allowed = [&](std::string_view t) { return allowed.contains(t); };
  std::size_t start = 0;
  for (;;) {
    const auto next = find_special(text, start, is_allowed);
    const std::size_t end = next ? next->pos : text.size();
    encode_segment(pattern_, ranks_, text.substr(start, end - start), sink);
    if (!next) break;
    sink.token(next->id);
    start = next->pos + next->len;
  }
  return {};
}

core::Result<std::vector<Rank>> Encoding::encode(std::string_view text,
                                                 const SpecialTokenSet& allowed,
                                                 const SpecialTokenSet& disallowed) const {
  std::vector<Rank> out;
  out.reserve(text.size() / 4 + 4);
  VectorSink sink{out};
  if (auto r = encode_with_specials(text, allowed, disallowed, sink); !r) {
    return std::move(r).error();
  }
  return out;
}

core::Result<std::size_t> Encoding::count(std::string_view text, const SpecialTokenSet& allowed,
                                          const SpecialTokenSet& disallowed) const {
  CountSink sink;
  if (auto r = encode_with_specials(text, allowed, disallowed, sink); !r) {
    return std::move(r).error();
  }
  return sink.n;
}

std::optional<std::string_view> Encoding::token_bytes(Rank id) const noexcept {
  if (id < ranks_.size()) return ranks_.bytes(id);
  const auto it = std::lower_bound(specials_.begin(), specials_.end(), id,
                                   [](const SpecialToken& a, Rank value) { return a.id < value; });
  if (it == specials_.end() || it->id != id) return std::nullopt;
  return it->text;
}

core::Result<std::string> Encoding::decode(std::span<const Rank> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto bytes = token_bytes(ids[i]);
    if (!bytes) {
      return core::Error{core::ErrorCode::kInvalidArgument,
                         "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                             " is not in " + name_ + " (n_vocab " + std::to_string(n_vocab_) + ")"};
    }
    out += *bytes;
  }
  return out;
}

}  // namespace sluice::tokenizer
