#pragma once
// Model name -> encoding, exactly as tiktoken's model.py (v0.14): exact names first, then name
// prefixes in tiktoken's order. Names are case-sensitive, as in tiktoken. Azure's model names
// ("gpt-35-turbo", "gpt-35-turbo-16k") are in the table; Azure deployment names are chosen by the
// user and must be mapped to a model by configuration.
#include <optional>
#include <string_view>

#include "sluice/core/result.hpp"
#include "sluice/tokenizer/encoding.hpp"

namespace sluice::tokenizer {

// The tiktoken encoding name for a model ("o200k_base", but also "p50k_base", "r50k_base",
// "gpt2" for legacy models, which sluice does not implement), or nothing for an unknown model.
// Thread-safe; does not allocate.
std::optional<std::string_view> encoding_name_for_model(std::string_view model) noexcept;

// The encoding for a model. Unknown model: not_found error that names the model and lists the
// known names and prefixes. A known model whose encoding sluice lacks (p50k_base, r50k_base, gpt2):
// unimplemented error. Loads the encoding on first use (see get_encoding()).
core::Result<const Encoding*> encoding_for_model(std::string_view model);

// Same, but an unknown model gets `fallback` (a configured default) instead of an error. Legacy
// models whose encoding sluice lacks still get `fallback`, since counts are then estimates anyway.
const Encoding& encoding_for_model_or(std::string_view model, const Encoding& fallback);

}  // namespace sluice::tokenizer
