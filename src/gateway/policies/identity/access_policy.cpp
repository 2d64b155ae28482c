#include "gateway/policies/identity/identity_policy.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/http/url.hpp"

namespace sluice::gateway {

namespace identity {

AccessPolicy::AccessPolicy(AccessRules rules)
    : rules_(std::move(rules)), log_(core::get_logger("identity")) {}

http::Task<std::optional<http::Response>> AccessPolicy::on_request(RequestContext& context) {
  if (auto refusal = rules_.check(context.identity())) {
    co_return refuse_request(context, *refusal, "", *log_);
  }
  co_return std::nullopt;
}

}  // namespace identity

void add_identity_policies(PolicyRegistry& registry) {
  using identity::IdentitySettings;
  registry.add("identity",
               [](const core::ConfigNode& section, PolicyServices& services) -> PolicyPtr {
                 auto settings = IdentitySettings::from_config(section);
                 std::shared_ptr<identity::JwksSource> jwks;
                 if (settings.jwt) {
                   // Keys come from the identity provider, usually outside a private network:
                   // the fetch takes the gateway's default proxy, as a backend does.
                   auto url = http::parse_url(settings.jwt->jwks.url);
                   if (url && services.proxies) {
                     if (const auto* proxy = services.proxies->for_target(*url)) {
                       settings.jwt->jwks.proxy = *proxy;
                     }
                   }
                   try {
                     jwks = identity::JwksSource::create(settings.jwt->jwks, *services.clock);
                   } catch (const std::runtime_error& e) {
                     section.section("jwt").fail_at(
                         settings.jwt->jwks.url.empty() ? "jwks_file" : "jwks_url", e.what());
                   }
                 }
                 return std::make_shared<identity::IdentityPolicy>(
                     std::move(settings), std::move(jwks), *services.clock);
               });
  registry.add("access", [](const core::ConfigNode& section, PolicyServices&) -> PolicyPtr {
    auto rules = identity::AccessRules::read(section);
    section.finish();
    return std::make_shared<identity::AccessPolicy>(std::move(rules));
  });
}

std::vector<std::pair<std::string_view, std::uint64_t>> identity_refusals_by_reason() {
  std::vector<std::pair<std::string_view, std::uint64_t>> out;
  const auto& stats = identity::identity_stats();
  for (std::size_t i = 0; i < identity::kRefusalReasonCount; ++i) {
    out.emplace_back(identity::to_string(static_cast<identity::RefusalReason>(i)),
                     stats.refusals[i].load(std::memory_order_relaxed));
  }
  return out;
}

}  // namespace sluice::gateway
