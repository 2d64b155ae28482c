#pragma once
// Tokens that passed validation, with the identity they resolved to, so a client that reuses its
// token (an Entra token lives about an hour) costs a hash lookup instead of an RSA verification.
//
// One cache per worker thread and policy instance: no lock and no shared cache line on the hot
// path. An entry is used only while the token is unexpired (exp + skew, checked on every hit) and
// the key set that verified it is still the published one, so a key rotation that drops a key
// also drops the tokens it signed.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sluice/gateway/identity.hpp"

namespace sluice::gateway::identity {

class TokenCache {
 public:
  struct Entry {
    std::shared_ptr<const Identity> identity;
    std::int64_t valid_until = 0;  // Unix seconds, exclusive
    std::uint64_t generation = 0;  // of the key set that verified the signature
  };

  explicit TokenCache(std::size_t capacity) : capacity_(capacity) {}

  // The identity of `token` if it is cached, unexpired at `now` and verified by key set
  // `generation`; a stale entry is dropped. Caller's thread only.
  std::shared_ptr<const Identity> find(std::string_view token, std::int64_t now,
                                       std::uint64_t generation);
  // Remembers a validated token. When full, drops expired entries, then arbitrary ones.
  void insert(std::string_view token, Entry entry, std::int64_t now);
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  // Hashes a token's last 64 bytes and its length: the signature's bytes, which differ between
  // any two tokens a key signed. Hashing the whole ~1 KB token was ~800 instructions a request;
  // equality still compares every byte.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view token) const noexcept {
      constexpr std::size_t kTail = 64;
      const std::string_view tail =
          token.size() > kTail ? token.substr(token.size() - kTail) : token;
      return std::hash<std::string_view>{}(tail) ^ token.size();
    }
  };
  std::size_t capacity_;
  // Keyed by the whole token, not its signature: a token with a tampered payload but a copied
  // signature must miss and fail verification.
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

// This thread's cache for the policy instance `owner` (a process-unique id, never reused, so a
// reloaded config never sees the entries of the one it replaced). A thread keeps the caches of
// its few most recent owners. Caller's thread only.
TokenCache& thread_token_cache(std::uint64_t owner, std::size_t capacity);

}  // namespace sluice::gateway::identity
