#pragma once
// SQL shared by the SQLite and PostgreSQL stores: the two tables' columns (one list each, from
// which both dialects' CREATE TABLE and INSERT are generated), how a row's values are visited in
// that order, and how a report's grouping column maps to an expression in each dialect.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/usage/store.hpp"

namespace sluice::usage::sql {

enum class Dialect { kSqlite, kPostgres };
enum class ColumnType { kText, kInteger, kBigint, kBool };

struct Column {
  std::string_view name;
  ColumnType type;
};

inline constexpr Column kUsageColumns[] = {
    {"request_id", ColumnType::kText},
    {"started_at_us", ColumnType::kBigint},
    {"completed_at_us", ColumnType::kBigint},
    {"app_id", ColumnType::kText},
    {"key_id", ColumnType::kText},
    {"client_ip", ColumnType::kText},
    {"route", ColumnType::kText},
    {"deployment", ColumnType::kText},
    {"model", ColumnType::kText},
    {"backend", ColumnType::kText},
    {"operation", ColumnType::kText},
    {"streamed", ColumnType::kBool},
    {"status", ColumnType::kInteger},
    {"error_code", ColumnType::kText},
    {"prompt_tokens", ColumnType::kBigint},
    {"completion_tokens", ColumnType::kBigint},
    {"total_tokens", ColumnType::kBigint},
    {"cached_tokens", ColumnType::kBigint},
    {"reasoning_tokens", ColumnType::kBigint},
    {"usage_source", ColumnType::kText},
    {"ttft_us", ColumnType::kBigint},
    {"duration_us", ColumnType::kBigint},
    {"attempts", ColumnType::kInteger},
    {"client_disconnected", ColumnType::kBool},
    {"cache", ColumnType::kText},
    {"tokens_saved", ColumnType::kBigint},
    {"similarity_ppm", ColumnType::kBigint},
    {"purpose", ColumnType::kText},
};

// Columns added to sluice_usage after its first release, with the value older rows get: a store
// created by an older sluice gains them when it is opened (upgrade_statements()).
struct AddedColumn {
  std::string_view name;
  std::string_view definition;  // type and default, valid in both dialects
};
inline constexpr AddedColumn kAddedUsageColumns[] = {
    {"cache", "TEXT NOT NULL DEFAULT ''"},
    {"tokens_saved", "BIGINT NOT NULL DEFAULT 0"},
    {"similarity_ppm", "BIGINT NOT NULL DEFAULT 0"},
    {"purpose", "TEXT NOT NULL DEFAULT ''"},
};

// ALTER TABLE statements adding `column` to sluice_usage. PostgreSQL skips a column it has
// (IF NOT EXISTS); SQLite has no such clause, so its caller asks first which columns exist.
inline std::string add_column_statement(const AddedColumn& column, Dialect dialect) {
  return "ALTER TABLE sluice_usage ADD COLUMN " +
         std::string(dialect == Dialect::kPostgres ? "IF NOT EXISTS " : "") +
         std::string(column.name) + " " + std::string(column.definition) + ";\n";
}

inline constexpr Column kPromptLogColumns[] = {
    {"request_id", ColumnType::kText}, {"started_at_us", ColumnType::kBigint},
    {"app_id", ColumnType::kText},     {"deployment", ColumnType::kText},
    {"model", ColumnType::kText},      {"backend", ColumnType::kText},
    {"operation", ColumnType::kText},  {"status", ColumnType::kInteger},
    {"streamed", ColumnType::kBool},   {"prompt", ColumnType::kText},
    {"response", ColumnType::kText},
};

// Calls visit(std::string_view) or visit(std::int64_t) for each column of kUsageColumns, in order.
template <class Visit>
void visit_row(const UsageRecord& r, Visit&& visit) {
  visit(std::string_view(r.request_id));
  visit(r.started_at_us);
  visit(r.completed_at_us);
  visit(std::string_view(r.app_id));
  visit(std::string_view(r.key_id));
  visit(std::string_view(r.client_ip));
  visit(std::string_view(r.route));
  visit(std::string_view(r.deployment));
  visit(std::string_view(r.model));
  visit(std::string_view(r.backend));
  visit(std::string_view(r.operation));
  visit(std::int64_t{r.streamed});
  visit(std::int64_t{r.status});
  visit(std::string_view(r.error_code));
  visit(r.prompt_tokens);
  visit(r.completion_tokens);
  visit(r.total_tokens);
  visit(r.cached_tokens);
  visit(r.reasoning_tokens);
  visit(std::string_view(r.usage_source));
  visit(r.ttft_us);
  visit(r.duration_us);
  visit(std::int64_t{r.attempts});
  visit(std::int64_t{r.client_disconnected});
  visit(std::string_view(r.cache));
  visit(r.tokens_saved);
  visit(r.similarity_ppm);
  visit(std::string_view(r.purpose));
}

// The same for kPromptLogColumns.
template <class Visit>
void visit_row(const PromptLogEntry& e, Visit&& visit) {
  visit(std::string_view(e.request_id));
  visit(e.started_at_us);
  visit(std::string_view(e.app_id));
  visit(std::string_view(e.deployment));
  visit(std::string_view(e.model));
  visit(std::string_view(e.backend));
  visit(std::string_view(e.operation));
  visit(std::int64_t{e.status});
  visit(std::int64_t{e.streamed});
  visit(std::string_view(e.prompt));
  visit(std::string_view(e.response));
}

template <class Row>
constexpr std::span<const Column> columns_of() {
  if constexpr (std::is_same_v<Row, UsageRecord>) {
    return kUsageColumns;
  } else {
    return kPromptLogColumns;
  }
}

template <class Row>
constexpr std::string_view table_of() {
  return std::is_same_v<Row, UsageRecord> ? "sluice_usage" : "sluice_prompt_log";
}

inline std::string column_list(std::span<const Column> columns) {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

// CREATE TABLE IF NOT EXISTS for both tables, keyed by (started_at_us, request_id): the key makes
// replays idempotent, and leading with the start time clusters rows in arrival order (inserts
// append; reports scan a time range) with no second index to maintain. SQLite stores the table in
// its key order (WITHOUT ROWID), so an insert touches one B-tree.
inline std::string schema(Dialect dialect) {
  auto table = [&](std::string_view name, std::span<const Column> columns) {
    std::string out = "CREATE TABLE IF NOT EXISTS " + std::string(name) + " (\n";
    for (const auto& c : columns) {
      const char* type = "TEXT";
      switch (c.type) {
        case ColumnType::kText:
          type = "TEXT";
          break;
        case ColumnType::kInteger:
          type = "INTEGER";
          break;
        case ColumnType::kBigint:
          type = dialect == Dialect::kSqlite ? "INTEGER" : "BIGINT";
          break;
        case ColumnType::kBool:
          type = dialect == Dialect::kSqlite ? "INTEGER" : "BOOLEAN";
          break;
      }
      out += "  " + std::string(c.name) + " " + type + " NOT NULL,\n";
    }
    out += "  PRIMARY KEY (started_at_us, request_id)\n)";
    out += dialect == Dialect::kSqlite ? " WITHOUT ROWID;\n" : ";\n";
    return out;
  };
  return table("sluice_usage", kUsageColumns) + table("sluice_prompt_log", kPromptLogColumns);
}

// The SQL expression for a report column (see summary_columns()), or "" if unknown.
inline std::string group_expression(std::string_view column, Dialect dialect) {
  if (column == "app") return "app_id";
  if (column == "key") return "key_id";
  if (column == "client_ip" || column == "route" || column == "deployment" || column == "model" ||
      column == "backend" || column == "operation" || column == "request_id") {
    return std::string(column);
  }
  if (column == "status")
    return dialect == Dialect::kSqlite ? "CAST(status AS TEXT)" : "status::text";
  if (column == "source") return "usage_source";
  if (column == "cache") return "cache";
  if (column == "purpose") return "purpose";
  if (column == "streamed") return "CASE WHEN streamed THEN 'true' ELSE 'false' END";
  if (column == "day") {
    return dialect == Dialect::kSqlite
               ? "strftime('%Y-%m-%d', started_at_us / 1000000, 'unixepoch')"
               : "to_char(to_timestamp(started_at_us / 1000000.0) AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD')";
  }
  return "";
}

// "SELECT <groups>, model, COUNT(*), SUM(...)... FROM sluice_usage WHERE started_at_us >= <since>
// GROUP BY <groups>, model", or "" when a column is unknown.
inline std::string summary_query(const std::vector<std::string>& columns, Dialect dialect,
                                 std::string_view since_placeholder,
                                 std::string_view until_placeholder) {
  std::string groups;
  for (const auto& column : columns) {
    auto expression = group_expression(column, dialect);
    if (expression.empty()) return "";
    groups += expression + ", ";
  }
  std::string sum_cast = dialect == Dialect::kPostgres ? "::bigint" : "";
  std::string sql = "SELECT " + groups + "model, COUNT(*)";
  for (const char* c : {"prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
                        "reasoning_tokens"}) {
    sql += ", SUM(" + std::string(c) + ")" + sum_cast;
  }
  sql += ", SUM(CASE WHEN cache <> '' THEN 1 ELSE 0 END)" + sum_cast;
  sql += ", SUM(tokens_saved)" + sum_cast;
  sql += " FROM sluice_usage WHERE started_at_us >= " + std::string(since_placeholder) +
         " AND started_at_us < " + std::string(until_placeholder) + " GROUP BY " + groups + "model";
  return sql;
}

}  // namespace sluice::usage::sql
