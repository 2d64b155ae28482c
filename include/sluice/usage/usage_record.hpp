#pragma once
// One usage record per gateway request: who called, what was asked of which backend, how many
// tokens it cost and where those numbers came from. The unit of chargeback.
//
// On disk (the local journal) a record is one JSON line; in the stores it is one row of the
// `sluice_usage` table. Records are identified by (started_at_us, request_id): replaying a journal
// into a store that already holds a record inserts nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::usage {

struct UsageRecord {
  std::string request_id;
  std::int64_t started_at_us = 0;    // wall clock, microseconds since the Unix epoch
  std::int64_t completed_at_us = 0;  // wall clock
  std::string app_id;                // resolved identity (JWT appid/azp or the API key's app)
  std::string key_id;                // API key id, never the key
  std::string client_ip;
  std::string route;
  std::string deployment;  // as the client named it (Azure path deployment or v1 model)
  std::string model;       // the response's model, when the backend said
  std::string backend;     // the backend that produced the response ("" when none did)
  std::string operation;   // chat.completions, completions, embeddings, other
  bool streamed = false;
  int status = 0;  // HTTP status sent to the client
  std::string error_code;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::string usage_source;   // reported | estimated | none
  std::int64_t ttft_us = -1;  // time to first token, -1 when no token was streamed
  std::int64_t duration_us = 0;
  int attempts = 0;
  bool client_disconnected = false;
  std::string cache;  // "" (answered by a backend), or "exact" / "semantic": from the cache
  std::int64_t tokens_saved = 0;  // a cache hit: total tokens the answer cost when it was made
  // A semantic hit: cosine similarity of the question to the stored one, in millionths (integer,
  // so every store keeps it exactly).
  std::int64_t similarity_ppm = 0;
  // "" for a client's request; "cache_lookup" for the embedding call the semantic cache made on
  // the client's behalf (charged to the same app, in its own record).
  std::string purpose;

  friend bool operator==(const UsageRecord&, const UsageRecord&) = default;
};

// Appends `record` as one JSON object followed by '\n'. The object is flat (no nesting), so any
// strict prefix of it is not valid JSON: a line torn by a crash is always detected. Any thread.
void append_record_line(std::string& out, const UsageRecord& record);

// Parses one line written by append_record_line (without or with its '\n'). Returns nullopt for
// anything else: torn, truncated or foreign lines. Unknown keys are ignored (forward
// compatibility). Any thread.
std::optional<UsageRecord> parse_record_line(std::string_view line);

}  // namespace sluice::usage
