#include "gateway/backend_utilization.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "http/first_field.hpp"

namespace sluice::gateway {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

}  // namespace

std::optional<double> parse_utilization_percent(std::string_view text) {
  text = trim(text);
  if (text.ends_with('%')) text = trim(text.substr(0, text.size() - 1));
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value) || value < 0 || value > kMaxUtilizationPercent) return std::nullopt;
  return value;
}

void BackendUtilization::note(const http::Fields& response_header) {
  auto value = http::first_field(response_header, kUtilizationHeader);
  if (!value) return;
  if (auto percent = parse_utilization_percent(*value))
    record(*percent, std::chrono::system_clock::now());
}

void BackendUtilization::record(double percent, std::chrono::system_clock::time_point now) {
  percent_.store(percent, std::memory_order_relaxed);
  // At least 1: 0 means "never reported".
  reported_at_ms_.store(std::max<std::int64_t>(1, epoch_ms(now)), std::memory_order_relaxed);
}

std::optional<UtilizationReading> BackendUtilization::fresh(
    std::chrono::system_clock::time_point now) const {
  auto at = reported_at_ms_.load(std::memory_order_relaxed);
  if (at == 0) return std::nullopt;
  std::chrono::milliseconds age{std::max<std::int64_t>(0, epoch_ms(now) - at)};
  if (age > kUtilizationFreshFor) return std::nullopt;
  return UtilizationReading{percent_.load(std::memory_order_relaxed), age};
}

}  // namespace sluice::gateway
