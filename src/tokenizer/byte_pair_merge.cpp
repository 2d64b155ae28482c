#include "tokenizer/byte_pair_merge.hpp"

#include "tokenizer/backtracking_bpe.hpp"

namespace sluice::tokenizer::detail {

void long_merge(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                std::vector<Rank>& out) {
  ranks.backtracking().encode(piece, len, out);
}

std::size_t long_merge_count(const RankTable& ranks, const std::uint8_t* piece, std::size_t len) {
  return ranks.backtracking().count(piece, len);
}

}  // namespace sluice::tokenizer::detail
