#pragma once
// "Did you mean ...?" suggestions for misspelt keys, names and enum values.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sluice::core {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters each cost 1. Byte-wise (a multi-byte UTF-8 character counts per byte).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo: at most one edit
// for words of up to 5 characters, two up to 11, three beyond. Ties go to the first candidate.
// An exact match is returned as is. Any thread.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates);

}  // namespace sluice::core
