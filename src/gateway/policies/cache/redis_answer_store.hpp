#pragma once
// The exact cache's entries in Redis, so every gateway instance sharing the server shares them.
// One string per entry under <key_prefix>cache:<key>, set with the TTL as its expiry (PX); Redis's
// own maxmemory policy bounds it. The connections and their failure handling (timeouts, the retry
// interval after a failure) are the token limit's (token_limit/redis_client.hpp).
//
// Threads: one store shared by every worker; find() resumes on the caller's executor.
#include <chrono>
#include <memory>
#include <string>

#include "gateway/policies/cache/memory_store.hpp"
#include "gateway/policies/token_limit/redis_client.hpp"

namespace sluice::gateway::cache {

// How an answer is written into one Redis string and read back; a value that does not decode
// (another version, another program) reads as absent. Pure; any thread.
std::string encode_answer(const CachedAnswer& answer, std::int64_t stored_at_unix_ms);
bool decode_answer(std::string_view value, CachedAnswer& answer, std::int64_t& stored_at_unix_ms);

class RedisAnswerStore {
 public:
  explicit RedisAnswerStore(token_limit::RedisSettings settings);

  struct Found {
    bool reachable = false;  // false: Redis did not answer (down, timeout, error)
    std::string error;
    std::shared_ptr<const CachedAnswer> answer;  // null: absent
  };
  // `now` gives the answer's age: stored_at is set so that now - stored_at is it.
  http::Task<Found> find(const std::string& key, std::chrono::steady_clock::time_point now);
  // Writes in the background on `executor`'s connection; `done(ok)` is called once, on it.
  void insert(const token_limit::RedisClient::Executor& executor, const std::string& key,
              const CachedAnswer& answer, std::chrono::milliseconds ttl,
              std::function<void(bool ok)> done);

  const token_limit::RedisSettings& settings() const { return settings_; }

 private:
  token_limit::RedisSettings settings_;
  token_limit::RedisClient client_;
};

}  // namespace sluice::gateway::cache
