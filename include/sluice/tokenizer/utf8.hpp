#pragma once
// UTF-8 validation for callers that must reject, not tokenize, malformed text (the CLI does).
#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice::tokenizer {

// The byte offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence), or nothing
// if the whole text is valid. Thread-safe; does not allocate.
std::optional<std::size_t> find_invalid_utf8(std::string_view text) noexcept;

}  // namespace sluice::tokenizer
