#include "gateway/request_body_scan.hpp"

#include <array>
#include <optional>

#include "gateway/json_scan.hpp"

namespace sluice::gateway {

namespace {

// Which object a value belongs to (0: one nothing is read from).
enum Role : int { kTop = 1, kStreamOptions };

// The top-level keys read, in slot order; stream_options (2) is an object read for include_usage.
constexpr std::array<std::string_view, 5> kTopKeys = {"model", "stream", "stream_options",
                                                      "max_tokens", "max_completion_tokens"};

// Each key at its first occurrence, as simdjson's object[key] and at_pointer() find it; a value
// of the wrong type is left unset, as a failed get_string(), get_bool() or get_int64() leaves it.
struct RequestReader {
  std::array<bool, 5> seen{};
  bool include_usage_seen = false;
  std::optional<std::string_view> model;
  std::optional<bool> stream;
  std::optional<bool> include_usage;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> max_completion_tokens;

  int slot_of(int role, std::string_view key) const {
    if (role == kStreamOptions) return key == "include_usage" && !include_usage_seen ? 0 : -1;
    for (std::size_t i = 0; i < kTopKeys.size(); ++i) {
      if (key == kTopKeys[i]) return seen[i] ? -1 : static_cast<int>(i);
    }
    return -1;
  }

  static int child_role(int role, int slot) {
    return role == kTop && slot == 2 ? kStreamOptions : 0;
  }

  // False for a model's name with an escape: it would have to be unescaped.
  bool keep(int role, int slot, const JsonScalar& item) {
    const auto boolean =
        item.is_bool() ? std::optional(item.kind == JsonScalar::Kind::kTrue) : std::nullopt;
    const auto integer = item.is_integer() ? std::optional(item.integer) : std::nullopt;
    if (role == kStreamOptions) {
      include_usage_seen = true;
      include_usage = boolean;
      return true;
    }
    seen[slot] = true;
    switch (slot) {
      case 0:
        if (item.kind != JsonScalar::Kind::kString) return true;
        model = item.text;
        return !item.escaped;
      case 1:
        stream = boolean;
        return true;
      case 3:
        max_tokens = integer;
        return true;
      case 4:
        max_completion_tokens = integer;
        return true;
    }
    return true;
  }
};

}  // namespace

bool scan_request_body(std::string_view body, RequestBodyInfo& info) {
  RequestReader reader;
  if (JsonScan(body, reader).run(kTop) != JsonVerdict::kValid) return false;
  if (reader.model) info.model = std::string(*reader.model);
  if (reader.stream) info.stream = *reader.stream;
  if (reader.include_usage) info.include_usage = *reader.include_usage;
  if (reader.max_tokens) {
    info.max_tokens = reader.max_tokens;
  } else if (reader.max_completion_tokens) {
    info.max_tokens = reader.max_completion_tokens;
  }
  info.parsed = true;
  info.document_source = nullptr;
  info.document_generation = 0;
  return true;
}

}  // namespace sluice::gateway
