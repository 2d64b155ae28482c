#pragma once
// The text of a plain (non-streamed) response, as a prompt log keeps it: what the model generated,
// assembled the way the gateway reassembles a stream, so both kinds read the same.
#include <string>
#include <string_view>

namespace sluice::gateway {

// For a body with `choices`: every choice's message content, refusal and tool-call name and
// arguments (chat), or `text` (completions), concatenated. For an embeddings body (`data` of
// embedding objects): "" (vectors are not text). Anything else (errors, non-JSON): the body as is.
// Any thread.
std::string response_text(std::string_view body);

}  // namespace sluice::gateway
