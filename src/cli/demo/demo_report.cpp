#include "cli/demo/demo_report.hpp"

#include <sqlite3.h>

#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include <boost/json.hpp>

namespace sluice::cli::demo {

namespace {

namespace json = boost::json;

using Row = std::vector<std::string>;

core::Error db_error(const std::filesystem::path& db, const std::string& what) {
  return core::Error{core::ErrorCode::kUnavailable, db.string() + ": " + what};
}

// Runs a read-only query; every column comes back as text.
core::Result<std::vector<Row>> query(const std::filesystem::path& db, const char* sql) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : "cannot open";
    sqlite3_close(raw);
    return db_error(db, message);
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> conn(raw, &sqlite3_close);
  sqlite3_busy_timeout(conn.get(), 5000);
  sqlite3_stmt* stmt_raw = nullptr;
  if (sqlite3_prepare_v2(conn.get(), sql, -1, &stmt_raw, nullptr) != SQLITE_OK) {
    return db_error(db, sqlite3_errmsg(conn.get()));
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(stmt_raw, &sqlite3_finalize);
  std::vector<Row> rows;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(stmt.get()); ++i) {
      auto* text = sqlite3_column_text(stmt.get(), i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return db_error(db, sqlite3_errmsg(conn.get()));
  return rows;
}

std::int64_t to_int(const std::string& s) {
  return s.empty() ? 0 : std::stoll(s);
}

std::string app_name(const DemoScenario& scenario, const std::string& app_id) {
  if (app_id.empty()) return "(none)";
  if (const auto* app = scenario.app_by_client_id(app_id)) return app->name;
  return app_id;
}

std::string format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::int64_t json_int(const json::value* v) {
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return 0;
}

}  // namespace

core::Result<std::int64_t> store_total_tokens(const std::filesystem::path& db) {
  auto rows = query(db, "SELECT COALESCE(SUM(total_tokens), 0) FROM sluice_usage");
  if (!rows) return rows.error();
  return to_int(rows->at(0).at(0));
}

core::Result<std::string> chargeback_table(const std::filesystem::path& db,
                                           const DemoScenario& scenario) {
  // status 429 covers both the gateway's own token limit and "every backend throttled".
  auto rows = query(db,
                    "SELECT app_id, deployment, "
                    "CASE WHEN cache != '' THEN '(cache)' ELSE backend END AS served_by, "
                    "COUNT(*), SUM(streamed), "
                    "SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens), "
                    "SUM(status = 429), SUM(status >= 500) FROM sluice_usage "
                    "GROUP BY app_id, deployment, served_by "
                    "ORDER BY app_id, SUM(total_tokens) DESC");
  if (!rows) return rows.error();
  std::int64_t all_tokens = 0;
  for (const auto& r : *rows) all_tokens += to_int(r[7]);
  std::string out = format("%-14s %-10s %-20s %8s %8s %9s %10s %10s %7s %9s %6s\n", "app",
                           "deployment", "backend", "requests", "streamed", "prompt", "completion",
                           "total", "share", "throttled", "5xx");
  std::int64_t totals[7] = {};
  for (const auto& r : *rows) {
    std::int64_t tokens = to_int(r[7]);
    double share =
        all_tokens ? 100.0 * static_cast<double>(tokens) / static_cast<double>(all_tokens) : 0;
    out += format("%-14s %-10s %-20s %8lld %8lld %9lld %10lld %10lld %6.1f%% %9lld %6lld\n",
                  app_name(scenario, r[0]).c_str(), r[1].c_str(),
                  r[2].empty() ? "- (not sent)" : r[2].c_str(), (long long)to_int(r[3]),
                  (long long)to_int(r[4]), (long long)to_int(r[5]), (long long)to_int(r[6]),
                  (long long)tokens, share, (long long)to_int(r[8]), (long long)to_int(r[9]));
    for (int i = 0; i < 7; ++i) totals[i] += to_int(r[3 + i]);
  }
  out += format("%-14s %-10s %-20s %8lld %8lld %9lld %10lld %10lld %6.1f%% %9lld %6lld\n", "total",
                "", "", (long long)totals[0], (long long)totals[1], (long long)totals[2],
                (long long)totals[3], (long long)totals[4], all_tokens ? 100.0 : 0.0,
                (long long)totals[5], (long long)totals[6]);
  return out;
}

core::Result<std::string> cache_text(const std::filesystem::path& db,
                                     const DemoScenario& scenario) {
  auto rows = query(db,
                    "SELECT app_id, deployment, COUNT(*), SUM(cache != ''), SUM(tokens_saved) "
                    "FROM sluice_usage GROUP BY app_id, deployment ORDER BY app_id");
  if (!rows) return rows.error();
  std::string out = format("%-14s %-10s %8s %10s %9s %12s\n", "app", "deployment", "requests",
                           "cache_hits", "hit_ratio", "tokens_saved");
  for (const auto& r : *rows) {
    auto requests = to_int(r[2]);
    auto hits = to_int(r[3]);
    out +=
        format("%-14s %-10s %8lld %10lld %8.1f%% %12lld\n", app_name(scenario, r[0]).c_str(),
               r[1].c_str(), (long long)requests, (long long)hits,
               requests ? 100.0 * static_cast<double>(hits) / static_cast<double>(requests) : 0.0,
               (long long)to_int(r[4]));
  }
  return out;
}

core::Result<std::int64_t> store_cache_hits(const std::filesystem::path& db) {
  auto rows = query(db, "SELECT COUNT(*) FROM sluice_usage WHERE cache != ''");
  if (!rows) return rows.error();
  return to_int(rows->at(0).at(0));
}

core::Result<std::string> failover_text(const std::filesystem::path& db,
                                        const std::string& backends_json,
                                        const std::string& sim_usage_json,
                                        const DemoScenario& scenario) {
  auto rows = query(db,
                    "SELECT COUNT(*), SUM(attempts > 1), SUM(attempts > 1 AND status < 400), "
                    "SUM(backend != '' AND attempts = 1) FROM sluice_usage");
  if (!rows) return rows.error();
  const auto& r = rows->at(0);
  std::string out = format(
      "requests: %lld recorded, %lld answered by the first backend tried, %lld needed more than "
      "one attempt (%lld of those then succeeded)\n",
      (long long)to_int(r[0]), (long long)to_int(r[3]), (long long)to_int(r[1]),
      (long long)to_int(r[2]));
  auto served = query(db,
                      "SELECT backend, COUNT(*), SUM(attempts > 1) FROM sluice_usage WHERE "
                      "backend != '' AND status < 400 GROUP BY backend ORDER BY backend");
  if (!served) return served.error();
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> served_by;
  for (const auto& s : *served) served_by[s[0]] = {to_int(s[1]), to_int(s[2])};

  json::value backends, sim;
  boost::system::error_code ec;
  backends = json::parse(backends_json, ec);
  if (ec) return core::Error{core::ErrorCode::kInvalidArgument, "/admin/backends: " + ec.message()};
  sim = json::parse(sim_usage_json, ec);
  if (ec) return core::Error{core::ErrorCode::kInvalidArgument, "/sim/usage: " + ec.message()};
  const json::object* sim_deployments = nullptr;
  if (auto* d = sim.as_object().if_contains("deployments")) sim_deployments = d->if_object();

  out +=
      format("%-20s %-14s %-9s %8s %8s %9s %7s %7s %8s  %s\n", "backend", "region", "priority",
             "attempts", "served", "throttled", "errors", "trips", "breaker", "why (last error)");
  for (const auto& b : backends.as_object().at("backends").as_array()) {
    const auto& o = b.as_object();
    std::string name = json::value_to<std::string>(o.at("name"));
    const DemoRegion* region = scenario.region_by_backend(name);
    std::int64_t sim_throttled = 0, sim_errors = 0;
    if (region && sim_deployments) {
      if (auto* d = sim_deployments->if_contains(region->deployment)) {
        sim_throttled = json_int(d->as_object().if_contains("throttled"));
        sim_errors = json_int(d->as_object().if_contains("errors"));
      }
    }
    std::string breaker = "-";
    std::int64_t trips = 0;
    if (auto* pools = o.if_contains("pools"); pools && !pools->as_array().empty()) {
      const auto& m = pools->as_array().front().as_object();
      breaker = json::value_to<std::string>(m.at("breaker"));
      trips = json_int(m.if_contains("breaker_trips"));
    }
    std::string last_error;
    if (auto* e = o.if_contains("last_error"); e && e->is_string())
      last_error = e->as_string().c_str();
    // throttled/errors: what the simulator itself refused on that deployment.
    out += format("%-20s %-14s %-9s %8lld %8lld %9lld %7lld %7lld %8s  %s\n", name.c_str(),
                  region ? region->region.c_str() : "?",
                  region ? (region->provisioned ? "1 (PTU)" : "2 (PAYG)") : "?",
                  (long long)json_int(o.if_contains("requests")), (long long)served_by[name].first,
                  (long long)sim_throttled, (long long)sim_errors, (long long)trips,
                  breaker.c_str(), last_error.empty() ? "-" : last_error.c_str());
  }
  return out;
}

}  // namespace sluice::cli::demo
