#include <algorithm>
#include <charconv>
#include <chrono>

#include <boost/json.hpp>

#include "gateway/console/console_views.hpp"
#include "gateway/console/prompt_log_tail.hpp"
#include "sluice/core/duration.hpp"
#include "sluice/gateway/operation.hpp"

namespace sluice::gateway::console {

namespace {
constexpr std::size_t kMaxEntries = 500;
}  // namespace

ApiReply prompts_view(const ConsoleSettings& settings, std::string_view query) {
  PromptLogQuery q;
  q.app = query_parameter(query, "app");
  q.text = query_parameter(query, "q");
  auto since_text = query_parameter(query, "since");
  if (since_text.empty()) since_text = "24h";
  auto since = core::parse_duration(since_text);
  if (!since) {
    return ApiReply::error(http::Status::bad_request, "invalid_since",
                           "since=" + since_text + ": " + since.error().message);
  }
  auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  q.since_us = now_us - std::chrono::duration_cast<std::chrono::microseconds>(*since).count();
  auto limit_text = query_parameter(query, "limit");
  std::size_t limit = 50;
  if (!limit_text.empty()) {
    std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
  }
  q.limit = std::min(limit, kMaxEntries);

  boost::json::object body;
  body["file"] = settings.prompt_log_file.empty()
                     ? boost::json::value(nullptr)
                     : boost::json::value(settings.prompt_log_file.string());
  body["entries"] = read_prompt_log_tail(settings.prompt_log_file, q);
  return ApiReply::json(boost::json::serialize(body));
}

}  // namespace sluice::gateway::console
