#pragma once
// Azure OpenAI data-plane api-version rules: which versions exist, and which features a version
// accepts (stream_options and usage details arrived in 2024-09-01-preview; 2024-10-21 is the
// first GA version with them).
#include <optional>
#include <string_view>

namespace sluice::sim {

struct ApiVersion {
  int date = 0;  // yyyymmdd
  bool preview = false;
  bool v1 = false;  // the /openai/v1 API ("v1", "preview", "latest" or absent)

  bool accepts_stream_options() const { return v1 || date >= 20240901; }
  bool reports_usage_details() const { return v1 || date >= 20240901; }
};

// Known versions, and any well-formed "YYYY-MM-DD[-preview]" after the newest known one (the
// service keeps adding versions). nullopt: "API version not supported".
std::optional<ApiVersion> parse_api_version(std::string_view text);

}  // namespace sluice::sim
