#include "gateway/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>

namespace sluice::gateway {

std::string sha256(std::string_view data) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up in the provider tables on every call
  // (about a microsecond, with a lock: 3 % of a cache hit's samples); this runs per request, so
  // the algorithm is fetched once and each thread reuses its own context.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(),
                                                                          EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (md == nullptr || !context || EVP_DigestInit_ex2(context.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    // Cannot happen with the default provider; the one-shot function is the slow, safe fallback.
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    length = SHA256_DIGEST_LENGTH;
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace sluice::gateway
