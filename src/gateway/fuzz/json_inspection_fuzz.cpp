// Arbitrary bytes as a request body, a response body and a stream chunk: the gateway's JSON
// inspection must answer (accept or refuse with a reason) and never crash, and the one-pass usage
// and request body scans must read every body they decide as simdjson's DOM parser does (a chat
// prompt the scan gathers counting as the document's).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/request_body.hpp"
#include "gateway/request_body_scan.hpp"
#include "gateway/usage_estimation.hpp"
#include "gateway/usage_extraction.hpp"
#include "gateway/usage_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::gateway;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static JsonScratch scratch;
  RequestBodyInfo info;
  auto error = inspect_request_body(input, scratch, info);
  if (error && error->empty()) std::abort();  // a refusal always says why
  // A body the one-pass scan accepts, simdjson's DOM parser accepts and reads the same.
  RequestBodyInfo scanned_body;
  if (scan_request_body(input, scanned_body)) {
    RequestBodyInfo dom_body;
    if (inspect_request_body_by_dom(input, scratch, dom_body) ||
        scanned_body.model != dom_body.model || scanned_body.stream != dom_body.stream ||
        scanned_body.include_usage != dom_body.include_usage ||
        scanned_body.max_tokens != dom_body.max_tokens) {
      std::abort();
    }
  }
  // A chat prompt the scan gathers counts as the prompt read from simdjson's document does.
  RequestBodyInfo gathered;
  if (scan_request_body(input, gathered, true) && gathered.prompt.plain &&
      estimate_scanned_chat_prompt_tokens(gathered.prompt, "gpt-4o") !=
          estimate_prompt_tokens(input, Operation::kChatCompletions, "gpt-4o")) {
    std::abort();
  }
  TokenUsage usage;
  std::string model, text;
  extract_usage(input, scratch, usage, model);
  // Where the one-pass scan decides, it decides as simdjson's DOM parser does.
  TokenUsage scanned, by_dom;
  std::string scanned_model, dom_model;
  if (auto decided = scan_usage(input, scanned, scanned_model)) {
    const bool expected = extract_usage_by_dom(input, scratch, by_dom, dom_model);
    if (*decided != expected || scanned_model != dom_model ||
        scanned.prompt_tokens != by_dom.prompt_tokens ||
        scanned.completion_tokens != by_dom.completion_tokens ||
        scanned.total_tokens != by_dom.total_tokens ||
        scanned.cached_tokens != by_dom.cached_tokens ||
        scanned.reasoning_tokens != by_dom.reasoning_tokens || scanned.source != by_dom.source) {
      std::abort();
    }
  }
  auto chunk = inspect_stream_chunk(input, scratch, usage, model, text);
  if (chunk.usage_only && !chunk.has_usage) std::abort();
  // The gateway rewrites only bodies inspection accepted (proxy.cpp answers 400 first); a body
  // simdjson refuses, such as a number beyond a double's range, Boost.JSON would read as infinity.
  BodyRewrite rewrite;
  rewrite.add_include_usage = true;
  rewrite.model = "m";
  if (auto body = error ? std::nullopt : rewrite_request_body(input, rewrite)) {
    RequestBodyInfo again;
    if (inspect_request_body(*body, scratch, again)) std::abort();  // rewritten bodies stay valid
    if (!again.include_usage || again.model != "m") std::abort();
  }
  return 0;
}
