#include "gateway/console/chargeback_range.hpp"

#include "sluice/core/duration.hpp"
#include "sluice/gateway/operation.hpp"

namespace sluice::gateway::console {

namespace {

std::string file_safe(std::string text) {
  for (auto& c : text) {
    if (c == ':') c = '-';
  }
  return text;
}

}  // namespace

ChargebackRangeResult chargeback_range(std::string_view query, UtcMicros now) {
  auto refuse = [](std::string code, std::string message) {
    return ChargebackRangeResult{std::nullopt, RangeRefusal{std::move(code), std::move(message)}};
  };
  const auto since_text = query_parameter(query, "since");
  const auto from_text = query_parameter(query, "from");
  const auto until_text = query_parameter(query, "until");
  ChargebackRange result;

  if (from_text.empty() && until_text.empty()) {
    result.since = since_text.empty() ? "24h" : since_text;
    auto since = core::parse_duration(result.since);
    if (!since)
      return refuse("invalid_since", "since=" + result.since + ": " + since.error().message);
    result.range.since_us = (now - std::chrono::duration_cast<std::chrono::microseconds>(*since))
                                .time_since_epoch()
                                .count();
    result.label = result.since;
    return {std::move(result), std::nullopt};
  }
  if (!since_text.empty()) {
    return refuse("invalid_range", "since=" + since_text +
                                       " together with from= or until=: give either a duration "
                                       "(since) or a from-until range, not both");
  }
  std::optional<UtcMicros> from;
  std::optional<UtcMicros> until;
  if (!from_text.empty() && !(from = parse_utc_timestamp(from_text))) {
    return refuse("invalid_from",
                  "from=" + from_text + ": " + std::string(core::kUtcTimestampExpected));
  }
  if (!until_text.empty() && !(until = parse_utc_timestamp(until_text))) {
    return refuse("invalid_until",
                  "until=" + until_text + ": " + std::string(core::kUtcTimestampExpected));
  }
  if (from && until && *from >= *until) {
    return refuse("invalid_range", "from=" + from_text + " is not before until=" + until_text +
                                       ": the range starts at `from` and ends before `until`");
  }
  if (from) {
    result.range.since_us = from->time_since_epoch().count();
    result.from = format_utc_timestamp(*from);
  }
  if (until) {
    result.range.until_us = until->time_since_epoch().count();
    result.until = format_utc_timestamp(*until);
  }
  result.label = file_safe((result.from.empty() ? "start" : result.from) + "_" +
                           (result.until.empty() ? "now" : result.until));
  return {std::move(result), std::nullopt};
}

}  // namespace sluice::gateway::console
