// Arbitrary bytes as a request body, a response body and a stream chunk: the gateway's JSON
// inspection must answer (accept or refuse with a reason) and never crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/request_body.hpp"
#include "gateway/usage_extraction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::gateway;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static JsonScratch scratch;
  RequestBodyInfo info;
  auto error = inspect_request_body(input, scratch, info);
  if (error && error->empty()) std::abort();  // a refusal always says why
  TokenUsage usage;
  std::string model, text;
  extract_usage(input, scratch, usage, model);
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
