#include "sluice/tokenizer/model_map.hpp"

#include <array>
#include <string>
#include <utility>

namespace sluice::tokenizer {
namespace {

using Entry = std::pair<std::string_view, std::string_view>;

// tiktoken/model.py MODEL_TO_ENCODING.
constexpr std::array kExact = std::to_array<Entry>({
    // reasoning
    {"o1", "o200k_base"},
    {"o3", "o200k_base"},
    {"o4-mini", "o200k_base"},
    // chat
    {"gpt-5", "o200k_base"},
    {"gpt-4.1", "o200k_base"},
    {"gpt-4o", "o200k_base"},
    {"gpt-4", "cl100k_base"},
    {"gpt-3.5-turbo", "cl100k_base"},
    {"gpt-3.5", "cl100k_base"},
    {"gpt-35-turbo", "cl100k_base"},  // Azure
    // base
    {"davinci-002", "cl100k_base"},
    {"babbage-002", "cl100k_base"},
    // embeddings
    {"text-embedding-ada-002", "cl100k_base"},
    {"text-embedding-3-small", "cl100k_base"},
    {"text-embedding-3-large", "cl100k_base"},
    // deprecated: text
    {"text-davinci-003", "p50k_base"},
    {"text-davinci-002", "p50k_base"},
    {"text-davinci-001", "r50k_base"},
    {"text-curie-001", "r50k_base"},
    {"text-babbage-001", "r50k_base"},
    {"text-ada-001", "r50k_base"},
    {"davinci", "r50k_base"},
    {"curie", "r50k_base"},
    {"babbage", "r50k_base"},
    {"ada", "r50k_base"},
    // deprecated: code
    {"code-davinci-002", "p50k_base"},
    {"code-davinci-001", "p50k_base"},
    {"code-cushman-002", "p50k_base"},
    {"code-cushman-001", "p50k_base"},
    {"davinci-codex", "p50k_base"},
    {"cushman-codex", "p50k_base"},
    // deprecated: edit
    {"text-davinci-edit-001", "p50k_edit"},
    {"code-davinci-edit-001", "p50k_edit"},
    // deprecated: old embeddings
    {"text-similarity-davinci-001", "r50k_base"},
    {"text-similarity-curie-001", "r50k_base"},
    {"text-similarity-babbage-001", "r50k_base"},
    {"text-similarity-ada-001", "r50k_base"},
    {"text-search-davinci-doc-001", "r50k_base"},
    {"text-search-curie-doc-001", "r50k_base"},
    {"text-search-babbage-doc-001", "r50k_base"},
    {"text-search-ada-doc-001", "r50k_base"},
    {"code-search-babbage-code-001", "r50k_base"},
    {"code-search-ada-code-001", "r50k_base"},
    // open source
    {"gpt2", "gpt2"},
    {"gpt-2", "gpt2"},
});

// tiktoken/model.py MODEL_PREFIX_TO_ENCODING, in its order (the first match wins).
constexpr std::array kPrefixes = std::to_array<Entry>({
    {"o1-", "o200k_base"},
    {"o3-", "o200k_base"},
    {"o4-mini-", "o200k_base"},
    {"gpt-5", "o200k_base"},
    {"gpt-4.5-", "o200k_base"},
    {"gpt-4.1-", "o200k_base"},
    {"chatgpt-4o-", "o200k_base"},
    {"gpt-4o-", "o200k_base"},          // e.g. gpt-4o-2024-05-13
    {"gpt-4-", "cl100k_base"},          // e.g. gpt-4-0314, gpt-4-32k
    {"gpt-3.5-turbo-", "cl100k_base"},  // e.g. gpt-3.5-turbo-0301
    {"gpt-35-turbo-", "cl100k_base"},   // Azure
    {"gpt-oss-", "o200k_harmony"},
    {"ft:gpt-4o", "o200k_base"},
    {"ft:gpt-4", "cl100k_base"},
    {"ft:gpt-3.5-turbo", "cl100k_base"},
    {"ft:davinci-002", "cl100k_base"},
    {"ft:babbage-002", "cl100k_base"},
});

}  // namespace

std::optional<std::string_view> encoding_name_for_model(std::string_view model) noexcept {
  for (const auto& [name, encoding] : kExact) {
    if (model == name) return encoding;
  }
  for (const auto& [prefix, encoding] : kPrefixes) {
    if (model.starts_with(prefix)) return encoding;
  }
  return std::nullopt;
}

core::Result<const Encoding*> encoding_for_model(std::string_view model) {
  const auto name = encoding_name_for_model(model);
  if (!name) {
    std::string known;
    for (const auto& [exact, encoding] : kExact) {
      if (encoding == "cl100k_base" || encoding == "o200k_base") {
        known += (known.empty() ? "" : ", ") + std::string(exact);
      }
    }
    std::string prefixes;
    for (const auto& [prefix, encoding] : kPrefixes) {
      prefixes += (prefixes.empty() ? "" : ", ") + std::string(prefix) + "*";
    }
    return core::Error{core::ErrorCode::kNotFound, "unknown model '" + std::string(model) +
                                                       "'; known models: " + known +
                                                       "; or a name starting with " + prefixes +
                                                       "; or choose an encoding explicitly"};
  }
  auto encoding = get_encoding(*name);
  if (!encoding) {
    return core::Error{core::ErrorCode::kUnimplemented,
                       "model '" + std::string(model) + "' uses the legacy encoding " +
                           std::string(*name) + ", which sluice does not implement"};
  }
  return encoding;
}

const Encoding& encoding_for_model_or(std::string_view model, const Encoding& fallback) {
  const auto name = encoding_name_for_model(model);
  if (!name) return fallback;
  auto encoding = get_encoding(*name);
  return encoding ? **encoding : fallback;
}

}  // namespace sluice::tokenizer
