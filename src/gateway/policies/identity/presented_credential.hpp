#pragma once
// Which credential a request presents, and where the identity policy should check it.
//
// Azure OpenAI's v1 routes take a key either as `api-key: <key>` (what `AzureOpenAI` sends) or as
// `Authorization: Bearer <key>` (what `OpenAI` sends), and an Entra token as a bearer. So one
// gateway route can serve both SDK classes, the gateway reads them the same way:
//   1. the key header (`api_keys.header`, default `api-key`) when API keys are configured;
//   2. otherwise `Authorization: Bearer <value>`: a value shaped like a JWT goes to JWT validation
//      when `jwt` is configured; any other value is an API key when `api_keys` are configured;
//      with neither fitting, it stays a bearer token (refused as such).
// `api_keys.header: authorization` keeps its old meaning: keys only in Authorization.
#include <string_view>

#include "sluice/http/asio.hpp"

namespace sluice::gateway::identity {

// What the identity policy is configured to accept.
struct CredentialSources {
  bool api_keys = false;
  bool jwt = false;
  std::string_view key_header = "api-key";  // lower-case; "authorization": Authorization only
};

struct PresentedCredential {
  enum class Kind {
    kNone,         // neither a key header nor an Authorization header
    kApiKey,       // `value` is a key to look up
    kBearerToken,  // `value` is a token for JWT validation (or refused when `jwt` is absent)
    kEmptyBearer,  // `Authorization: Bearer` with nothing after it
    kOtherScheme,  // Authorization with a scheme other than Bearer (Basic, ...)
  };
  Kind kind = Kind::kNone;
  std::string_view value;  // points into the request's headers; never logged
};

// The credential `request` presents under `sources`. The view lives as long as `request`.
// Never throws. Any thread.
PresentedCredential find_credential(const http::Request& request, const CredentialSources& sources);

// True when `token` has the shape of a JWS compact serialization: a base64url header and payload
// and a (possibly empty, for alg none) base64url signature, separated by two dots. API keys of
// Azure, OpenAI and sluice (hex, base64url, `sk-...`) never have that shape. Any thread.
bool looks_like_jwt(std::string_view token) noexcept;

}  // namespace sluice::gateway::identity
