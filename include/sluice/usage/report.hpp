#pragma once
// Chargeback reports from a usage store: requests and tokens per group (app, deployment, backend,
// ...), each group's share of all tokens, and with a price table the cost.
//
// Price table (YAML), prices per 1,000 tokens:
//   currency: USD
//   models:
//     gpt-4o: {input: 0.0025, output: 0.01, cached_input: 0.00125}
//     text-embedding-3-small: {input: 0.00002}
// A record's model matches the longest price key that equals it or prefixes it followed by '-'
// ("gpt-4o" prices "gpt-4o-2024-08-06" but not "gpt-4o-mini" when "gpt-4o-mini" is listed).
// Cached prompt tokens are charged at cached_input (default: input).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sluice/core/result.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::usage {

struct ModelPrice {
  double input = 0;          // per 1K prompt tokens
  double output = 0;         // per 1K completion tokens
  double cached_input = -1;  // per 1K cached prompt tokens; < 0: same as input
};

struct PriceTable {
  std::string currency = "USD";
  std::map<std::string, ModelPrice> models;

  // Throws core::ConfigError naming file, line and key.
  static PriceTable load(const std::filesystem::path& file);
  const ModelPrice* find(const std::string& model) const;
};

struct ReportRow {
  std::vector<std::string> keys;
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t cache_hits = 0;    // requests answered from the response cache
  std::int64_t tokens_saved = 0;  // what the cache hits would have cost
  double share = 0;               // of all total tokens, 0..1
  double cost = 0;                // with a price table
};

struct Report {
  std::vector<std::string> columns;
  std::vector<ReportRow> rows;  // largest total_tokens first
  ReportRow total;
  bool priced = false;
  std::string currency;
  std::set<std::string> unpriced_models;  // models with tokens but no price (cost counts 0)
};

// Splits "app,deployment,backend" into column names, each checked against summary_columns().
// kInvalidArgument names an unknown column and lists the choices. Any thread.
core::Result<std::vector<std::string>> parse_report_columns(std::string_view text);

// Groups `summary` (grouped by `columns` and model) by `columns` alone.
Report build_report(const std::vector<SummaryRow>& summary, const std::vector<std::string>& columns,
                    const PriceTable* prices);

enum class ReportFormat { kTable, kCsv, kJson };
std::string format_report(const Report& report, ReportFormat format);

}  // namespace sluice::usage
