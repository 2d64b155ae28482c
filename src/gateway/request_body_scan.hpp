#pragma once
// A request body's routing fields (model, stream, stream_options.include_usage, max_tokens or
// max_completion_tokens) read in one pass over its bytes (json_scan.hpp), for the bodies it can
// decide exactly as simdjson's DOM parser would. The gateway reads every request body; a
// chat message of ~60 bytes cost simdjson's two stages ~1,500 instructions through cold code.
#include <string_view>

#include "sluice/gateway/request_context.hpp"

namespace sluice::gateway {

// True: `body` is a valid JSON object and `info` holds its fields (parsed set, no DOM kept: a
// policy that wants one parses the body itself). False: nothing touched; the body is invalid, not
// an object, or holds what only simdjson decides (non-ASCII, \u escapes, fractions, exponents,
// depth, an escaped model name), and the caller inspects it with simdjson, which also says where
// a broken body breaks.
//
// With `gather_chat_prompt` (a chat completion's body, and a policy counts its prompt), it also
// gathers the prompt into info.prompt when the messages hold only what the count can take from
// the scan (tokenizer::PlainChatPrompt); otherwise info.prompt stays as it was (not plain).
bool scan_request_body(std::string_view body, RequestBodyInfo& info,
                       bool gather_chat_prompt = false);

}  // namespace sluice::gateway
