#pragma once
// The mergeable-rank table of one encoding: token bytes <-> rank (the rank is the token id).
//
// tiktoken keeps a HashMap<Vec<u8>, Rank>. Lookups of byte strings cut out of the input are the
// inner loop of both the whole-piece check and the byte-pair merge, so this is an open-addressing
// table tuned for them: tokens of up to 8 bytes (most lookups) are compared as one packed 64-bit
// key without touching the token bytes, longer ones by a 64-bit hash and then their bytes; a
// separate array of one-byte tags filters out most misses.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/tokenizer/encoding.hpp"

namespace sluice::tokenizer {

inline constexpr Rank kNoRank = 0xFFFFFFFFu;

class BacktrackingBpe;

class RankTable {
 public:
  RankTable(RankTable&&) noexcept;
  ~RankTable();

  // Parses the tiktoken text format: one `base64(token bytes) rank` line per token, ranks
  // contiguous from 0. `what` names the source in error messages.
  // Throws std::runtime_error on malformed input (startup only).
  static RankTable parse_tiktoken(std::string_view file, std::string_view what);

  // The rank of the byte string [p, p + len), or kNoRank. len may be 0 or larger than any token.
  // Thread-safe (read-only).
  Rank find(const std::uint8_t* p, std::size_t len) const noexcept {
    if (len <= 2) {
      if (len == 2) return pair_ranks_[(p[0] << 8) | p[1]];
      return len == 1 ? byte_ranks_[p[0]] : kNoRank;
    }
    if (len > max_token_len_) return kNoRank;
    const std::uint64_t key = len <= 8 ? short_key(p, len) : long_key(p, len);
    const std::uint64_t h = hash(key, len);
    const std::uint8_t tag = tag_of(h);
    for (std::size_t i = h >> shift_;; i = (i + 1) & mask_) {
      const std::uint8_t t = tags_[i];
      if (t == 0) return kNoRank;
      if (t != tag) continue;
      const Slot& slot = slots_[i];
      if (slot.len == len && slot.key == key &&
          (len <= 8 || std::memcmp(arena_.data() + offsets_[slot.rank], p, len) == 0)) {
        return slot.rank;
      }
    }
  }
  Rank find(std::string_view bytes) const noexcept {
    return find(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }

  // Needs: rank < size().
  std::string_view bytes(Rank rank) const noexcept {
    return {arena_.data() + offsets_[rank], offsets_[rank + 1] - offsets_[rank]};
  }
  // Needs: rank < size().
  std::size_t token_len(Rank rank) const noexcept { return offsets_[rank + 1] - offsets_[rank]; }
  std::size_t size() const noexcept { return offsets_.size() - 1; }
  std::size_t max_token_len() const noexcept { return max_token_len_; }

  // The linear-time encoder for pieces too long to merge by scanning. Built on the first call,
  // because most processes never meet such a piece and it takes tens of megabytes; thread-safe.
  const BacktrackingBpe& backtracking() const;

 private:
  RankTable();

  struct Slot {
    std::uint64_t key = 0;
    Rank rank = kNoRank;
    std::uint32_t len = 0;  // 0: empty slot
  };

  static std::uint64_t load32(const std::uint8_t* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static std::uint64_t mix(std::uint64_t v) noexcept {
    v ^= v >> 32;
    v *= 0xD6E8FEB86659FD93ull;
    v ^= v >> 32;
    return v;
  }
  // Injective for a given len in 1..8, and reads only [p, p + len): two overlapping 4-byte loads
  // cover 4..8 bytes, and three single bytes cover 1..3.
  static std::uint64_t short_key(const std::uint8_t* p, std::size_t len) noexcept {
    if (len >= 4) return load32(p) | (load32(p + len - 4) << 32);
    return p[0] | (std::uint64_t{p[len >> 1]} << 8) | (std::uint64_t{p[len - 1]} << 16);
  }
  static std::uint64_t long_key(const std::uint8_t* p, std::size_t len) noexcept {
    std::uint64_t h = len * 0x9E3779B97F4A7C15ull;
    std::size_t i = 0;
    for (; i + 8 < len; i += 8) h = mix(h ^ load64(p + i));
    return mix(h ^ load64(p + len - 8));
  }
  static std::uint64_t hash(std::uint64_t key, std::size_t len) noexcept {
    return (key + len) * 0x9E3779B97F4A7C15ull;
  }
  // The seven well-mixed hash bits just below those of the slot index, with the top bit set so
  // that 0 means empty.
  std::uint8_t tag_of(std::uint64_t h) const noexcept {
    return static_cast<std::uint8_t>(0x80 | ((h >> (shift_ - 7)) & 0x7F));
  }

  // Lookups of pairs that are not tokens are the most common ones in the merge. The tag bytes
  // (1/16 of the slots' size, so they stay in cache) answer nearly all of them without touching
  // the slots. One- and two-byte strings are looked up directly.
  std::vector<std::uint8_t> tags_;
  std::vector<Slot> slots_;
  std::vector<Rank> byte_ranks_;  // 256
  std::vector<Rank> pair_ranks_;  // 65536, by (first byte << 8 | second byte)
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t max_token_len_ = 0;
  std::string arena_;                   // all token bytes, in rank order
  std::vector<std::uint32_t> offsets_;  // token r is arena_[offsets_[r], offsets_[r + 1])
  struct LazyBacktracking;
  std::unique_ptr<LazyBacktracking> backtracking_;
};

}  // namespace sluice::tokenizer
