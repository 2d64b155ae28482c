#pragma once
// Base64url (RFC 4648 §5) as JWS compact serialization and JWK use it: no padding, and only the
// canonical spelling of each value is accepted, so one byte string has exactly one encoding.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::gateway::identity {

// Decodes `text`. Returns nullopt for a character outside [A-Za-z0-9_-] (padding '=' included),
// a length that cannot be base64 (n % 4 == 1), or non-zero unused bits in the last character.
// Never throws. Any thread.
std::optional<std::string> decode_base64url(std::string_view text);

// Encodes `bytes` without padding. Any thread.
std::string encode_base64url(std::string_view bytes);

}  // namespace sluice::gateway::identity
