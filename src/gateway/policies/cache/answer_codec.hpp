#pragma once
// Between backend answers and cached ones. An answer is kept as one chat.completion JSON body,
// whether it arrived whole or as a stream (its chunks are put back together), and is served as
// that body to a plain request, or re-chunked into a valid SSE stream for a streaming one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policies/cache/memory_store.hpp"
#include "sluice/gateway/usage.hpp"

namespace sluice::gateway::cache {

// What may be kept: every choice finished with `stop` or `length` (or `tool_calls`, with tool
// calls allowed); no content-filter hit, no error. Returns the answer, or nullopt with the reason
// in `why_not`. Never throws.
std::optional<CachedAnswer> answer_from_body(std::string_view body, bool allow_tool_calls,
                                             std::string& why_not);

// The same for a stream: `events` are its `data:` payloads in order, `[DONE]` excluded. The
// chunks' deltas (content, tool-call pieces) are joined per choice; usage comes from the usage
// chunk, else from `fallback_usage` (the gateway's estimate) when given, so a plain request
// served from it still gets a `usage` object.
std::optional<CachedAnswer> answer_from_stream(const std::vector<std::string>& events,
                                               bool allow_tool_calls, std::string& why_not,
                                               const TokenUsage* fallback_usage = nullptr);

// The content of the answer's first choice ("" when it has none). Never throws.
std::string first_content(const CachedAnswer& answer);

// An SSE stream of `answer` as OpenAI sends it: a role chunk, content in small pieces, the finish
// chunk, the usage chunk when `include_usage`, then `data: [DONE]`. Never throws.
std::string render_stream(const CachedAnswer& answer, bool include_usage);

}  // namespace sluice::gateway::cache
