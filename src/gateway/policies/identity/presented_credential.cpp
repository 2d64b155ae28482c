#include "gateway/policies/identity/presented_credential.hpp"

#include <array>
#include <cctype>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http/first_field.hpp"

namespace sluice::gateway::identity {

namespace {

using Kind = PresentedCredential::Kind;

// `Authorization: Bearer <token>`, the scheme case-insensitive (RFC 9110 §11.1).
PresentedCredential read_authorization(std::string_view value) {
  constexpr std::string_view kScheme = "bearer";
  auto is_bearer = value.size() >= kScheme.size() &&
                   (value.size() == kScheme.size() || value[kScheme.size()] == ' ');
  for (std::size_t i = 0; is_bearer && i < kScheme.size(); ++i) {
    is_bearer = std::tolower(static_cast<unsigned char>(value[i])) == kScheme[i];
  }
  if (!is_bearer) return {Kind::kOtherScheme, {}};
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return {Kind::kEmptyBearer, {}};
  return {Kind::kBearerToken, value};
}

// The bytes a JWS compact serialization is made of: the base64url alphabet and '.'.
constexpr std::array<bool, 256> kTokenBytes = [] {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  table['-'] = table['_'] = table['.'] = true;
  return table;
}();

// Where the first byte of [p, end) that is neither base64url nor '.' is, or `end`. A token is
// ~1-2 KB and this runs on every request that carries one (the cache lookup comes after), so
// sixteen bytes a step with SSE2; `isalnum` a byte at a time cost ~17 instructions a byte.
const char* find_non_token_byte(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  // x <= limit, unsigned, for every byte: min(x, limit) == x.
  auto at_most = [](__m128i x, char limit) {
    return _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(limit)), x);
  };
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // OR 0x20 folds 'A'-'Z' onto 'a'-'z' and maps nothing else there.
    const __m128i letter =
        at_most(_mm_sub_epi8(_mm_or_si128(bytes, _mm_set1_epi8(0x20)), _mm_set1_epi8('a')), 25);
    const __m128i digit = at_most(_mm_sub_epi8(bytes, _mm_set1_epi8('0')), 9);
    const __m128i punctuation =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('-')),
                                  _mm_cmpeq_epi8(bytes, _mm_set1_epi8('_'))),
                     _mm_cmpeq_epi8(bytes, _mm_set1_epi8('.')));
    const __m128i allowed = _mm_or_si128(_mm_or_si128(letter, digit), punctuation);
    if (const int mask = _mm_movemask_epi8(allowed); mask != 0xffff) {
      return p + __builtin_ctz(~mask);
    }
  }
#endif
  for (; p != end; ++p) {
    if (!kTokenBytes[static_cast<unsigned char>(*p)]) return p;
  }
  return end;
}

}  // namespace

bool looks_like_jwt(std::string_view token) noexcept {
  const char* begin = token.data();
  const char* end = begin + token.size();
  if (find_non_token_byte(begin, end) != end) return false;
  // Exactly two dots; header and payload never empty (the signature is, for alg none).
  const auto* first = static_cast<const char*>(std::memchr(begin, '.', token.size()));
  if (first == nullptr || first == begin) return false;
  const auto* second = static_cast<const char*>(std::memchr(first + 1, '.', end - first - 1));
  if (second == nullptr || second == first + 1) return false;
  return std::memchr(second + 1, '.', end - second - 1) == nullptr;
}

PresentedCredential find_credential(const http::Request& request,
                                    const CredentialSources& sources) {
  const bool keys_only_in_authorization = sources.key_header == "authorization";
  if (sources.api_keys && !keys_only_in_authorization) {
    if (auto key = http::first_field_named(request, sources.key_header)) {
      return {Kind::kApiKey, *key};
    }
  }
  auto authorization = http::first_field(request, http::Field::authorization);
  if (!authorization) return {};
  auto credential = read_authorization(*authorization);
  if (credential.kind != Kind::kBearerToken) return credential;
  // The shape only decides between a JWT and an API key. Without keys configured the value is a
  // bearer token whatever its shape (validated as a JWT, or refused), and the ~2,000 instructions
  // the check costs for a 1-2 KB token are not spent.
  if (!sources.api_keys) return credential;
  if (sources.jwt && looks_like_jwt(credential.value)) return credential;
  credential.kind = Kind::kApiKey;
  return credential;
}

}  // namespace sluice::gateway::identity
