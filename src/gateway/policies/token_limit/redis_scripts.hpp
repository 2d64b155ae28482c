#pragma once
// The two Lua scripts the Redis store runs (redis_store.hpp has the key layout). Each checks or
// changes every limit of a request in one atomic step on the server; one call of either carries
// many requests' work.
//
// The window hash keeps, next to its buckets, the running total of the buckets it holds
// (field "total") and the oldest bucket that may still be in it (field "from"): a reservation
// reads two fields and drops only the buckets that left the window since the last one (usually
// none or one), instead of reading all 61 buckets. Both scripts keep "total" equal to the sum of
// the bucket fields; a hash without "total" or "from" (just created by a settlement) is counted
// once from its buckets.
namespace sluice::gateway::token_limit {

// Run as a batch (redis_client.hpp, eval_batched): one part per reservation, each
// KEYS: per limit i: window key, quota key.
// ARGV: now_ms, n, then per limit: tokens_per_minute, token_quota, tokens, quota_ttl_seconds.
// Reply: admitted (0/1), bucket, then per limit: window_used, quota_used, wait_ms (-1: never).
extern const char* const kReserveScript;

// KEYS: per limit i: window key, quota key (of the period the delta belongs to).
// ARGV: now_ms, n, then per limit: bucket, window_delta, quota_delta, quota_ttl_seconds.
// Reply: n.
extern const char* const kSettleScript;

}  // namespace sluice::gateway::token_limit
