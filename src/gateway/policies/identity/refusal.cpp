#include "gateway/policies/identity/refusal.hpp"

#include <string>

#include "sluice/core/json_string.hpp"

namespace sluice::gateway::identity {

namespace {

// Azure OpenAI's own wording, so clients and runbooks written against Azure recognise them.
constexpr std::string_view kMissingKeyMessage =
    "Access denied due to missing subscription key. Make sure to include subscription key when "
    "making requests to an API.";
constexpr std::string_view kBadKeyMessage =
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource.";
constexpr std::string_view kKeysDisabledMessage =
    "Key based authentication is disabled for this resource.";
constexpr std::string_view kPermissionDeniedMessage =
    "Principal does not have access to API/Operation.";
constexpr std::string_view kKeysUnavailableMessage =
    "The token signing keys are temporarily unavailable. Please retry later.";

http::Response azure_error(http::Status status, std::string_view code, std::string_view message,
                           unsigned version) {
  std::string body = "{\"error\":{\"code\":";
  core::append_json_string(body, code);
  body += ",\"message\":";
  core::append_json_string(body, message);
  body += "}}";
  http::Response response{status, version};
  response.set(http::Field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

std::string_view to_string(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::kMissingCredentials:
      return "missing_credentials";
    case RefusalReason::kInvalidApiKey:
      return "invalid_api_key";
    case RefusalReason::kMalformedToken:
      return "malformed_token";
    case RefusalReason::kTokenTooLarge:
      return "token_too_large";
    case RefusalReason::kAlgorithmNotAllowed:
      return "algorithm_not_allowed";
    case RefusalReason::kKidMissing:
      return "kid_missing";
    case RefusalReason::kUnknownKid:
      return "unknown_kid";
    case RefusalReason::kBadSignature:
      return "bad_signature";
    case RefusalReason::kExpired:
      return "expired";
    case RefusalReason::kNotYetValid:
      return "not_yet_valid";
    case RefusalReason::kWrongIssuer:
      return "wrong_issuer";
    case RefusalReason::kWrongAudience:
      return "wrong_audience";
    case RefusalReason::kWrongTenant:
      return "wrong_tenant";
    case RefusalReason::kMissingAppId:
      return "missing_app_id";
    case RefusalReason::kKeysUnavailable:
      return "keys_unavailable";
    case RefusalReason::kApiKeyNotAllowed:
      return "api_key_not_allowed";
    case RefusalReason::kMissingRole:
      return "missing_role";
    case RefusalReason::kMissingClaim:
      return "missing_claim";
    case RefusalReason::kCount:
      break;
  }
  return "unknown";
}

http::Response refusal_response(RefusalReason reason, std::string_view audience, unsigned version) {
  using http::Status;
  switch (reason) {
    case RefusalReason::kMissingCredentials: {
      auto response = azure_error(Status::unauthorized, "401", kMissingKeyMessage, version);
      response.set(http::Field::www_authenticate, "Bearer");
      return response;
    }
    case RefusalReason::kInvalidApiKey: {
      auto response = azure_error(Status::unauthorized, "401", kBadKeyMessage, version);
      response.set(http::Field::www_authenticate, "Bearer");
      return response;
    }
    case RefusalReason::kKeysUnavailable: {
      auto response = azure_error(Status::service_unavailable, "ServiceUnavailable",
                                  kKeysUnavailableMessage, version);
      response.set(http::Field::retry_after, "1");
      return response;
    }
    case RefusalReason::kApiKeyNotAllowed:
      return azure_error(Status::forbidden, "AuthenticationTypeDisabled", kKeysDisabledMessage,
                         version);
    case RefusalReason::kMissingRole:
    case RefusalReason::kMissingClaim:
      return azure_error(Status::forbidden, "PermissionDenied", kPermissionDeniedMessage, version);
    default: {
      std::string message =
          "Unauthorized. Access token is missing, invalid, audience is incorrect (";
      message += audience;
      message += "), or have expired.";
      auto response = azure_error(Status::unauthorized, "401", message, version);
      response.set(http::Field::www_authenticate, "Bearer error=\"invalid_token\"");
      return response;
    }
  }
}

IdentityStats& identity_stats() noexcept {
  static IdentityStats stats;
  return stats;
}

}  // namespace sluice::gateway::identity
