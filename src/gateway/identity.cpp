#include "sluice/gateway/identity.hpp"

#include <algorithm>

#include "sluice/gateway/usage.hpp"

namespace sluice::gateway {

bool Identity::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

const Identity& anonymous_identity() noexcept {
  static const Identity anonymous;
  return anonymous;
}

const char* to_string(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kAnonymous:
      return "anonymous";
    case IdentityKind::kJwt:
      return "jwt";
    case IdentityKind::kApiKey:
      return "api_key";
  }
  return "anonymous";
}

const char* to_string(UsageSource source) {
  switch (source) {
    case UsageSource::kNone:
      return "none";
    case UsageSource::kReported:
      return "reported";
    case UsageSource::kEstimated:
      return "estimated";
  }
  return "none";
}

}  // namespace sluice::gateway
