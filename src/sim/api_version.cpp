#include "sim/api_version.hpp"

#include <algorithm>
#include <array>

namespace sluice::sim {

namespace {
constexpr std::array<std::string_view, 30> kKnown = {
    "2022-12-01",         "2023-05-15",         "2024-02-01",         "2024-06-01",
    "2024-10-21",         "2023-03-15-preview", "2023-06-01-preview", "2023-07-01-preview",
    "2023-08-01-preview", "2023-09-01-preview", "2023-10-01-preview", "2023-12-01-preview",
    "2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview", "2024-05-01-preview",
    "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
    "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview",
    "2025-04-01-preview", "2022-03-01-preview", "2022-06-01-preview", "2023-01-01-preview",
    "2023-02-01-preview", "2024-11-01-preview",
};
constexpr int kNewestKnown = 20250401;

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::optional<ApiVersion> parse_api_version(std::string_view text) {
  ApiVersion v;
  if (text == "v1" || text == "preview" || text == "latest") {
    v.v1 = true;
    return v;
  }
  std::string_view date = text;
  if (date.size() > 8 && date.substr(date.size() - 8) == "-preview") {
    v.preview = true;
    date.remove_suffix(8);
  }
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' || !digits(date.substr(0, 4)) ||
      !digits(date.substr(5, 2)) || !digits(date.substr(8, 2))) {
    return std::nullopt;
  }
  int y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
  int m = (date[5] - '0') * 10 + (date[6] - '0');
  int d = (date[8] - '0') * 10 + (date[9] - '0');
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  v.date = y * 10000 + m * 100 + d;
  if (v.date > kNewestKnown) return v;
  if (std::find(kKnown.begin(), kKnown.end(), text) == kKnown.end()) return std::nullopt;
  return v;
}

}  // namespace sluice::sim
