#pragma once
// Inspection and validation of a data-plane request body (simdjson DOM, one parser per thread).
// Validation messages follow the service's wording ("'messages' is a required property") so that
// clients and tests see what Azure OpenAI would say.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

namespace sluice::sim {

enum class Operation { kChatCompletions, kCompletions, kEmbeddings };

const char* operation_name(Operation op);  // "ChatCompletions_Create", as in Azure's 429 text

// A 400 invalid_request_error.
struct RequestError {
  std::string message;
  std::string param;  // empty → null
  std::string code;   // empty → null
};

struct InspectedRequest {
  std::string model;  // body "model" (used by the /v1 routes)
  bool stream = false;
  bool has_stream_options = false;
  bool include_usage = false;
  std::optional<std::int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<std::int64_t> seed;
  int n = 1;
  // Hash of what the model would read (messages / prompt / input), for deterministic output.
  std::uint64_t content_hash = 0;
  // /completions: the prompt(s). /embeddings: the inputs as text, or token arrays' lengths.
  std::vector<std::string> texts;
  std::vector<std::size_t> token_inputs;  // embeddings given as token id arrays: their lengths
  std::optional<int> dimensions;
  bool base64 = false;
  // The parsed body, in this thread's parser: read it before the next inspect_request on this
  // thread (before any co_await), so that the prompt's tokens are counted without a second parse.
  simdjson::dom::element document;
};

// Parses `body` (any bytes) for `op`. Never throws; malformed JSON reports the byte offset.
std::variant<InspectedRequest, RequestError> inspect_request(Operation op, std::string_view body);

}  // namespace sluice::sim
