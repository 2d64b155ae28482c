#pragma once
// The simulator's view of sluice's tokenizer: exact token counts for a deployment's model.
// One instance per encoding, shared read-only by all threads (the tokenizer is thread-safe).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace simdjson::dom {
class element;
}

namespace sluice::sim {

class TokenCount {
 public:
  virtual ~TokenCount() = default;
  // Tokens of plain text.
  virtual std::size_t count(std::string_view text) const = 0;
  // Prompt tokens of an OpenAI chat request body, as the service counts them (message framing
  // included). Empty when the body is not a chat request the tokenizer understands.
  virtual std::optional<std::size_t> chat_prompt(std::string_view request_json) const = 0;
  // The same for a body already parsed (InspectedRequest::document): no second parse.
  virtual std::optional<std::size_t> chat_prompt(const simdjson::dom::element& request) const = 0;
  // Name of the encoding ("o200k_base").
  virtual const std::string& encoding() const = 0;
};

// The counter for a model name ("gpt-4o", "text-embedding-3-small"). Throws std::runtime_error
// when no encoding is known for the model or the rank files cannot be loaded (startup only).
std::shared_ptr<const TokenCount> token_count_for_model(std::string_view model);

}  // namespace sluice::sim
