#include "gateway/policies/identity/presented_credential.hpp"

#include <cctype>

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

bool is_base64url(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

}  // namespace

bool looks_like_jwt(std::string_view token) noexcept {
  std::size_t segment = 0;
  std::size_t length = 0;
  for (char c : token) {
    if (c == '.') {
      if (length == 0 || ++segment > 2) return false;  // header and payload are never empty
      length = 0;
    } else if (!is_base64url(c)) {
      return false;
    } else {
      ++length;
    }
  }
  return segment == 2;
}

PresentedCredential find_credential(const http::Request& request,
                                    const CredentialSources& sources) {
  const bool keys_only_in_authorization = sources.key_header == "authorization";
  if (sources.api_keys && !keys_only_in_authorization) {
    if (auto it = request.find(sources.key_header); it != request.end()) {
      return {Kind::kApiKey, it->value()};
    }
  }
  auto it = request.find(http::Field::authorization);
  if (it == request.end()) return {};
  auto credential = read_authorization(it->value());
  if (credential.kind != Kind::kBearerToken) return credential;
  if (sources.jwt && looks_like_jwt(credential.value)) return credential;
  if (sources.api_keys) credential.kind = Kind::kApiKey;
  return credential;
}

}  // namespace sluice::gateway::identity
