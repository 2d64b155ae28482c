#include <chrono>

#include <boost/json.hpp>

#include "gateway/console/console_views.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/gateway/operation.hpp"
#include "sluice/usage/report.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway::console {

namespace {

std::string or_default(std::string value, std::string fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

ApiReply chargeback_view(const ConsoleSettings& settings, std::string_view query) {
  const auto since_text = or_default(query_parameter(query, "since"), "24h");
  auto since = core::parse_duration(since_text);
  if (!since) {
    return ApiReply::error(http::Status::bad_request, "invalid_since",
                           "since=" + since_text + ": " + since.error().message);
  }
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
  auto now = std::chrono::system_clock::now();
  auto since_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      now.time_since_epoch() -
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(*since))
                      .count();
  auto summary = (*store)->summarize(since_us, *columns);
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
    reply.download_name = "sluice-chargeback-" + since_text + ".csv";
    return reply;
  }
  auto body = boost::json::parse(usage::format_report(report, usage::ReportFormat::kJson));
  auto& object = body.as_object();
  object["since"] = since_text;
  object["since_us"] = since_us;
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
