#pragma once
// Standard base64 (RFC 4648 alphabet, `=` padding) decoding, for the rank files and data: URLs.
#include <string>
#include <string_view>

namespace sluice::tokenizer {

// Appends the bytes encoded by `in` to `out`. `in` must be whole 4-character groups, padding only
// in the last one. Returns false, with `out` as it was, if it is not.
bool decode_base64(std::string_view in, std::string& out);

}  // namespace sluice::tokenizer
