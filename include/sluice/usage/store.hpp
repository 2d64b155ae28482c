#pragma once
// Usage stores: where usage records (and optionally prompt/response logs) end up for reports.
// SQLite (a file; the default) or PostgreSQL (libpq; for several gateways and long retention).
//
//   auto store = open_store("usage.db");                          // SQLite file
//   auto store = open_store("sqlite:/var/lib/sluice/usage.db");
//   auto store = open_store("postgresql://sluice@db:5432/usage");
//
// Only the shipper thread (shipper.hpp) and `sluice usage` talk to a store; never the request
// path. A Store object is one connection: use it from one thread at a time.
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.hpp"
#include "sluice/usage/usage_record.hpp"

namespace sluice::usage {

// One prompt/response pair as the prompt log keeps it (already sampled and redacted).
struct PromptLogEntry {
  std::string request_id;
  std::int64_t started_at_us = 0;
  std::string app_id;
  std::string deployment;
  std::string model;
  std::string backend;
  std::string operation;
  int status = 0;
  bool streamed = false;
  std::string prompt;    // the request body, redacted
  std::string response;  // the response text (streams reassembled), redacted
};

// One group of a summary: the values of the grouping columns, then sums.
struct SummaryRow {
  std::vector<std::string> keys;  // one per requested column, in order
  std::string model;              // always grouped by model too, so prices can apply
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::int64_t cache_hits = 0;    // requests answered from the response cache
  std::int64_t tokens_saved = 0;  // what those answers cost when they were made
};

// Which records a summary covers: started at or after `since_us` and before `until_us`
// (microseconds since the Unix epoch; the default is everything).
struct TimeRange {
  std::int64_t since_us = 0;
  std::int64_t until_us = std::numeric_limits<std::int64_t>::max();
};

// Grouping columns a report may name: app, key, client_ip, route, deployment, model, backend,
// operation, status, source, cache, streamed, day, request_id.
const std::vector<std::string_view>& summary_columns();

class Store {
 public:
  virtual ~Store() = default;

  // Inserts `records` in one transaction. A record already present (same request_id and
  // started_at_us) is skipped, so replaying a journal is idempotent. Returns how many were new.
  virtual core::Result<std::size_t> insert(std::span<const UsageRecord> records) = 0;
  virtual core::Result<std::size_t> insert_prompt_logs(std::span<const PromptLogEntry> entries) = 0;

  // Sums of the records started within `range`, grouped by `columns` (names from
  // summary_columns(), validated by the caller) and model.
  virtual core::Result<std::vector<SummaryRow>> summarize(
      TimeRange range, const std::vector<std::string>& columns) = 0;

  // Where this store is, for logs ("sqlite:/path", "postgresql://host:port/db"; never a password).
  virtual std::string describe() const = 0;
};

enum class StoreKind { kSqlite, kPostgres };

// Which kind of store `url` names; kInvalidArgument for an empty URL or an unknown scheme.
core::Result<StoreKind> store_kind(std::string_view url);

// Connects (PostgreSQL) or opens the file (SQLite), creating the tables if needed. kUnavailable
// when the server cannot be reached, so callers can retry.
core::Result<std::unique_ptr<Store>> open_store(std::string_view url);

// The URL without its password, for logs.
std::string redact_store_url(std::string_view url);

}  // namespace sluice::usage
