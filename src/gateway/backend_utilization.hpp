#pragma once
// The utilisation a backend reports about itself: Azure OpenAI provisioned (PTU) deployments send
// `azure-openai-deployment-utilization: 42.5%` with every answer. The gateway keeps the last figure
// and when it came, per backend, for the console and /metrics; a figure older than
// kUtilizationFreshFor is shown as not reported (the backend may have stopped sending it, or no
// traffic went there since).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sluice/http/asio.hpp"

namespace sluice::gateway {

inline constexpr std::string_view kUtilizationHeader = "azure-openai-deployment-utilization";
inline constexpr std::chrono::seconds kUtilizationFreshFor{60};

// "42.5%" (the % optional, surrounding blanks allowed) → 42.5. Values above 100 are kept: an
// over-committed PTU deployment reports them before it answers 429. Negative, non-finite, above
// kMaxUtilizationPercent or not a number → nullopt (the header is ignored).
inline constexpr double kMaxUtilizationPercent = 1000.0;
std::optional<double> parse_utilization_percent(std::string_view text);

struct UtilizationReading {
  double percent = 0;
  std::chrono::milliseconds age{0};
};

class BackendUtilization {
 public:
  // Reads the header from a backend's answer, if there. Any worker thread, on the response path:
  // one header look-up, and when it is there a clock read and two relaxed atomic stores, no lock.
  void note(const http::Fields& response_header);
  void record(double percent, std::chrono::system_clock::time_point now);

  // The last figure if one came within kUtilizationFreshFor of `now`. Any thread. The figure and
  // its time are two atomics: a reader racing a writer may pair a new figure with the previous
  // time, which is at most one answer apart and harmless for a display.
  std::optional<UtilizationReading> fresh(std::chrono::system_clock::time_point now) const;

 private:
  std::atomic<double> percent_{0};
  std::atomic<std::int64_t> reported_at_ms_{0};  // system clock; 0 = never
};

}  // namespace sluice::gateway
