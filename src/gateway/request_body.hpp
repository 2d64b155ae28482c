#pragma once
// Inspecting and (only when needed) rewriting the JSON body of a request.
#include <optional>
#include <string>
#include <string_view>

#include "gateway/json_scratch.hpp"
#include "sluice/gateway/request_context.hpp"

namespace sluice::gateway {

// Reads model, stream, stream_options.include_usage and max_tokens from a request body.
// Returns an error message for a body that is not a JSON object (the caller answers 400). Read by
// scan_request_body() (request_body_scan.hpp) when it can decide, else by simdjson's DOM parser.
// With `gather_chat_prompt` (a chat completion's body, and a policy counts its prompt:
// GatewaySettings::parse_request_document), the scan also gathers the prompt (info.prompt), and a
// body whose prompt it cannot gather is read by the DOM parser, the document kept for the count.
std::optional<std::string> inspect_request_body(std::string_view body, JsonScratch& scratch,
                                                RequestBodyInfo& info,
                                                bool gather_chat_prompt = false);
// The same through simdjson's DOM parser only, the document kept in `scratch`: what the gateway
// uses when a policy reads more of the body than the scan gathers (a chat prompt with content
// parts or tools, for the token limit's count), so that the body is parsed once; and the
// reference scan_request_body() is tested against.
std::optional<std::string> inspect_request_body_by_dom(std::string_view body, JsonScratch& scratch,
                                                       RequestBodyInfo& info);

struct BodyRewrite {
  bool add_include_usage = false;  // set stream_options.include_usage = true
  std::string model;               // replace "model" when not empty
};

// Returns the rewritten body, or nothing when the body is not a JSON object. Only for a body
// inspect_request_body accepted: Boost.JSON reads a number beyond a double's range (which simdjson
// refuses) as infinity and would write it back as `Infinity`, which is not JSON.
std::optional<std::string> rewrite_request_body(std::string_view body, const BodyRewrite& rewrite);

}  // namespace sluice::gateway
