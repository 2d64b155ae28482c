#pragma once
// Token usage of one request as the gateway learned it.
#include <cstdint>

namespace sluice::gateway {

enum class UsageSource {
  kNone,       // no tokens (failed before an upstream answered)
  kReported,   // from the backend's `usage` (body or stream usage chunk)
  kEstimated,  // counted by sluice's tokenizer (no usage came back, or the client left mid-stream)
};

const char* to_string(UsageSource source);

struct TokenUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  UsageSource source = UsageSource::kNone;
};

}  // namespace sluice::gateway
