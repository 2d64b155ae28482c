#pragma once
// The console's JSON API, one function per view, each reading the same state its command-line
// or /admin counterpart reads: the runtime (as /admin/backends), the usage store through the code
// of `sluice usage report`, the prompt log's file, the loaded config. docs/console.md lists the
// routes and their fields. Called on the admin listener after authorize() let the caller in.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "gateway/console/console_settings.hpp"
#include "gateway/console/reload_status.hpp"
#include "gateway/console/traffic_ring.hpp"
#include "gateway/runtime.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway::console {

// Minutes the backends view sums for "recent" 429s, 5xx and failovers.
inline constexpr int kRecentMinutes = 5;

struct ApiReply {
  http::Status status = http::Status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::string download_name;  // set: sent as an attachment with this file name

  static ApiReply json(std::string body, http::Status status = http::Status::ok) {
    ApiReply reply;
    reply.status = status;
    reply.body = std::move(body);
    return reply;
  }
  // {"error": {"code", "message"}}
  static ApiReply error(http::Status status, std::string_view code, std::string_view message);
};

// /admin/backends' document, each backend with `recent` counts from `traffic` (may be null).
boost::json::object backends_view(const Runtime& runtime, const TrafficRing* traffic,
                                  std::int64_t now_minute);

// Requests and tokens per minute, per app and per deployment, for the last `minutes` minutes,
// and the token limits' headroom per limit and counter key (`limits`).
boost::json::object traffic_view(const Runtime& runtime, const TrafficRing* traffic,
                                 std::int64_t now_minute, int minutes);

// Most headroom rows the traffic view lists (counters keyed by client IP can be many).
inline constexpr std::size_t kMaxHeadroomRows = 500;

// `sluice usage report` over the console's store: query `since` (duration, default 24h) or
// `from`/`until` (UTC, chargeback_range.hpp), `by` (comma-separated columns, default
// app,deployment,backend), `format` (json or csv). Blocking store I/O.
ApiReply chargeback_view(const ConsoleSettings& settings, std::string_view query);

// The newest prompt log entries: query `app`, `since` (duration, default 24h), `q` (text), `limit`.
ApiReply prompts_view(const ConsoleSettings& settings, std::string_view query);

// The running config, masked, with its load time and the last reload's result.
boost::json::object config_view(const ConsoleSettings& settings, const ReloadStatus& reloads);

}  // namespace sluice::gateway::console
