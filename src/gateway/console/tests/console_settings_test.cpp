// The console's section and its access check: the identity policy's code decides, a missing or
// wrong credential is a JSON 401 with the console's headers, and without a section there is no
// console at all.
#include "gateway/console/console_settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <boost/json.hpp>

#include "gateway/console/console_access.hpp"
#include "gateway/console/console_response.hpp"
#include "gateway/policies/identity/tests/fake_exchange.hpp"
#include "sluice/core/config.hpp"
#include "sluice/gateway/gateway.hpp"

namespace sluice::gateway::console {
namespace {

namespace asio = http::asio;

constexpr const char* kBase = R"(
listeners: [{port: 8080}]
backends: [{name: sim, url: "http://127.0.0.1:9", type: openai}]
pools: [{name: p, members: [{backend: sim}]}]
routes: [{name: r, pool: p}]
)";

GatewaySettings load(const std::string& extra) {
  PolicyServices services;
  return read_gateway_settings(core::load_config_string(std::string(kBase) + extra, "gw.yaml"),
                               builtin_policies(), services);
}

std::string error_of(const std::string& extra) {
  try {
    load(extra);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

// The response authorize() gives for a request with `headers`; nullopt: let in.
std::optional<http::Response> check(const GatewaySettings& settings,
                                    std::vector<std::pair<std::string, std::string>> headers) {
  asio::io_context io;
  http::Request request{http::bhttp::verb::get, "/console/api/config", 11};
  for (const auto& [name, value] : headers) request.set(name, value);
  identity::testing::FakeExchange exchange(io, std::move(request));
  std::optional<http::Response> result;
  asio::co_spawn(
      io, [&]() -> http::Task<void> { result = co_await authorize(settings.console, exchange); },
      asio::detached);
  io.run();
  return result;
}

constexpr const char* kConsole = R"(
console:
  access:
    api_keys: {keys: [{id: console-admin, key: "admin-secret", app_id: operator}]}
)";

TEST(ConsoleSettings, NoSectionNoConsoleAndAnApiCallIs404) {
  auto settings = load("");
  ASSERT_TRUE(settings.console);
  EXPECT_FALSE(settings.console->enabled);
  auto refusal = check(settings, {{"api-key", "anything"}});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->result_int(), 404u);
}

TEST(ConsoleSettings, ASectionWithoutAccessIsRefusedAtItsLine) {
  auto error = error_of("console: {prices: p.yaml}\n");
  EXPECT_NE(error.find("gw.yaml"), std::string::npos) << error;
  EXPECT_NE(error.find("access"), std::string::npos) << error;
}

TEST(ConsoleSettings, UnknownKeysAreRefused) {
  auto error = error_of(std::string(kConsole) + "  protect_admin_route: true\n");
  EXPECT_NE(error.find("protect_admin_routes"), std::string::npos) << error;  // did you mean
}

TEST(ConsoleAccess, TheAdminKeyLetsInAnythingElseIsAJson401WithProtectiveHeaders) {
  auto settings = load(kConsole);
  ASSERT_TRUE(settings.console->enabled);
  EXPECT_FALSE(check(settings, {{"api-key", "admin-secret"}}));
  EXPECT_FALSE(check(settings, {{"Authorization", "Bearer admin-secret"}}));
  for (auto headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {}, {{"api-key", "wrong"}}, {{"Authorization", "Bearer wrong"}}}) {
    auto refusal = check(settings, headers);
    ASSERT_TRUE(refusal);
    EXPECT_EQ(refusal->result_int(), 401u);
    auto body = boost::json::parse(refusal->body());
    EXPECT_TRUE(body.as_object().contains("error")) << refusal->body();
    EXPECT_EQ((*refusal)["Content-Security-Policy"], kContentSecurityPolicy);
    EXPECT_EQ((*refusal)["X-Content-Type-Options"], "nosniff");
  }
}

TEST(ConsoleAccess, ARequiredRoleRefusesAKeyWithoutIt) {
  auto settings = load(R"(
console:
  access:
    api_keys: {keys: [{id: admin, key: with-role, app_id: ops, roles: [Sluice.Admin]},
                      {id: user, key: without-role, app_id: app}]}
    required_roles: [Sluice.Admin]
)");
  EXPECT_FALSE(check(settings, {{"api-key", "with-role"}}));
  auto refusal = check(settings, {{"api-key", "without-role"}});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->result_int(), 403u);
}

TEST(ConsoleSettings, TheMaskedConfigHoldsNoSecretAndDefaultsComeFromThePolicies) {
  const auto journal = std::filesystem::temp_directory_path() /
                       ("sluice-console-settings-" + std::to_string(::getpid()));
  {
    auto settings =
        load(std::string(kConsole) + "policies:\n  usage: {journal: " + journal.string() + "}\n");
    EXPECT_EQ(settings.console->masked_config.find("admin-secret"), std::string::npos);
    EXPECT_NE(settings.console->masked_config.find("console-admin"), std::string::npos);
    EXPECT_EQ(settings.console->usage_store, (journal / "usage.db").string());
    EXPECT_FALSE(settings.console->protect_admin_routes);
  }
  std::filesystem::remove_all(journal);
}

}  // namespace
}  // namespace sluice::gateway::console
