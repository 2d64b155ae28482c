#pragma once
// Reading OpenAI / Azure OpenAI responses as they arrive: content events of a stream (for TTFT and
// inter-token gaps), `usage` when the server sends it, and the generated text for the tokenizer
// when it does not. Private to sluice_loadgen.
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/tokenizer/encoding.hpp"

namespace sluice::loadgen::detail {

struct OpenAiTally {
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  std::string text;  // generated content, concatenated
  bool saw_error = false;
  std::string error_message;
};

// Parses one SSE data payload (a chat.completion.chunk or completion chunk). Returns true when it
// carried generated content (a token event). "[DONE]" and malformed payloads return false.
bool read_stream_event(std::string_view data, OpenAiTally& tally);

// Parses a whole (non-streamed) response body: usage, generated text, error message.
void read_whole_response(std::string_view body, OpenAiTally& tally);

// The tokenizer for a model name (sluice/tokenizer/model_map.hpp); o200k_base when unknown.
const tokenizer::Encoding& encoding_for_model(std::string_view model);

// Prompt tokens of a chat request body (sluice/tokenizer/chat_tokens.hpp), or of a completions
// prompt / embeddings input. -1 when the body is none of these.
std::int64_t count_prompt_tokens(std::string_view request_body, const tokenizer::Encoding& enc);

}  // namespace sluice::loadgen::detail
