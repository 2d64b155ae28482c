#include "sim/entra.hpp"

#include <boost/json.hpp>
#include <ctime>

#include "sim/base64.hpp"
#include "sim/wire.hpp"
#include "sluice/core/find_any_byte.hpp"

namespace sluice::sim {

namespace json = boost::json;

std::string form_decode(std::string_view s) {
  // Most values (an api-version, a client id) have nothing to decode: one copy, not a character
  // at a time. (find_first_of would call memchr over "%+" once for every byte of `s`.)
  if (core::find_any_byte(s, "%+") == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string form_value(std::string_view form, std::string_view name, bool* present) {
  if (present) *present = false;
  std::size_t pos = 0;
  while (pos <= form.size()) {
    std::size_t end = form.find('&', pos);
    if (end == std::string_view::npos) end = form.size();
    std::string_view pair = form.substr(pos, end - pos);
    std::size_t eq = pair.find('=');
    std::string key = form_decode(pair.substr(0, eq));
    if (key == name) {
      if (present) *present = true;
      return eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    }
    pos = end + 1;
  }
  return {};
}

std::string with_basic_credentials(std::string form, std::string_view authorization) {
  if (authorization.size() <= 6 ||
      (authorization.substr(0, 6) != "Basic " && authorization.substr(0, 6) != "basic ")) {
    return form;
  }
  auto decoded = base64_decode(authorization.substr(6));
  if (!decoded) return form;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return form;
  if (!form.empty()) form += '&';
  form += "client_id=" + decoded->substr(0, colon) + "&client_secret=" + decoded->substr(colon + 1);
  return form;
}

EntraService::EntraService(AuthSettings settings, RsaKey key)
    : EntraService(std::move(settings), [key = std::move(key)] { return key; }) {}

EntraService::EntraService(AuthSettings settings, std::function<RsaKey()> make_key)
    : settings_(std::move(settings)), make_key_(std::move(make_key)) {}

const RsaKey& EntraService::key() const {
  std::call_once(key_made_, [this] { key_.emplace(make_key_()); });
  return *key_;
}

std::string EntraService::issuer(bool v2) const {
  return v2 ? "https://login.microsoftonline.com/" + settings_.tenant_id + "/v2.0"
            : "https://sts.windows.net/" + settings_.tenant_id + "/";
}

namespace {
std::string utc_timestamp(std::int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Object ids are stable per client so tokens for the same app carry the same oid.
std::string derived_oid(const std::string& client_id) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : client_id + "#oid") h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    std::uint64_t mixed = h * (static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL + 1);
    out += kHex[(mixed >> 59) & 15];
  }
  return out;
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}
}  // namespace

EntraReply EntraService::error(unsigned status, std::string_view err, int code,
                               const std::string& description, std::int64_t now) const {
  const std::string trace = random_uuid();
  const std::string correlation = random_uuid();
  const std::string ts = utc_timestamp(now);
  json::object o;
  o["error"] = err;
  o["error_description"] = "AADSTS" + std::to_string(code) + ": " + description +
                           "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + correlation +
                           "\r\nTimestamp: " + ts;
  json::array codes;
  codes.push_back(code);
  o["error_codes"] = std::move(codes);
  o["timestamp"] = ts;
  o["trace_id"] = trace;
  o["correlation_id"] = correlation;
  o["error_uri"] = "https://login.microsoftonline.com/error?code=" + std::to_string(code);
  return EntraReply{status, json::serialize(o)};
}

EntraReply EntraService::token(std::string_view tenant, bool v2, std::string_view form,
                               std::int64_t now) const {
  if (tenant != settings_.tenant_id) {
    return error(400, "invalid_request", 90002,
                 "Tenant '" + std::string(tenant) +
                     "' not found. Check to make sure you have the correct tenant ID and are "
                     "signing into the correct cloud. Check with your subscription administrator, "
                     "this may happen if there are no active subscriptions for the tenant.",
                 now);
  }
  auto missing = [&](const char* param) {
    return error(
        400, "invalid_request", 900144,
        std::string("The request body must contain the following parameter: '") + param + "'.",
        now);
  };
  bool present = false;
  const std::string grant = form_value(form, "grant_type", &present);
  if (!present) return missing("grant_type");
  if (grant != "client_credentials") {
    return error(400, "unsupported_grant_type", 70003,
                 "The app requested an unsupported grant type '" + grant + "'.", now);
  }
  const std::string client_id = form_value(form, "client_id", &present);
  if (!present || client_id.empty()) return missing("client_id");
  const std::string resource_param = v2 ? "scope" : "resource";
  std::string requested = form_value(form, resource_param, &present);
  if (!present || requested.empty()) return missing(resource_param.c_str());

  const EntraClient* client = nullptr;
  for (const auto& c : settings_.clients) {
    if (c.client_id == client_id) client = &c;
  }
  if (client == nullptr) {
    return error(400, "unauthorized_client", 700016,
                 "Application with identifier '" + client_id +
                     "' was not found in the directory '" + settings_.tenant_id +
                     "'. This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "may have sent your authentication request to the wrong tenant.",
                 now);
  }
  const std::string secret = form_value(form, "client_secret", &present);
  if (!present || secret.empty()) {
    return error(401, "invalid_client", 7000216,
                 "'client_assertion', 'client_secret' or 'request' is required for the "
                 "'client_credentials' grant type.",
                 now);
  }
  if (secret != client->client_secret) {
    return error(401, "invalid_client", 7000215,
                 "Invalid client secret provided. Ensure the secret being sent in the request is "
                 "the client secret value, not the client secret ID, for a secret added to app '" +
                     client_id + "'.",
                 now);
  }
  std::string resource = requested;
  if (v2) {
    const std::string suffix = "/.default";
    if (requested.size() <= suffix.size() ||
        requested.compare(requested.size() - suffix.size(), suffix.size(), suffix) != 0 ||
        requested.find(' ') != std::string::npos) {
      return error(400, "invalid_scope", 1002012,
                   "The provided value for scope " + requested +
                       " is not valid. Client credential flows must have a scope value with "
                       "/.default suffixed to the resource identifier (application ID URI).",
                   now);
    }
    resource = requested.substr(0, requested.size() - suffix.size());
  }
  if (strip_slash(resource) != strip_slash(settings_.audience)) {
    return error(400, "invalid_resource", 500011,
                 "The resource principal named " + resource +
                     " was not found in the tenant named " + settings_.tenant_id +
                     ". This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "might have sent your authentication request to the wrong tenant.",
                 now);
  }

  const std::int64_t lifetime = settings_.token_lifetime.count();
  const std::int64_t nbf = now - 300;  // Entra backdates nbf/iat by five minutes
  const std::int64_t exp = now + lifetime;
  const std::string oid = client->object_id.empty() ? derived_oid(client_id) : client->object_id;
  json::object claims;
  claims["aud"] = strip_slash(settings_.audience);
  claims["iss"] = issuer(v2);
  claims["iat"] = nbf;
  claims["nbf"] = nbf;
  claims["exp"] = exp;
  claims["aio"] = random_id("", 40);
  claims[v2 ? "azp" : "appid"] = client_id;
  claims[v2 ? "azpacr" : "appidacr"] = "1";
  claims["idp"] = "https://sts.windows.net/" + settings_.tenant_id + "/";
  claims["idtyp"] = "app";
  claims["oid"] = oid;
  claims["rh"] = random_id("1.", 40);
  json::array roles;
  for (const auto& r : client->roles) roles.push_back(json::value(r));
  if (!roles.empty()) claims["roles"] = std::move(roles);
  claims["sub"] = oid;
  claims["tid"] = settings_.tenant_id;
  claims["uti"] = random_id("", 22);
  claims["ver"] = v2 ? "2.0" : "1.0";
  const std::string jwt = make_jwt(key(), json::serialize(claims));
  if (jwt.empty()) return error(500, "server_error", 50000, "Signing the token failed.", now);

  json::object out;
  out["token_type"] = "Bearer";
  if (v2) {
    out["expires_in"] = lifetime;
    out["ext_expires_in"] = lifetime;
  } else {
    // v1 returns numbers as strings.
    out["expires_in"] = std::to_string(lifetime);
    out["ext_expires_in"] = std::to_string(lifetime);
    out["expires_on"] = std::to_string(exp);
    out["not_before"] = std::to_string(nbf);
    out["resource"] = requested;
  }
  out["access_token"] = jwt;
  return EntraReply{200, json::serialize(out)};
}

EntraReply EntraService::openid_configuration(std::string_view tenant, bool v2,
                                              std::string_view base_url) const {
  const std::string base(base_url);
  const std::string tid = settings_.tenant_id;
  const std::string prefix = base + "/" + tid;
  json::object o;
  o["token_endpoint"] = prefix + (v2 ? "/oauth2/v2.0/token" : "/oauth2/token");
  o["token_endpoint_auth_methods_supported"] =
      json::array{"client_secret_post", "private_key_jwt", "client_secret_basic"};
  o["jwks_uri"] = v2 ? prefix + "/discovery/v2.0/keys" : base + "/common/discovery/keys";
  o["response_modes_supported"] = json::array{"query", "fragment", "form_post"};
  o["subject_types_supported"] = json::array{"pairwise"};
  o["id_token_signing_alg_values_supported"] = json::array{"RS256"};
  o["response_types_supported"] =
      json::array{"code", "id_token", "code id_token", "token id_token", "token"};
  o["scopes_supported"] = json::array{"openid", "profile", "email", "offline_access"};
  o["issuer"] = issuer(v2);
  o["request_uri_parameter_supported"] = false;
  o["authorization_endpoint"] = prefix + (v2 ? "/oauth2/v2.0/authorize" : "/oauth2/authorize");
  o["http_logout_supported"] = true;
  o["frontchannel_logout_supported"] = true;
  o["end_session_endpoint"] = prefix + (v2 ? "/oauth2/v2.0/logout" : "/oauth2/logout");
  o["claims_supported"] = json::array{
      "sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "ver", "roles", v2 ? "azp" : "appid"};
  o["tenant_region_scope"] = "NA";
  o["cloud_instance_name"] = "microsoftonline.com";
  o["cloud_graph_host_name"] = "graph.windows.net";
  o["msgraph_host"] = "graph.microsoft.com";
  o["rbac_url"] = "https://pas.windows.net";
  (void)tenant;
  return EntraReply{200, json::serialize(o)};
}

EntraReply EntraService::jwks() const {
  return EntraReply{200, "{\"keys\":[" + key().jwk_json() + "]}"};
}

JwtCheck EntraService::verify(std::string_view token, std::int64_t now) const {
  JwtCheck c = verify_jwt(key(), token, settings_.audience, {issuer(false), issuer(true)}, now);
  if (c.ok() && c.claims.tid != settings_.tenant_id) {
    c.error = JwtError::kBadIssuer;
    c.detail = "tenant " + c.claims.tid;
  }
  return c;
}

}  // namespace sluice::sim
