#pragma once
// Base64 (RFC 4648 §4, padded) for embeddings' encoding_format=base64, and base64url (§5,
// unpadded) for JWTs and JWKS.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::sim {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// Accepts padded or unpadded input of either alphabet; empty on invalid characters or length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sluice::sim
