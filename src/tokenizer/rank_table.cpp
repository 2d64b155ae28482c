#include "tokenizer/rank_table.hpp"

#include <bit>
#include <mutex>
#include <stdexcept>

#include "tokenizer/backtracking_bpe.hpp"
#include "tokenizer/base64.hpp"

namespace sluice::tokenizer {
namespace {

[[noreturn]] void fail(std::string_view what, std::size_t line, std::string_view why) {
  throw std::runtime_error(std::string(what) + ":" + std::to_string(line) + ": " +
                           std::string(why));
}

}  // namespace

struct RankTable::LazyBacktracking {
  std::once_flag once;
  std::unique_ptr<BacktrackingBpe> bpe;
};

RankTable::RankTable() : backtracking_(std::make_unique<LazyBacktracking>()) {}
RankTable::RankTable(RankTable&&) noexcept = default;
RankTable::~RankTable() = default;

const BacktrackingBpe& RankTable::backtracking() const {
  std::call_once(backtracking_->once,
                 [this] { backtracking_->bpe = std::make_unique<BacktrackingBpe>(*this); });
  return *backtracking_->bpe;
}

RankTable RankTable::parse_tiktoken(std::string_view file, std::string_view what) {
  RankTable table;
  table.offsets_.push_back(0);
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < file.size()) {
    ++line_no;
    std::size_t eol = file.find('\n', pos);
    if (eol == std::string_view::npos) eol = file.size();
    const std::string_view line = file.substr(pos, eol - pos);
    pos = eol + 1;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) fail(what, line_no, "expected `base64 rank`");
    Rank rank = 0;
    const std::string_view digits = line.substr(space + 1);
    if (digits.empty() || digits.size() > 9) fail(what, line_no, "bad rank");
    for (const char c : digits) {
      if (c < '0' || c > '9') fail(what, line_no, "bad rank");
      rank = rank * 10 + static_cast<Rank>(c - '0');
    }
    if (rank != table.size()) fail(what, line_no, "ranks must be contiguous from 0");
    if (space == 0 || !decode_base64(line.substr(0, space), table.arena_))
      fail(what, line_no, "bad base64");
    const std::size_t len = table.arena_.size() - table.offsets_.back();
    if (len == 0) fail(what, line_no, "empty token");
    if (len > table.max_token_len_) table.max_token_len_ = len;
    table.offsets_.push_back(static_cast<std::uint32_t>(table.arena_.size()));
  }
  if (table.size() < 256) fail(what, line_no, "fewer than 256 tokens");

  // Load factor at most 1/2 keeps probe sequences short for the misses, which are the most
  // common lookups inside the byte-pair merge.
  const std::size_t capacity = std::bit_ceil(table.size() * 2);
  table.tags_.assign(capacity, 0);
  table.slots_.assign(capacity, Slot{});
  table.mask_ = capacity - 1;
  table.shift_ = 64 - std::countr_zero(capacity);
  table.byte_ranks_.assign(256, kNoRank);
  table.pair_ranks_.assign(65536, kNoRank);
  for (Rank r = 0; r < table.size(); ++r) {
    const std::string_view b = table.bytes(r);
    const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
    if (table.find(p, b.size()) != kNoRank) fail(what, r + 1, "duplicate token");
    if (b.size() == 1) {
      table.byte_ranks_[p[0]] = r;
    } else if (b.size() == 2) {
      table.pair_ranks_[(p[0] << 8) | p[1]] = r;
    } else {
      const std::uint64_t key = b.size() <= 8 ? short_key(p, b.size()) : long_key(p, b.size());
      const std::uint64_t h = hash(key, b.size());
      std::size_t i = h >> table.shift_;
      while (table.tags_[i] != 0) i = (i + 1) & table.mask_;
      table.tags_[i] = table.tag_of(h);
      table.slots_[i] = Slot{key, r, static_cast<std::uint32_t>(b.size())};
    }
  }
  for (int b = 0; b < 256; ++b) {
    if (table.byte_ranks_[b] == kNoRank) fail(what, 0, "a single byte has no token");
  }
  return table;
}

}  // namespace sluice::tokenizer
