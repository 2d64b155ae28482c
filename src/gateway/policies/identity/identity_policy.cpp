#include "gateway/policies/identity/identity_policy.hpp"

#include <algorithm>
#include <atomic>

#include "gateway/policies/identity/presented_credential.hpp"
#include "gateway/policies/identity/token_cache.hpp"
#include "sluice/core/logging.hpp"

namespace sluice::gateway::identity {

namespace {

std::atomic<std::uint64_t> next_instance{1};

// The log detail of a missing_credentials refusal: what the client did send, so an operator can
// tell a client that sent nothing from one whose Authorization header is unusable.
std::string why_no_credentials(PresentedCredential::Kind kind) {
  switch (kind) {
    case PresentedCredential::Kind::kBearerToken:
      return "a bearer token, but no `jwt` section is configured";
    case PresentedCredential::Kind::kEmptyBearer:
      return "an empty Bearer token (`Authorization: Bearer` with nothing after it)";
    case PresentedCredential::Kind::kOtherScheme:
      return "an Authorization scheme other than Bearer";
    case PresentedCredential::Kind::kNone:
    case PresentedCredential::Kind::kApiKey:
      break;
  }
  return "no credentials";
}

}  // namespace

IdentityPolicy::IdentityPolicy(IdentitySettings settings, std::shared_ptr<JwksSource> jwks,
                               const core::Clock& clock)
    : settings_(std::move(settings)),
      jwks_(std::move(jwks)),
      clock_(clock),
      instance_(next_instance.fetch_add(1, std::memory_order_relaxed)),
      log_(core::get_logger("identity")) {
  if (settings_.api_keys) api_keys_.emplace(*settings_.api_keys);
  if (settings_.jwt) audience_ = settings_.jwt->rules.audiences.front();
}

http::Task<std::optional<http::Response>> IdentityPolicy::on_request(RequestContext& context) {
  const http::Request& request = context.exchange.request();
  auto& stats = identity_stats();
  std::optional<Refusal> refusal;

  using Kind = PresentedCredential::Kind;
  const CredentialSources sources{
      .api_keys = api_keys_.has_value(),
      .jwt = jwks_ != nullptr,
      .key_header = api_keys_ ? std::string_view(settings_.api_keys->header) : "api-key"};
  const PresentedCredential credential = find_credential(request, sources);

  if (credential.kind == Kind::kApiKey) {
    if (const Identity* known = api_keys_->find(credential.value)) {
      // Not owned: the key table lives in this policy, which the request's runtime holds.
      context.set_identity(
          std::shared_ptr<const Identity>(std::shared_ptr<const Identity>(), known));
      stats.api_key_accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      refusal = Refusal{RefusalReason::kInvalidApiKey, "API key not configured"};
    }
  } else if (credential.kind == Kind::kBearerToken && jwks_) {
    const std::string_view token = credential.value;
    if (jwks_->due_for_refresh()) jwks_->refresh_in_background(context.exchange.executor());
    if (auto cached = cached_token(token)) {
      context.set_identity(std::move(cached));
    } else {
      std::shared_ptr<const Identity> identity;
      Refusal problem;
      auto keys = jwks_->keys();
      TokenStep step = check_token(token, keys.get(), true, identity, problem);
      if (step == TokenStep::kNeedKeys) {
        keys = co_await jwks_->refresh(context.exchange.executor());
        step = check_token(token, keys.get(), false, identity, problem);
      }
      if (step == TokenStep::kAccepted) {
        context.set_identity(std::move(identity));
      } else {
        refusal = std::move(problem);
      }
    }
  } else if (settings_.access.allow_anonymous) {
    context.set_identity(nullptr);
    stats.anonymous_accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    refusal = Refusal{RefusalReason::kMissingCredentials, why_no_credentials(credential.kind)};
  }

  if (!refusal) refusal = settings_.access.check(context.identity());
  if (refusal) co_return refuse_request(context, *refusal, audience_, *log_);
  co_return std::nullopt;
}

std::shared_ptr<const Identity> IdentityPolicy::cached_token(std::string_view token) const {
  const JwtSettings& jwt = *settings_.jwt;
  if (jwt.cache_size == 0 || token.size() > jwt.max_token_size) return nullptr;
  auto hit = thread_token_cache(instance_, jwt.cache_size)
                 .find(token, unix_seconds(clock_.system_now()), jwks_->generation());
  if (!hit) return nullptr;
  auto& stats = identity_stats();
  stats.jwt_cache_hits.fetch_add(1, std::memory_order_relaxed);
  stats.jwt_accepted.fetch_add(1, std::memory_order_relaxed);
  return hit;
}

IdentityPolicy::TokenStep IdentityPolicy::check_token(std::string_view token, const KeySet* keys,
                                                      bool may_refresh,
                                                      std::shared_ptr<const Identity>& identity,
                                                      Refusal& refusal) const {
  const JwtSettings& jwt = *settings_.jwt;
  auto& stats = identity_stats();
  const auto now_time = clock_.system_now();
  const std::int64_t now = unix_seconds(now_time);
  TokenCache* cache = jwt.cache_size > 0 ? &thread_token_cache(instance_, jwt.cache_size) : nullptr;

  auto refused = [&](RefusalReason reason, std::string detail) {
    refusal = Refusal{reason, std::move(detail)};
    return TokenStep::kRefused;
  };
  Jwt parsed;
  if (auto problem = parse_jwt(token, jwt.algorithms, jwt.max_token_size, parsed)) {
    refusal = std::move(*problem);
    return TokenStep::kRefused;
  }
  if (!keys) {
    if (may_refresh) return TokenStep::kNeedKeys;
    return refused(RefusalReason::kKeysUnavailable, "no signing keys: the JWKS was never fetched");
  }
  const PublicKey* key = nullptr;
  if (parsed.kid) {
    key = keys->find(*parsed.kid);
    if (!key) {
      if (may_refresh) return TokenStep::kNeedKeys;
      std::string kid = parsed.kid->substr(0, 64);
      std::replace_if(
          kid.begin(), kid.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, '?');
      return refused(RefusalReason::kUnknownKid, "kid '" + kid + "' is not in the JWKS");
    }
  } else {
    if (keys->keys.size() != 1) {
      return refused(RefusalReason::kKidMissing,
                     "no kid, and the JWKS holds " + std::to_string(keys->keys.size()) + " keys");
    }
    key = &keys->keys.front();
  }
  if (!key->accepts(parsed.algorithm)) {
    return refused(
        RefusalReason::kAlgorithmNotAllowed,
        "key '" + key->kid + "' cannot verify " + std::string(to_string(parsed.algorithm)));
  }
  if (!verify_signature(*key, parsed.algorithm, parsed.signing_input, parsed.signature)) {
    return refused(RefusalReason::kBadSignature,
                   "signature does not verify with key '" + key->kid + "'");
  }
  if (auto problem = check_claims(parsed.claims, jwt.rules, now_time)) {
    refusal = std::move(*problem);
    return TokenStep::kRefused;
  }

  auto resolved = std::make_shared<Identity>();
  resolved->kind = IdentityKind::kJwt;
  resolved->app_id = parsed.claims.app_id();
  resolved->tenant = parsed.claims.tid;
  resolved->roles = std::move(parsed.claims.roles);
  if (auto name = settings_.app_names.find(resolved->app_id); name != settings_.app_names.end()) {
    resolved->display_name = name->second;
  } else if (auto claim = parsed.claims.strings.find("app_displayname");
             claim != parsed.claims.strings.end()) {
    resolved->display_name = claim->second;
  }
  resolved->claims = std::move(parsed.claims.strings);
  if (cache) {
    cache->insert(token,
                  TokenCache::Entry{resolved, valid_until(*parsed.claims.exp, jwt.rules.clock_skew),
                                    keys->generation},
                  now);
  }
  identity = std::move(resolved);
  stats.jwt_accepted.fetch_add(1, std::memory_order_relaxed);
  return TokenStep::kAccepted;
}

void IdentityPolicy::on_upstream(RequestContext& context, http::Request& upstream,
                                 http::ExtraFields& /*extra*/) {
  // The proxy never forwards Authorization or api-key (a backend's own auth may set them after);
  // a custom key header was copied through, so it is dropped here: a client's key never reaches a
  // backend. Only the copied value goes, in case the backend's auth uses the same header name.
  if (!api_keys_) return;
  const std::string& header = settings_.api_keys->header;
  if (header == "authorization" || header == "api-key") return;
  const http::Request& request = context.exchange.request();
  auto client = request.find(header);
  auto forwarded = upstream.find(header);
  if (client != request.end() && forwarded != upstream.end() &&
      forwarded->value() == client->value()) {
    upstream.erase(forwarded);
  }
}

http::Response refuse_request(RequestContext& context, const Refusal& refusal,
                              std::string_view audience, spdlog::logger& log) {
  identity_stats().count(refusal.reason);
  context.error_code = std::string(to_string(refusal.reason));
  log.info("request {} from {} refused: {} ({})", context.request_id, context.client_ip,
           to_string(refusal.reason), refusal.detail);
  return refusal_response(refusal.reason, audience, context.exchange.request().version());
}

}  // namespace sluice::gateway::identity
