#include "usage/postgres_store.hpp"

#include <libpq-fe.h>

#include "usage/store_sql.hpp"

namespace sluice::usage {

namespace {

using core::Error;
using core::ErrorCode;

// Rows per INSERT statement: 24 parameters each, well under PostgreSQL's 65535.
constexpr std::size_t kRowsPerStatement = 500;

struct ResultGuard {
  explicit ResultGuard(PGresult* r) : result(r) {}
  ~ResultGuard() { PQclear(result); }
  ResultGuard(const ResultGuard&) = delete;
  ResultGuard& operator=(const ResultGuard&) = delete;
  PGresult* result;
};

void ignore_notice(void*, const char*) {}

std::string trimmed_error(PGconn* conn) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(PGconn* conn, std::string description)
      : conn_(conn), description_(std::move(description)) {}
  ~PostgresStore() override { PQfinish(conn_); }

  core::Result<void> exec(const char* sql) {
    ResultGuard r(PQexec(conn_, sql));
    auto status = PQresultStatus(r.result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure("exec");
    return {};
  }

  core::Result<std::size_t> insert(std::span<const UsageRecord> records) override {
    return insert_rows(records);
  }
  core::Result<std::size_t> insert_prompt_logs(std::span<const PromptLogEntry> entries) override {
    return insert_rows(entries);
  }

  core::Result<std::vector<SummaryRow>> summarize(
      TimeRange range, const std::vector<std::string>& columns) override {
    auto sql = sql::summary_query(columns, sql::Dialect::kPostgres, "$1", "$2");
    if (sql.empty()) return Error{ErrorCode::kInvalidArgument, "unknown report column"};
    auto since = std::to_string(range.since_us);
    auto until = std::to_string(range.until_us);
    const char* params[] = {since.c_str(), until.c_str()};
    ResultGuard r(PQexecParams(conn_, sql.c_str(), 2, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.result) != PGRES_TUPLES_OK) return failure("summary");
    std::vector<SummaryRow> rows;
    for (int t = 0, n = PQntuples(r.result); t < n; ++t) {
      SummaryRow row;
      int i = 0;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        row.keys.push_back(PQgetvalue(r.result, t, i++));
      }
      row.model = PQgetvalue(r.result, t, i++);
      for (auto* field :
           {&row.requests, &row.prompt_tokens, &row.completion_tokens, &row.total_tokens,
            &row.cached_tokens, &row.reasoning_tokens, &row.cache_hits, &row.tokens_saved}) {
        *field = std::strtoll(PQgetvalue(r.result, t, i++), nullptr, 10);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string describe() const override { return description_; }

 private:
  // Inserts rows of one table in one transaction (multi-row INSERTs), skipping those present.
  template <class Row>
  core::Result<std::size_t> insert_rows(std::span<const Row> rows) {
    if (rows.empty()) return std::size_t{0};
    auto columns = sql::columns_of<Row>();
    if (auto ok = exec("BEGIN"); !ok) return ok.error();
    std::size_t inserted = 0;
    std::vector<std::string> values;
    for (std::size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
      auto count = std::min(kRowsPerStatement, rows.size() - start);
      values.clear();
      for (std::size_t k = 0; k < count; ++k) {
        std::size_t column = 0;
        sql::visit_row(rows[start + k], [&](auto value) {
          if constexpr (std::is_same_v<decltype(value), std::string_view>) {
            values.emplace_back(value);
          } else if (columns[column].type == sql::ColumnType::kBool) {
            values.emplace_back(value ? "true" : "false");
          } else {
            values.push_back(std::to_string(value));
          }
          ++column;
        });
      }
      std::string sql = "INSERT INTO " + std::string(sql::table_of<Row>()) + " (" +
                        sql::column_list(columns) + ") VALUES ";
      std::size_t p = 1;
      for (std::size_t row = 0; row < count; ++row) {
        sql += row == 0 ? "(" : ",(";
        for (std::size_t c = 0; c < columns.size(); ++c) {
          if (c) sql += ',';
          sql += '$' + std::to_string(p++);
        }
        sql += ')';
      }
      sql += " ON CONFLICT DO NOTHING";
      std::vector<const char*> params;
      params.reserve(values.size());
      for (const auto& v : values) params.push_back(v.c_str());
      ResultGuard r(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 params.data(), nullptr, nullptr, 0));
      if (PQresultStatus(r.result) != PGRES_COMMAND_OK) {
        auto error = failure("insert");
        rollback();
        return error;
      }
      const char* tuples = PQcmdTuples(r.result);
      inserted += static_cast<std::size_t>(std::strtoull(tuples, nullptr, 10));
    }
    if (auto ok = exec("COMMIT"); !ok) {
      rollback();
      return ok.error();
    }
    return inserted;
  }

  // Ends a failed transaction; its own failure changes nothing (the shipper reconnects).
  void rollback() { (void)exec("ROLLBACK"); }

  Error failure(std::string_view what) const {
    return Error{ErrorCode::kUnavailable, "postgresql " + description_ + ": " + std::string(what) +
                                              ": " + trimmed_error(conn_)};
  }

  PGconn* conn_;
  std::string description_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> open_postgres_store(std::string_view url) {
  std::string conninfo(url);
  if (conninfo.find("connect_timeout=") == std::string::npos) {
    conninfo +=
        conninfo.find('?') == std::string::npos ? "?connect_timeout=5" : "&connect_timeout=5";
  }
  auto description = redact_store_url(url);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn) return Error{ErrorCode::kUnavailable, "postgresql " + description + ": out of memory"};
  if (PQstatus(conn) != CONNECTION_OK) {
    auto message = trimmed_error(conn);
    PQfinish(conn);
    return Error{ErrorCode::kUnavailable, "postgresql " + description + ": " + message};
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  auto store = std::make_unique<PostgresStore>(conn, description);
  if (auto ok = store->exec(sql::schema(sql::Dialect::kPostgres).c_str()); !ok) return ok.error();
  for (const auto& column : sql::kAddedUsageColumns) {
    auto statement = sql::add_column_statement(column, sql::Dialect::kPostgres);
    if (auto ok = store->exec(statement.c_str()); !ok) return ok.error();
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sluice::usage
