#include <chrono>

#include <boost/json.hpp>

#include "gateway/console/chargeback_range.hpp"
#include "gateway/console/console_views.hpp"
#include "sluice/gateway/operation.hpp"
#include "sluice/usage/report.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway::console {

namespace {

std::string or_default(std::string value, std::string fallback) {
  return value.empty() ? fallback : value;
}

boost::json::value text_or_null(const std::string& text) {
  return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

}  // namespace

ApiReply chargeback_view(const ConsoleSettings& settings, std::string_view query) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto period = chargeback_range(query, now);
  if (period.refusal) {
    return ApiReply::error(http::Status::bad_request, period.refusal->code,
                           period.refusal->message);
  }
  const auto& range = *period.range;
  auto columns = usage::parse_report_columns(
      or_default(query_parameter(query, "by"), "app,deployment,backend"));
  if (!columns)
    return ApiReply::error(http::Status::bad_request, "invalid_by", columns.error().message);
  const bool csv = query_parameter(query, "format") == "csv";
  if (settings.usage_store.empty()) {
    return ApiReply::error(http::Status::not_found, "no_usage_store",
                           "no usage store: configure the `usage` policy or console.usage_store");
  }
  // One connection per view: the admin listener is not the request path, and a Store is one
  // connection for one thread at a time.
  auto store = usage::open_store(settings.usage_store);
  if (!store) {
    return ApiReply::error(
        http::Status::service_unavailable, "usage_store_unavailable",
        usage::redact_store_url(settings.usage_store) + ": " + store.error().message);
  }
  auto summary = (*store)->summarize(range.range, *columns);
  if (!summary) {
    return ApiReply::error(http::Status::service_unavailable, "usage_store_unavailable",
                           summary.error().message);
  }
  const auto* prices = settings.prices ? &*settings.prices : nullptr;
  auto report = usage::build_report(*summary, *columns, prices);
  if (csv) {
    ApiReply reply;
    reply.content_type = "text/csv; charset=utf-8";
    reply.body = usage::format_report(report, usage::ReportFormat::kCsv);
    reply.download_name = "sluice-chargeback-" + range.label + ".csv";
    return reply;
  }
  auto body = boost::json::parse(usage::format_report(report, usage::ReportFormat::kJson));
  auto& object = body.as_object();
  // `since` for a duration, `from`/`until` for a range (null: open at that end).
  object["since"] = text_or_null(range.since);
  object["from"] = text_or_null(range.from);
  object["until"] = text_or_null(range.until);
  object["since_us"] = range.range.since_us;
  if (!range.until.empty()) object["until_us"] = range.range.until_us;
  object["store"] = usage::redact_store_url(settings.usage_store);
  object["priced"] = report.priced;
  return ApiReply::json(boost::json::serialize(body));
}

ApiReply ApiReply::error(http::Status status, std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object body;
  body["error"] = std::move(error);
  return json(boost::json::serialize(body), status);
}

}  // namespace sluice::gateway::console
