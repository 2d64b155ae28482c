// Feeds arbitrary bytes to the JMX reader as a plan. A bad plan must end in a ConfigError (never a
// crash, a hang or another exception type), and a plan that compiles must pass validate_plan.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "loadgen/jmx/jmx_reader.hpp"
#include "sluice/core/config_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  sluice::loadgen::PlanContext ctx;
  ctx.base_dir = "/nonexistent-sluice-fuzz";
  ctx.plan_path = "/nonexistent-sluice-fuzz/fuzz.jmx";
  ctx.env = {{"VIRTUAL_USERS", "2"},      {"RAMP_UP", "1"},
             {"LOOP_COUNT", "2"},         {"RESOURCE", "r"},
             {"OPENAI_ENDPOINT", "gw"},   {"OPENAI_DEPLOYMENT_NAME", "d"},
             {"OPENAI_API_VERSION", "v"}, {"HOST", "127.0.0.1"}};
  ctx.secrets = {{"TENANT_ID", "t"}, {"CLIENT_ID", "c"}, {"CLIENT_SECRET", "s"}};
  // No secret or environment lookups outside the input.
  ctx.overrides.getenv = [](const std::string&) { return std::optional<std::string>(); };
  try {
    auto plan = sluice::loadgen::jmx::compile_jmx_text(xml, "fuzz.jmx", ctx);
    if (!sluice::loadgen::validate_plan(plan)) std::abort();
  } catch (const sluice::core::ConfigError&) {
  }
  return 0;
}
