#include "usage/sqlite_store.hpp"

#include <sqlite3.h>

#include <set>

#include "usage/store_sql.hpp"

namespace sluice::usage {

namespace {

using core::Error;
using core::ErrorCode;

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStore() override {
    // sqlite3_close refuses (SQLITE_BUSY) and leaks the connection, its file descriptors and the
    // WAL checkpoint while a prepared statement is alive, and members die after this body.
    insert_usage_.reset();
    insert_prompt_log_.reset();
    insert_usages_.reset();
    insert_prompt_logs_.reset();
    sqlite3_close(db_);
  }

  core::Result<std::size_t> insert(std::span<const UsageRecord> records) override {
    return insert_rows(records);
  }
  core::Result<std::size_t> insert_prompt_logs(std::span<const PromptLogEntry> entries) override {
    return insert_rows(entries);
  }

  core::Result<std::vector<SummaryRow>> summarize(
      TimeRange range, const std::vector<std::string>& columns) override {
    auto sql = sql::summary_query(columns, sql::Dialect::kSqlite, "?1", "?2");
    if (sql.empty()) return Error{ErrorCode::kInvalidArgument, "unknown report column"};
    Statement statement;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, statement.out(), nullptr) != SQLITE_OK) {
      return failure("prepare summary");
    }
    auto* s = statement.get();
    sqlite3_bind_int64(s, 1, range.since_us);
    sqlite3_bind_int64(s, 2, range.until_us);
    std::vector<SummaryRow> rows;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      SummaryRow row;
      int i = 0;
      for (std::size_t c = 0; c < columns.size(); ++c) row.keys.push_back(column_text(s, i++));
      row.model = column_text(s, i++);
      for (auto* field :
           {&row.requests, &row.prompt_tokens, &row.completion_tokens, &row.total_tokens,
            &row.cached_tokens, &row.reasoning_tokens, &row.cache_hits, &row.tokens_saved}) {
        *field = sqlite3_column_int64(s, i++);
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return failure("summary");
    return rows;
  }

  core::Result<void> exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return Error{ErrorCode::kUnavailable, "sqlite " + path_ + ": " + text};
    }
    return {};
  }

  std::string describe() const override { return "sqlite:" + path_; }

  // Brings a table made by an older sluice up to date (kAddedUsageColumns).
  core::Result<void> add_missing_columns() {
    std::set<std::string> present;
    Statement statement;
    if (sqlite3_prepare_v2(db_, "SELECT name FROM pragma_table_info('sluice_usage')", -1,
                           statement.out(), nullptr) != SQLITE_OK) {
      return failure("read columns");
    }
    while (sqlite3_step(statement.get()) == SQLITE_ROW) {
      present.insert(column_text(statement.get(), 0));
    }
    for (const auto& column : sql::kAddedUsageColumns) {
      if (present.contains(std::string(column.name))) continue;
      auto sql = sql::add_column_statement(column, sql::Dialect::kSqlite);
      if (auto ok = exec(sql.c_str()); !ok) return ok.error();
    }
    return {};
  }

 private:
  // Rows a multi-row INSERT carries. One statement per row cost ~16,000 instructions a usage row,
  // ~2,500 of them the statement's own start and finish (open the table, halt, reset); 32 rows
  // share that, and 32 x 28 parameters stay far below SQLite's limit of 32,766.
  static constexpr std::size_t kRowsPerStatement = 32;

  // The prepared INSERT of `rows` rows (1 or kRowsPerStatement) into Row's table, made on first
  // use; nullptr if SQLite refuses it.
  template <class Row>
  sqlite3_stmt* insert_statement(std::size_t rows) {
    constexpr bool usage = std::is_same_v<Row, UsageRecord>;
    auto& statement = rows == 1 ? (usage ? insert_usage_ : insert_prompt_log_)
                                : (usage ? insert_usages_ : insert_prompt_logs_);
    if (statement) return statement->get();
    auto columns = sql::columns_of<Row>();
    std::string one_row = "(?";
    for (std::size_t i = 1; i < columns.size(); ++i) one_row += ",?";
    one_row += ")";
    std::string sql = "INSERT INTO " + std::string(sql::table_of<Row>()) + " (" +
                      sql::column_list(columns) + ") VALUES " + one_row;
    for (std::size_t i = 1; i < rows; ++i) sql += "," + one_row;
    sql += " ON CONFLICT DO NOTHING";
    auto made = std::make_unique<Statement>();
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, made->out(), nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statement = std::move(made);
    return statement->get();
  }

  // Inserts rows of one table in one transaction, skipping those already present.
  template <class Row>
  core::Result<std::size_t> insert_rows(std::span<const Row> rows) {
    if (rows.empty()) return std::size_t{0};
    if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok.error();
    std::size_t inserted = 0;
    while (!rows.empty()) {
      const std::size_t count = rows.size() >= kRowsPerStatement ? kRowsPerStatement : 1;
      auto* s = insert_statement<Row>(count);
      if (!s) {
        auto error = failure("prepare insert");
        rollback();
        return error;
      }
      int index = 1;
      for (const auto& row : rows.first(count)) {
        sql::visit_row(row, [&](auto value) {
          if constexpr (std::is_same_v<decltype(value), std::string_view>) {
            // SQLITE_STATIC: no copy; the rows outlive this step, and every insert rebinds all
            // parameters before stepping again.
            sqlite3_bind_text(s, index++, value.data(), static_cast<int>(value.size()),
                              SQLITE_STATIC);
          } else {
            sqlite3_bind_int64(s, index++, value);
          }
        });
      }
      if (sqlite3_step(s) != SQLITE_DONE) {
        auto error = failure("insert");  // before the reset, which clears the message
        sqlite3_reset(s);
        rollback();
        return error;
      }
      sqlite3_reset(s);
      inserted += static_cast<std::size_t>(sqlite3_changes(db_));  // rows not already present
      rows = rows.subspan(count);
    }
    if (auto ok = exec("COMMIT"); !ok) {
      rollback();
      return ok.error();
    }
    return inserted;
  }

  // Ends a failed transaction; its own failure changes nothing.
  void rollback() { (void)exec("ROLLBACK"); }

  static std::string column_text(sqlite3_stmt* s, int index) {
    auto* p = sqlite3_column_text(s, index);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s, index)))
             : std::string();
  }
  Error failure(std::string_view what) const {
    return Error{ErrorCode::kUnavailable,
                 "sqlite " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_)};
  }

  sqlite3* db_;
  std::string path_;
  std::unique_ptr<Statement> insert_usage_;  // one row
  std::unique_ptr<Statement> insert_prompt_log_;
  std::unique_ptr<Statement> insert_usages_;  // kRowsPerStatement rows
  std::unique_ptr<Statement> insert_prompt_logs_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{ErrorCode::kUnavailable, "sqlite " + path + ": " + message};
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db, path);
  if (auto ok = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !ok) {
    return ok.error();
  }
  if (auto ok = store->exec(sql::schema(sql::Dialect::kSqlite).c_str()); !ok) return ok.error();
  if (auto ok = store->add_missing_columns(); !ok) return ok.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sluice::usage
