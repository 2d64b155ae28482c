// `sluice usage`: chargeback reports from the usage store, and shipping a journal by hand.
//   sluice usage report --store URL --by app,deployment,backend
//                       [--since 24h | --from 2026-12-01T00:00Z --until 2026-12-02T00:00Z]
//                       [--format table|csv|json] [--prices FILE]
//   sluice usage ship --journal DIR --store URL     (a journal no gateway is running on)
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/core/utc_timestamp.hpp"
#include "sluice/usage/report.hpp"
#include "sluice/usage/shipper.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::cli {

namespace {

struct UsageOptions {
  std::string store;
  std::string by = "app,deployment,backend";
  std::string since;  // default 24h, unless --from/--until
  std::string from;
  std::string until;
  std::string format = "table";
  std::string prices;
  std::string journal;
};

// The period of a report: --since (a duration back from `now`, default 24h), or --from and/or
// --until (UTC instants; an open end is unbounded). Every problem is printed; nullopt if any.
std::optional<usage::TimeRange> report_range(const UsageOptions& o,
                                             std::chrono::system_clock::time_point now) {
  using std::chrono::microseconds;
  bool ok = true;
  auto complain = [&](const std::string& option, const std::string& value, std::string_view why) {
    std::fprintf(stderr, "sluice usage report: %s %s: %.*s\n", option.c_str(), value.c_str(),
                 static_cast<int>(why.size()), why.data());
    ok = false;
  };
  usage::TimeRange range;
  if (o.from.empty() && o.until.empty()) {
    const std::string since_text = o.since.empty() ? "24h" : o.since;
    auto since = core::parse_duration(since_text);
    if (!since) {
      complain("--since", since_text, since.error().message);
      return std::nullopt;
    }
    range.since_us =
        std::chrono::duration_cast<microseconds>(
            (now - std::chrono::duration_cast<std::chrono::system_clock::duration>(*since))
                .time_since_epoch())
            .count();
    return range;
  }
  if (!o.since.empty()) {
    complain("--since", o.since,
             "give either --since or --from/--until, not both (--since counts back from now)");
  }
  std::optional<core::UtcMicros> from;
  std::optional<core::UtcMicros> until;
  if (!o.from.empty() && !(from = core::parse_utc_timestamp(o.from))) {
    complain("--from", o.from, core::kUtcTimestampExpected);
  }
  if (!o.until.empty() && !(until = core::parse_utc_timestamp(o.until))) {
    complain("--until", o.until, core::kUtcTimestampExpected);
  }
  if (from && until && *from >= *until) {
    complain("--from", o.from, "must be before --until " + o.until);
  }
  if (!ok) return std::nullopt;
  if (from) range.since_us = from->time_since_epoch().count();
  if (until) range.until_us = until->time_since_epoch().count();
  return range;
}

int run_report(const UsageOptions& o) {
  auto columns = usage::parse_report_columns(o.by);
  if (!columns) {
    std::fprintf(stderr, "sluice usage report: --by: %s\n", columns.error().message.c_str());
    return 2;
  }
  auto range = report_range(o, std::chrono::system_clock::now());
  if (!range) return 2;
  usage::ReportFormat format = o.format == "csv"    ? usage::ReportFormat::kCsv
                               : o.format == "json" ? usage::ReportFormat::kJson
                                                    : usage::ReportFormat::kTable;
  std::optional<usage::PriceTable> prices;
  if (!o.prices.empty()) prices = usage::PriceTable::load(o.prices);
  auto store = usage::open_store(o.store);
  if (!store) {
    std::fprintf(stderr, "sluice usage report: %s\n", store.error().message.c_str());
    return 1;
  }
  auto rows = (*store)->summarize(*range, *columns);
  if (!rows) {
    std::fprintf(stderr, "sluice usage report: %s\n", rows.error().message.c_str());
    return 1;
  }
  auto report = usage::build_report(*rows, *columns, prices ? &*prices : nullptr);
  auto text = usage::format_report(report, format);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

int run_ship(const UsageOptions& o) {
  usage::Shipper shipper(o.journal, {.store_url = o.store}, nullptr);
  auto shipped = shipper.ship_once();
  if (!shipped) {
    std::fprintf(stderr, "sluice usage ship: %s\n", shipped.error().message.c_str());
    return 1;
  }
  std::printf("shipped %zu new records (%llu already in the store, %llu damaged lines skipped)\n",
              *shipped, static_cast<unsigned long long>(shipper.stats().duplicates.load()),
              static_cast<unsigned long long>(shipper.stats().corrupt_lines.load()));
  return 0;
}

}  // namespace

Command add_usage_command(CLI::App& root) {
  auto options = std::make_shared<UsageOptions>();
  auto* app = root.add_subcommand("usage", "Chargeback reports from the usage store");
  app->require_subcommand(1);
  auto* report = app->add_subcommand("report", "Requests, tokens, share and cost per group");
  report->add_option("--store", options->store, "Usage store: SQLite file or postgresql:// URL")
      ->required();
  report
      ->add_option("--by", options->by,
                   "Comma-separated grouping: app, key, client_ip, route, deployment, model, "
                   "backend, operation, status, source, cache, streamed, day, request_id")
      ->capture_default_str();
  report->add_option("--since", options->since,
                     "Records started within this long (e.g. 24h, 7d; default 24h)");
  report->add_option("--from", options->from,
                     "Records started at or after this UTC time (2026-12-01T00:00Z)");
  report->add_option("--until", options->until,
                     "Records started before this UTC time (2026-12-02T00:00Z)");
  report->add_option("--format", options->format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  report->add_option("--prices", options->prices, "Price table (YAML, per 1K tokens per model)")
      ->check(CLI::ExistingFile);
  auto* ship = app->add_subcommand("ship", "Ship a journal no gateway is running on to a store");
  ship->add_option("--journal", options->journal, "Journal directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  ship->add_option("--store", options->store, "Usage store: SQLite file or postgresql:// URL")
      ->required();
  return {app, [options, report, ship]() -> int {
            if (report->parsed()) return run_report(*options);
            if (ship->parsed()) return run_ship(*options);
            return 2;
          }};
}

}  // namespace sluice::cli
