#pragma once
// The vendored rank files (data/*.tiktoken), embedded into the binary at build time so that it
// works from any directory. The build checks their sha256 against data/SHA256SUMS first.
#include <string_view>

namespace sluice::tokenizer::embedded {

std::string_view cl100k_base_tiktoken() noexcept;
std::string_view o200k_base_tiktoken() noexcept;

}  // namespace sluice::tokenizer::embedded
