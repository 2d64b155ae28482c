#pragma once
// Usage records for tests, and what a store holds of them.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sluice/usage/store.hpp"
#include "sluice/usage/usage_record.hpp"

namespace sluice::usage::testing {

// A successful chat completion record of `tokens` prompt (and total) tokens.
inline UsageRecord record(const std::string& id, std::int64_t tokens) {
  UsageRecord r;
  r.request_id = id;
  r.started_at_us = 1'000'000;
  r.app_id = "app";
  r.deployment = "gpt-4o";
  r.model = "gpt-4o";
  r.prompt_tokens = tokens;
  r.total_tokens = tokens;
  r.usage_source = "reported";
  return r;
}

// Total tokens in the store at `url`; `requests`, when given, receives the number of records.
inline std::int64_t total_in(const std::string& url, std::int64_t* requests = nullptr) {
  auto store = open_store(url);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return -1;
  auto rows = (*store)->summarize({}, {});
  EXPECT_TRUE(rows);
  std::int64_t total = 0;
  std::int64_t count = 0;
  if (rows) {
    for (const auto& row : *rows) {
      total += row.total_tokens;
      count += row.requests;
    }
  }
  if (requests) *requests = count;
  return total;
}

}  // namespace sluice::usage::testing
