#include "gateway/policies/identity/tests/test_keys.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <map>
#include <stdexcept>

namespace sluice::gateway::identity::testing {

namespace json = boost::json;

namespace {

std::string bn_param(EVP_PKEY* key, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("no key parameter");
  std::size_t size = pad ? pad : static_cast<std::size_t>(BN_num_bytes(bn));
  std::string out(size, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size));
  BN_free(bn);
  return out;
}

}  // namespace

std::string b64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto at = [&](std::size_t n) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[n]));
  };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (bytes.size() - i == 1) {
    unsigned v = at(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

TestKey TestKey::rsa(std::string kid, int bits) {
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (!raw) throw std::runtime_error("RSA keygen failed");
  return TestKey(std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), std::move(kid), true);
}

TestKey TestKey::ec_p256(std::string kid) {
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  if (!raw) throw std::runtime_error("EC keygen failed");
  return TestKey(std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), std::move(kid), false);
}

json::object TestKey::jwk() const {
  json::object o;
  if (rsa_) {
    o["kty"] = "RSA";
    o["n"] = b64url(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N));
    o["e"] = b64url(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E));
  } else {
    o["kty"] = "EC";
    o["crv"] = "P-256";
    o["x"] = b64url(bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
    o["y"] = b64url(bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  o["use"] = "sig";
  o["kid"] = kid_;
  return o;
}

std::string TestKey::sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sign failed");
  }
  sig.resize(len);
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (rsa_) return sig;
  // DER → r||s
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

std::string TestKey::public_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

const TestKey& shared_rsa(const std::string& kid) {
  static std::map<std::string, TestKey> keys;
  auto it = keys.find(kid);
  if (it == keys.end()) it = keys.emplace(kid, TestKey::rsa(kid)).first;
  return it->second;
}

const TestKey& shared_ec(const std::string& kid) {
  static std::map<std::string, TestKey> keys;
  auto it = keys.find(kid);
  if (it == keys.end()) it = keys.emplace(kid, TestKey::ec_p256(kid)).first;
  return it->second;
}

std::string jwks_of(const std::vector<const TestKey*>& keys) {
  json::array list;
  for (const auto* key : keys) list.push_back(key->jwk());
  json::object doc;
  doc["keys"] = std::move(list);
  return json::serialize(doc);
}

std::string sign_token(const TestKey& key, const json::object& header,
                       const json::object& payload) {
  std::string input = b64url(json::serialize(header)) + "." + b64url(json::serialize(payload));
  return input + "." + b64url(key.sign(input));
}

std::string token(const TestKey& key, const json::object& payload) {
  json::object header;
  header["typ"] = "JWT";
  header["alg"] = key.alg();
  header["kid"] = key.kid();
  return sign_token(key, header, payload);
}

std::string hs256_token(std::string_view secret, const json::object& header,
                        const json::object& payload) {
  std::string input = b64url(json::serialize(header)) + "." + b64url(json::serialize(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::string unsigned_token(const json::object& header, const json::object& payload) {
  return b64url(json::serialize(header)) + "." + b64url(json::serialize(payload)) + ".";
}

json::object v1_claims(std::int64_t now, std::string_view tenant, std::string_view app_id) {
  json::object c;
  c["aud"] = "https://cognitiveservices.azure.com";
  c["iss"] = "https://sts.windows.net/" + std::string(tenant) + "/";
  c["iat"] = now - 300;
  c["nbf"] = now - 300;
  c["exp"] = now + 3600;
  c["appid"] = app_id;
  c["appidacr"] = "1";
  c["idtyp"] = "app";
  c["oid"] = "9a1c2f3e-0000-4000-8000-00000000000a";
  c["sub"] = "9a1c2f3e-0000-4000-8000-00000000000a";
  c["tid"] = tenant;
  c["ver"] = "1.0";
  return c;
}

json::object v2_claims(std::int64_t now, std::string_view tenant, std::string_view app_id) {
  json::object c = v1_claims(now, tenant, app_id);
  c.erase("appid");
  c.erase("appidacr");
  c["azp"] = app_id;
  c["azpacr"] = "1";
  c["iss"] = "https://login.microsoftonline.com/" + std::string(tenant) + "/v2.0";
  c["ver"] = "2.0";
  return c;
}

}  // namespace sluice::gateway::identity::testing
