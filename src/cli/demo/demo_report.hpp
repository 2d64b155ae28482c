#pragma once
// The demo's closing sections, each read from a running component: the chargeback table from the
// gateway's usage store (SQLite), failover from the store and the gateway's /admin/backends, and
// the reconciliation of the store's token total with the simulator's own /sim/usage.
#include <cstdint>
#include <filesystem>
#include <string>

#include "cli/demo/demo_scenario.hpp"
#include "sluice/core/result.hpp"

namespace sluice::cli::demo {

// Per app × deployment × backend: requests, tokens, share of all tokens, throttled, errors.
// Fails when the database cannot be read.
core::Result<std::string> chargeback_table(const std::filesystem::path& db,
                                           const DemoScenario& scenario);

// Per app × deployment: requests, response-cache hits, hit ratio, tokens saved.
core::Result<std::string> cache_text(const std::filesystem::path& db, const DemoScenario& scenario);

// Records answered from the response cache (they carry no backend tokens).
core::Result<std::int64_t> store_cache_hits(const std::filesystem::path& db);

// Sum of total_tokens over every record in the store.
core::Result<std::int64_t> store_total_tokens(const std::filesystem::path& db);

// What failed over and why: requests that needed more than one attempt (store), each backend's
// attempts, failures, throttling, breaker trips and last error (/admin/backends), and what the
// simulator says each deployment refused (/sim/usage).
core::Result<std::string> failover_text(const std::filesystem::path& db,
                                        const std::string& backends_json,
                                        const std::string& sim_usage_json,
                                        const DemoScenario& scenario);

}  // namespace sluice::cli::demo
