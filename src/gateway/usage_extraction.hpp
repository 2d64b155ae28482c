#pragma once
// Reading token usage out of backend responses: the `usage` object of a whole JSON response, or
// the chunks of a chat/completions stream (the usage-only chunk, content deltas).
#include <string>
#include <string_view>

#include "gateway/json_scratch.hpp"
#include "sluice/gateway/usage.hpp"

namespace sluice::gateway {

// From a non-streaming response body: usage (incl. cached and reasoning details) and model.
// Returns false when the body has no usable `usage`. Read by scan_usage() (usage_scan.hpp) when it
// can decide, else by simdjson's DOM parser.
bool extract_usage(std::string_view body, JsonScratch& scratch, TokenUsage& usage,
                   std::string& model);
// The same through simdjson's DOM parser only: the reference scan_usage() is tested against.
bool extract_usage_by_dom(std::string_view body, JsonScratch& scratch, TokenUsage& usage,
                          std::string& model);

struct StreamChunk {
  bool json = false;         // the data was a JSON object
  bool has_usage = false;    // it carried a non-null usage
  bool usage_only = false;   // `choices` empty and usage present: the chunk include_usage adds
  bool has_content = false;  // it carried generated text (content, tool-call arguments, text)
};

// Inspects one SSE `data:` payload of a streamed completion: fills `usage` when present, sets
// `model` when present and not yet known, appends generated text to `text`.
StreamChunk inspect_stream_chunk(std::string_view data, JsonScratch& scratch, TokenUsage& usage,
                                 std::string& model, std::string& text);

}  // namespace sluice::gateway
