#pragma once
// Deterministic embeddings: similar texts get similar vectors, with no model.
//
// Features are the text's lower-cased words and their character trigrams; each feature is hashed
// to a few signed positions (the "hashing trick") and the sum is L2-normalised. Texts sharing most
// words and spellings share most features, so their cosine similarity is high; unrelated texts
// land near zero. The same text always gives the same vector for the same seed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sim {

// A unit vector of `dimensions` (> 0) floats. Any thread.
std::vector<float> embed_text(std::string_view text, int dimensions, std::uint64_t seed);

double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b);

// Little-endian float32 bytes in base64, as the API's encoding_format=base64 returns them.
std::string embedding_base64(const std::vector<float>& v);

}  // namespace sluice::sim
