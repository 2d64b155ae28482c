#pragma once
// Counting tokens with sluice's tokenizer when a backend reported no usage (a stream without the
// usage chunk, a client that left mid-stream). The record then says `estimated`.
#include <cstdint>
#include <string_view>

#include "sluice/gateway/request_context.hpp"

namespace simdjson::dom {
class element;
}

namespace sluice::gateway {

// Prompt tokens of a request body for `model` (unknown models count with o200k_base).
// `parsed`: the body as the gateway already parsed it, when it still has it (no second parse).
std::int64_t estimate_prompt_tokens(std::string_view body, Operation operation,
                                    std::string_view model,
                                    const simdjson::dom::element* parsed = nullptr);
// The same for a chat prompt the gateway's scan gathered (RequestBodyInfo::prompt, plain), views
// of `body`'s bytes: no document needed.
std::int64_t estimate_scanned_chat_prompt_tokens(const ScannedChatPrompt& prompt,
                                                 std::string_view model);
// Tokens of generated text for `model`.
std::int64_t estimate_completion_tokens(std::string_view text, std::string_view model);

// Fills context.usage from the tokenizer unless the backend reported it.
void estimate_missing_usage(RequestContext& context, std::string_view request_body);

}  // namespace sluice::gateway
