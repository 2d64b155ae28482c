#pragma once
// Variants of JSON documents for checking a reader against simdjson's: every truncation, every
// byte deleted, and every byte replaced by each character that changes a JSON document's meaning
// (structure, string and escape bytes, digits, signs, exponents, literal letters, control bytes,
// DEL and the first bytes of UTF-8 sequences).
#include <cstddef>
#include <string>
#include <vector>

namespace sluice::gateway::testing {

struct MutationCount {
  std::size_t cases = 0;
  std::size_t decided = 0;  // those `check` returned true for
};

// Calls `check(variant)` for every variant of every seed; `check` returns whether it decided.
template <class Check>
MutationCount for_each_mutation(const std::vector<std::string>& seeds, Check&& check) {
  const std::string replacements = std::string("\"\\{}[],: \t\n01-9.eEtfnlu/bx") + '\0' + '\x01' +
                                   '\x1f' + '\x7f' + '\x80' + '\xc3';
  MutationCount count;
  auto one = [&](const std::string& variant) {
    ++count.cases;
    count.decided += check(variant) ? 1 : 0;
  };
  for (const auto& seed : seeds) {
    for (std::size_t n = 0; n <= seed.size(); ++n) one(seed.substr(0, n));
    for (std::size_t i = 0; i < seed.size(); ++i) {
      auto deleted = seed;
      deleted.erase(i, 1);
      one(deleted);
      for (char c : replacements) {
        if (seed[i] == c) continue;
        auto changed = seed;
        changed[i] = c;
        one(changed);
      }
    }
  }
  return count;
}

}  // namespace sluice::gateway::testing
