#pragma once
// SHA-256 as the request path needs it: API-key digests (identity) and cache keys, on every
// request that has one.
#include <string>
#include <string_view>

namespace sluice::gateway {

// SHA-256 of `data` as 32 raw bytes. Any thread.
std::string sha256(std::string_view data);

}  // namespace sluice::gateway
