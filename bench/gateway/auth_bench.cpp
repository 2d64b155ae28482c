// What the identity policy costs per request, in process, without the network: the access phase
// of one request (on_request) for a cached Entra token, an API key, and a token verified from
// scratch (the validation cache off), RS256 and ES256. bench/gateway/auth.sh measures the same
// through the whole gateway; this one says where the time goes.
//   build-*/bench_identity [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "gateway/policies/identity/identity_policy.hpp"
#include "gateway/policies/identity/tests/fake_exchange.hpp"
#include "gateway/policies/identity/tests/test_keys.hpp"
#include "sluice/core/config.hpp"

namespace {

using namespace sluice;
using namespace sluice::gateway;
namespace asio = http::asio;
namespace testing = sluice::gateway::identity::testing;

constexpr std::string_view kTenant = "00000000-0000-4000-8000-000000000001";

std::filesystem::path jwks_file() {
  static const std::filesystem::path path = [] {
    auto p = std::filesystem::temp_directory_path() / "sluice-auth-bench-jwks.json";
    std::ofstream(p) << testing::jwks_of(
        {&testing::shared_rsa("rsa-1"), &testing::shared_ec("ec-1")});
    return p;
  }();
  return path;
}

PolicyPtr policy(std::size_t cache_size) {
  PolicyRegistry registry;
  add_identity_policies(registry);
  PolicyServices services;
  auto root = core::load_config_string(
      "identity:\n"
      "  jwt:\n"
      "    issuers: [\"https://login.microsoftonline.com/{tid}/v2.0\"]\n"
      "    audiences: [https://cognitiveservices.azure.com]\n"
      "    algorithms: [RS256, ES256]\n"
      "    jwks_file: " +
          jwks_file().string() +
          "\n"
          "    cache_size: " +
          std::to_string(cache_size) +
          "\n"
          "  api_keys: {keys: [{id: bench, key: bench-key-0123456789, app_id: bench-app}]}\n",
      "bench.yaml");
  return (*registry.find("identity"))(root.section("identity"), services);
}

// An Entra v2 client-credentials token as the simulator mints it (same claims).
std::string entra_token(const testing::TestKey& key) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto claims = testing::v2_claims(now, kTenant, "aaaaaaaa-0000-4000-8000-00000000be01");
  claims["aio"] = "k2BgYJiuFu3YpnLsYo9fZXYv7d0dAwA=";
  claims["rh"] = "1.AQEAAAAAAAAAQACAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAA.";
  claims["uti"] = "Fq3GhJ8kQ0y0m4Xz8dQ1AA";
  claims["idp"] = "https://sts.windows.net/00000000-0000-4000-8000-000000000001/";
  claims["roles"] = boost::json::array{"Inference.User"};
  return testing::token(key, claims);
}

// Runs on_request for the benchmark's iterations on one coroutine, so each iteration is exactly
// one access phase (frame allocation included), like the proxy's pipeline.
void run(benchmark::State& state, const PolicyPtr& policy, const char* header, std::string value) {
  asio::io_context io;
  http::Request request{http::bhttp::verb::post, "/openai/deployments/gpt-4o/chat/completions", 11};
  request.set(header, value);
  testing::FakeExchange exchange(io, std::move(request));
  bool refused = false;
  asio::co_spawn(
      io,
      [&]() -> http::Task<void> {
        for (auto _ : state) {
          RequestContext context(exchange, "bench");
          auto answer = co_await policy->on_request(context);
          refused = refused || answer.has_value();
          benchmark::DoNotOptimize(context.identity().app_id.data());
        }
      },
      asio::detached);
  io.run();
  if (refused) state.SkipWithError("the policy refused the request");
}

void BM_CachedToken(benchmark::State& state) {
  run(state, policy(4096), "Authorization", "Bearer " + entra_token(testing::shared_rsa("rsa-1")));
}
BENCHMARK(BM_CachedToken);

void BM_ApiKey(benchmark::State& state) {
  run(state, policy(4096), "api-key", "bench-key-0123456789");
}
BENCHMARK(BM_ApiKey);

void BM_VerifyRs256(benchmark::State& state) {
  run(state, policy(0), "Authorization", "Bearer " + entra_token(testing::shared_rsa("rsa-1")));
}
BENCHMARK(BM_VerifyRs256);

void BM_VerifyEs256(benchmark::State& state) {
  run(state, policy(0), "Authorization", "Bearer " + entra_token(testing::shared_ec("ec-1")));
}
BENCHMARK(BM_VerifyEs256);

// The copy of a resolved identity into the request, alone (part of BM_CachedToken).
void BM_IdentityCopy(benchmark::State& state) {
  Identity identity;
  identity.kind = IdentityKind::kJwt;
  identity.app_id = "aaaaaaaa-0000-4000-8000-00000000be01";
  identity.tenant = std::string(kTenant);
  identity.roles = {"Inference.User"};
  for (const char* name :
       {"aud", "iss", "azp", "azpacr", "idp", "idtyp", "oid", "sub", "tid", "ver", "roles"}) {
    identity.claims[name] = "https://login.microsoftonline.com/00000000-0000-4000-8000-0000000";
  }
  for (auto _ : state) {
    Identity copy = identity;
    benchmark::DoNotOptimize(copy.app_id.data());
  }
}
BENCHMARK(BM_IdentityCopy);

}  // namespace

BENCHMARK_MAIN();
