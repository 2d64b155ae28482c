// The registry of policies a gateway config may name under `policies:`. Each policy lives in its
// own folder (policies/<name>/) and is added here with one line.
#include "gateway/policies/cache/cache_policy.hpp"
#include "gateway/policies/identity/identity_policy.hpp"
#include "gateway/policies/metrics/metrics_policy.hpp"
#include "gateway/policies/prompt_log/prompt_log_policy.hpp"
#include "gateway/policies/token_limit/token_limit_policy.hpp"
#include "gateway/policies/tracing/tracing_policy.hpp"
#include "gateway/policies/usage/usage_policy.hpp"
#include "sluice/gateway/gateway.hpp"

namespace sluice::gateway {

PolicyRegistry builtin_policies() {
  PolicyRegistry registry;
  add_identity_policies(registry);  // "identity" and "access"
  registry.add("token_limit", make_token_limit_policy);
  registry.add("cache", make_cache_policy);
  registry.add("usage", make_usage_policy);
  registry.add("metrics", make_metrics_policy);
  registry.add("prompt_log", make_prompt_log_policy);
  registry.add("tracing", make_tracing_policy);
  return registry;
}

}  // namespace sluice::gateway
