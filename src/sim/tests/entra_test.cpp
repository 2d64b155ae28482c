#include "sim/entra.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sim/base64.hpp"

namespace sluice::sim {
namespace {

namespace json = boost::json;

EntraService make_service() {
  AuthSettings a;
  a.tenant_id = "72f988bf-0000-4000-8000-000000000001";
  EntraClient c;
  c.client_id = "app-1";
  c.client_secret = "s3cret";
  c.display_name = "App One";
  c.roles = {"Inference.User"};
  a.clients.push_back(c);
  static const RsaKey key = RsaKey::generate(2048);
  return EntraService(a, key);
}

json::object claims_of(const std::string& token) {
  auto p = token.find('.');
  return json::parse(*base64_decode(token.substr(p + 1, token.rfind('.') - p - 1))).as_object();
}

constexpr std::int64_t kNow = 1'700'000'000;

TEST(Entra, V1TokenHasV1ClaimsAndStringNumbers) {
  auto s = make_service();
  auto r = s.token(s.settings().tenant_id, false,
                   "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&resource="
                   "https%3A%2F%2Fcognitiveservices.azure.com",
                   kNow);
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(body.at("expires_in").as_string(), "3599");
  EXPECT_EQ(body.at("expires_on").as_string(), std::to_string(kNow + 3599));
  EXPECT_EQ(body.at("resource").as_string(), "https://cognitiveservices.azure.com");
  const std::string token(body.at("access_token").as_string());
  auto c = claims_of(token);
  EXPECT_EQ(c.at("ver").as_string(), "1.0");
  EXPECT_EQ(c.at("appid").as_string(), "app-1");
  EXPECT_FALSE(c.contains("azp"));
  EXPECT_EQ(c.at("iss").as_string(), "https://sts.windows.net/" + s.settings().tenant_id + "/");
  EXPECT_EQ(c.at("aud").as_string(), "https://cognitiveservices.azure.com");
  EXPECT_EQ(c.at("tid").as_string(), s.settings().tenant_id);
  EXPECT_EQ(c.at("roles").as_array().at(0).as_string(), "Inference.User");
  EXPECT_EQ(c.at("exp").as_int64(), kNow + 3599);
  EXPECT_LE(c.at("nbf").as_int64(), kNow);
  EXPECT_EQ(c.at("oid").as_string(), c.at("sub").as_string());
  auto check = s.verify(token, kNow + 10);
  ASSERT_TRUE(check.ok()) << check.detail;
  EXPECT_EQ(check.claims.client_id(), "app-1");
}

TEST(Entra, V2TokenHasAzpAndV2Issuer) {
  auto s = make_service();
  auto r = s.token(s.settings().tenant_id, true,
                   "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&scope="
                   "https%3A%2F%2Fcognitiveservices.azure.com%2F.default",
                   kNow);
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("expires_in").as_int64(), 3599);
  EXPECT_EQ(body.at("ext_expires_in").as_int64(), 3599);
  EXPECT_FALSE(body.contains("resource"));
  auto c = claims_of(std::string(body.at("access_token").as_string()));
  EXPECT_EQ(c.at("ver").as_string(), "2.0");
  EXPECT_EQ(c.at("azp").as_string(), "app-1");
  EXPECT_EQ(c.at("iss").as_string(),
            "https://login.microsoftonline.com/" + s.settings().tenant_id + "/v2.0");
  EXPECT_TRUE(s.verify(std::string(body.at("access_token").as_string()), kNow).ok());
}

void expect_error(const EntraReply& r, unsigned status, const char* error, int code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto b = json::parse(r.body).as_object();
  EXPECT_EQ(b.at("error").as_string(), error);
  EXPECT_EQ(b.at("error_codes").as_array().at(0).as_int64(), code);
  const std::string desc(b.at("error_description").as_string());
  EXPECT_EQ(desc.rfind("AADSTS" + std::to_string(code) + ": ", 0), 0u) << desc;
  EXPECT_NE(desc.find("\r\nTrace ID: "), std::string::npos);
  EXPECT_TRUE(b.contains("timestamp"));
  EXPECT_TRUE(b.contains("trace_id"));
  EXPECT_TRUE(b.contains("correlation_id"));
}

TEST(Entra, ErrorsUseEntraShapeAndCodes) {
  auto s = make_service();
  const std::string t = s.settings().tenant_id;
  const std::string res = "&resource=https%3A%2F%2Fcognitiveservices.azure.com";
  expect_error(
      s.token(t, false, "grant_type=client_credentials&client_id=app-1&client_secret=bad" + res,
              kNow),
      401, "invalid_client", 7000215);
  expect_error(
      s.token(t, false, "grant_type=client_credentials&client_id=nobody&client_secret=x" + res,
              kNow),
      400, "unauthorized_client", 700016);
  expect_error(s.token(t, false, "client_id=app-1&client_secret=s3cret" + res, kNow), 400,
               "invalid_request", 900144);
  expect_error(s.token(t, false, "grant_type=password&client_id=app-1" + res, kNow), 400,
               "unsupported_grant_type", 70003);
  expect_error(s.token(t, true,
                       "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&scope="
                       "https%3A%2F%2Fcognitiveservices.azure.com",
                       kNow),
               400, "invalid_scope", 1002012);
  expect_error(s.token(t, false,
                       "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&"
                       "resource=https%3A%2F%2Fvault.azure.net",
                       kNow),
               400, "invalid_resource", 500011);
  expect_error(s.token("other-tenant", false, "grant_type=client_credentials", kNow), 400,
               "invalid_request", 90002);
}

TEST(Entra, OpenIdConfigurationPointsAtOurEndpoints) {
  auto s = make_service();
  auto v2 = json::parse(s.openid_configuration("x", true, "http://127.0.0.1:9").body).as_object();
  EXPECT_EQ(v2.at("token_endpoint").as_string(),
            "http://127.0.0.1:9/" + s.settings().tenant_id + "/oauth2/v2.0/token");
  EXPECT_EQ(v2.at("jwks_uri").as_string(),
            "http://127.0.0.1:9/" + s.settings().tenant_id + "/discovery/v2.0/keys");
  EXPECT_EQ(v2.at("issuer").as_string(), s.issuer(true));
  auto v1 = json::parse(s.openid_configuration("x", false, "http://h").body).as_object();
  EXPECT_EQ(v1.at("issuer").as_string(), s.issuer(false));
  auto jwks = json::parse(s.jwks().body).as_object();
  EXPECT_EQ(jwks.at("keys").as_array().at(0).as_object().at("kid").as_string(), s.key().kid());
}

TEST(Entra, ClientSecretBasicIsAccepted) {
  auto s = make_service();
  const std::string form = with_basic_credentials(
      "grant_type=client_credentials&scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default",
      "Basic " + base64_encode("app-1:s3cret"));
  EXPECT_EQ(s.token(s.settings().tenant_id, true, form, kNow).status, 200u);
  const std::string wrong = with_basic_credentials(
      "grant_type=client_credentials&scope=x%2F.default", "Basic " + base64_encode("app-1:nope"));
  EXPECT_EQ(s.token(s.settings().tenant_id, true, wrong, kNow).status, 401u);
  EXPECT_EQ(with_basic_credentials("a=1", "Bearer xyz"), "a=1");
  EXPECT_EQ(with_basic_credentials("a=1", "Basic !!!"), "a=1");
}

TEST(Form, DecodesValues) {
  EXPECT_EQ(form_value("a=1&b=x%2By+z&c", "b"), "x+y z");
  bool present = false;
  EXPECT_EQ(form_value("a=1&c", "c", &present), "");
  EXPECT_TRUE(present);
  form_value("a=1", "zz", &present);
  EXPECT_FALSE(present);
  EXPECT_EQ(form_decode("%zz%4"), "%zz%4");
  // Longer than the sixteen bytes the search for '%' and '+' takes at a time.
  EXPECT_EQ(form_decode("2024-10-21-preview-and-then-some"), "2024-10-21-preview-and-then-some");
  EXPECT_EQ(form_decode("a-value-longer-than-sixteen-bytes+"),
            "a-value-longer-than-sixteen-bytes ");
  EXPECT_EQ(form_decode("a-value-longer-than-sixteen-%41"), "a-value-longer-than-sixteen-A");
}

}  // namespace
}  // namespace sluice::sim

namespace sluice::sim {
namespace {

// The key is made when a token or the JWKS first needs it, once, whichever thread asks first.
TEST(EntraService, MakesItsKeyOnFirstUseAndOnlyOnce) {
  static const RsaKey key = RsaKey::generate(2048);
  int made = 0;
  EntraService service(AuthSettings{}, std::function<RsaKey()>([&] {
                         ++made;
                         return key;
                       }));
  EXPECT_EQ(made, 0);
  auto jwks = json::parse(service.jwks().body).as_object();
  EXPECT_EQ(made, 1);
  EXPECT_EQ(jwks.at("keys").as_array().at(0).as_object().at("kid").as_string(), key.kid());
  service.jwks();
  EXPECT_EQ(service.key().kid(), key.kid());
  EXPECT_EQ(made, 1);
}

}  // namespace
}  // namespace sluice::sim
