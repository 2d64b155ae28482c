#include "gateway/usage_scan.hpp"

#include <array>

#include "gateway/json_scan.hpp"

namespace sluice::gateway {

namespace {

// The usage object's keys, in TokenUsage's order; the two details objects are entries 3 and 4.
constexpr std::array<std::string_view, 5> kUsageKeys = {"prompt_tokens", "completion_tokens",
                                                        "total_tokens", "prompt_tokens_details",
                                                        "completion_tokens_details"};

// Which object a value belongs to (0: one nothing is read from).
enum Role : int { kTop = 1, kUsage, kPromptDetails, kCompletionDetails };

// The first occurrence of each key read, as simdjson's object[key] (and extract_usage's one-pass
// look-up) finds it.
struct Found {
  bool model_seen = false;
  bool model_is_string = false;
  std::string_view model;
  bool usage_seen = false;
  bool usage_is_object = false;
  std::array<bool, 5> seen{};
  std::array<std::int64_t, 3> counts{};  // prompt, completion, total; 0 when not an integer
  std::array<bool, 2> details_is_object{};
  std::array<bool, 2> detail_seen{};
  std::array<std::int64_t, 2> details{};  // cached_tokens, reasoning_tokens
};

struct UsageReader {
  Found found;

  int slot_of(int role, std::string_view key) const {
    switch (role) {
      case kTop:
        if (key == "model" && !found.model_seen) return 0;
        if (key == "usage" && !found.usage_seen) return 1;
        return -1;
      case kUsage:
        for (std::size_t i = 0; i < kUsageKeys.size(); ++i) {
          if (key == kUsageKeys[i]) return found.seen[i] ? -1 : static_cast<int>(i);
        }
        return -1;
      case kPromptDetails:
        return key == "cached_tokens" && !found.detail_seen[0] ? 0 : -1;
      case kCompletionDetails:
        return key == "reasoning_tokens" && !found.detail_seen[1] ? 0 : -1;
    }
    return -1;
  }

  static int child_role(int role, int slot) {
    if (role == kTop && slot == 1) return kUsage;
    if (role == kUsage && slot == 3) return kPromptDetails;
    if (role == kUsage && slot == 4) return kCompletionDetails;
    return 0;
  }

  // False for a model's name with an escape: it would have to be unescaped.
  bool keep(int role, int slot, const JsonScalar& item) {
    const auto integer = item.is_integer() ? item.integer : 0;
    const bool object = item.kind == JsonScalar::Kind::kObject;
    switch (role) {
      case kTop:
        if (slot == 0) {
          found.model_seen = true;
          found.model_is_string = item.kind == JsonScalar::Kind::kString;
          found.model = item.text;
          return !(found.model_is_string && item.escaped);
        }
        found.usage_seen = true;
        found.usage_is_object = object;
        return true;
      case kUsage:
        found.seen[slot] = true;
        if (slot < 3) {
          found.counts[slot] = integer;
        } else {
          found.details_is_object[slot - 3] = object;
        }
        return true;
      case kPromptDetails:
      case kCompletionDetails: {
        const int which = role == kPromptDetails ? 0 : 1;
        found.detail_seen[which] = true;
        found.details[which] = integer;
        return true;
      }
    }
    return true;
  }
};

}  // namespace

std::optional<bool> scan_usage(std::string_view body, TokenUsage& usage, std::string& model) {
  UsageReader reader;
  switch (JsonScan(body, reader).run(kTop)) {
    case JsonVerdict::kUndecided:
      return std::nullopt;
    case JsonVerdict::kInvalid:
      return false;
    case JsonVerdict::kValid:
      break;
  }
  const Found& found = reader.found;
  if (found.model_is_string) model.assign(found.model);
  if (!found.usage_seen || !found.usage_is_object) return false;
  usage.prompt_tokens = found.counts[0];
  usage.completion_tokens = found.counts[1];
  usage.total_tokens = found.counts[2];
  // A details object sets its count (0 when it lacks the key); an absent one leaves it alone.
  if (found.details_is_object[0]) usage.cached_tokens = found.details[0];
  if (found.details_is_object[1]) usage.reasoning_tokens = found.details[1];
  if (usage.total_tokens == 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.source = UsageSource::kReported;
  return true;
}

}  // namespace sluice::gateway
