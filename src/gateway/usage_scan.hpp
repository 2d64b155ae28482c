#pragma once
// A non-streaming answer's usage and model, read in one pass over its bytes without simdjson.
// Every proxied 200 answer is read for its usage. For an answer of a few hundred bytes,
// simdjson's two stages took ~2,800 instructions and ran through their ~10 KiB of code cold each
// time (callgrind's cache simulation: a third of the request's instruction-cache misses went to
// the two parses of a request). This pass checks the whole document's syntax as the DOM parser
// does and keeps only what extract_usage() reads.
//
// Undecided cases (json_scan.hpp's, and a model's name with an escape) go to simdjson as before.
// Where it decides, the outcome is the same as extract_usage_by_dom(), including what it leaves
// untouched. usage_scan_test.cpp checks this on every truncation and byte change of real answers.
#include <optional>
#include <string>
#include <string_view>

#include "sluice/gateway/usage.hpp"

namespace sluice::gateway {

// true: usage read (and `model` set when the answer names one); false: no usable usage, the
// body's JSON invalid, or no `usage` object (`model` still set from a valid body); nullopt:
// undecided, nothing touched.
std::optional<bool> scan_usage(std::string_view body, TokenUsage& usage, std::string& model);

}  // namespace sluice::gateway
