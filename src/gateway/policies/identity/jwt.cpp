#include "gateway/policies/identity/jwt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <simdjson.h>

#include "gateway/policies/identity/base64url.hpp"

namespace sluice::gateway::identity {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<Refusal> refuse(RefusalReason reason, std::string detail) {
  return Refusal{reason, std::move(detail)};
}

// Appends the parts (g++ 12 warns falsely on `std::string(view) + "literal"`).
std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) out.append(part);
  return out;
}

// Claim values quoted in log details: bounded, and without control characters that could forge
// log lines.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 96)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > 96) out += "...";
  return out;
}

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// NumericDate: an integer or a finite number (fractions are cut toward the past).
bool read_numeric_date(element value, std::int64_t& out) {
  switch (value.type()) {
    case element_type::INT64:
      out = value.get_int64().value_unsafe();
      return true;
    case element_type::UINT64:
      out = std::numeric_limits<std::int64_t>::max();
      return true;
    case element_type::DOUBLE: {
      double d = value.get_double().value_unsafe();
      if (!std::isfinite(d)) return false;
      if (d >= 9.2e18) {
        out = std::numeric_limits<std::int64_t>::max();
      } else if (d <= -9.2e18) {
        out = std::numeric_limits<std::int64_t>::min();
      } else {
        out = static_cast<std::int64_t>(std::floor(d));
      }
      return true;
    }
    default:
      return false;
  }
}

// Reads a JSON array of strings into `out`; false when it is something else.
bool read_strings(element value, std::vector<std::string>& out) {
  simdjson::dom::array array;
  if (value.get(array) != simdjson::SUCCESS) return false;
  for (auto item : array) {
    std::string_view text;
    if (item.get(text) != simdjson::SUCCESS) return false;
    out.emplace_back(text);
  }
  return true;
}

// Parses one decoded JSON object and calls `visit(key, value)` for each member. False when it is
// not an object or a member name repeats (RFC 7515 §4: a JWS with duplicate header names must be
// rejected, and a duplicated claim could mean different things to different parsers).
template <class Visit>
std::optional<Refusal> for_each_member(std::string_view json, std::string_view what, Visit visit) {
  element document;
  if (thread_parser().parse(json.data(), json.size()).get(document) != simdjson::SUCCESS) {
    return refuse(RefusalReason::kMalformedToken, concat({what, " is not valid JSON"}));
  }
  simdjson::dom::object object;
  if (document.get(object) != simdjson::SUCCESS) {
    return refuse(RefusalReason::kMalformedToken, concat({what, " is not a JSON object"}));
  }
  // Sorted, so a payload stuffed with thousands of members costs n log n, not n².
  std::vector<std::string_view> names;
  for (auto field : object) names.push_back(field.key);
  std::sort(names.begin(), names.end());
  if (auto repeated = std::adjacent_find(names.begin(), names.end()); repeated != names.end()) {
    return refuse(RefusalReason::kMalformedToken,
                  concat({what, " repeats member '", printable(*repeated), "'"}));
  }
  for (auto field : object) {
    if (auto problem = visit(field.key, field.value)) return problem;
  }
  return std::nullopt;
}

std::string_view strip_slash(std::string_view text) {
  if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return text;
}

bool issuer_matches(std::string_view pattern, std::string_view issuer, std::string_view tid) {
  constexpr std::string_view kTid = "{tid}";
  auto at = pattern.find(kTid);
  if (at == std::string_view::npos) return pattern == issuer;
  if (tid.empty()) return false;
  std::string expanded(pattern.substr(0, at));
  expanded += tid;
  expanded += pattern.substr(at + kTid.size());
  return expanded == issuer;
}

}  // namespace

const std::string& JwtClaims::app_id() const noexcept {
  if (ver == "1.0") return appid;
  if (ver == "2.0") return azp;
  return appid.empty() ? azp : appid;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point time) noexcept {
  return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::int64_t valid_until(std::int64_t exp, std::chrono::seconds skew) noexcept {
  std::int64_t s = skew.count();
  if (exp > std::numeric_limits<std::int64_t>::max() - s)
    return std::numeric_limits<std::int64_t>::max();
  return exp + s;
}

std::optional<Refusal> parse_jwt(std::string_view token, const std::vector<JwsAlgorithm>& allowed,
                                 std::size_t max_size, Jwt& out) {
  if (token.size() > max_size) {
    return refuse(RefusalReason::kTokenTooLarge, "token of " + std::to_string(token.size()) +
                                                     " bytes exceeds " + std::to_string(max_size));
  }
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return refuse(RefusalReason::kMalformedToken, "not three dot-separated parts");
  }
  std::string_view header_part = token.substr(0, first);
  std::string_view payload_part = token.substr(first + 1, second - first - 1);
  std::string_view signature_part = token.substr(second + 1);
  if (header_part.empty() || payload_part.empty()) {
    return refuse(RefusalReason::kMalformedToken, "empty header or payload");
  }
  auto header = decode_base64url(header_part);
  auto payload = decode_base64url(payload_part);
  auto signature = decode_base64url(signature_part);
  if (!header || !payload || !signature) {
    return refuse(RefusalReason::kMalformedToken, "a part is not canonical base64url");
  }

  std::optional<std::string> alg;
  out.kid.reset();
  auto header_problem = for_each_member(
      *header, "the header", [&](std::string_view key, element value) -> std::optional<Refusal> {
        std::string_view text;
        if (key == "alg") {
          if (value.get(text) != simdjson::SUCCESS) {
            return refuse(RefusalReason::kMalformedToken, "alg is not a string");
          }
          alg = std::string(text);
        } else if (key == "kid") {
          if (value.get(text) != simdjson::SUCCESS) {
            return refuse(RefusalReason::kMalformedToken, "kid is not a string");
          }
          out.kid = std::string(text);
        } else if (key == "crit") {
          // No extension is understood, so a token that makes one critical must be refused.
          return refuse(RefusalReason::kMalformedToken, "the header names critical extensions");
        }
        return std::nullopt;
      });
  if (header_problem) return header_problem;
  if (!alg) return refuse(RefusalReason::kMalformedToken, "the header has no alg");
  auto algorithm = parse_algorithm(*alg);
  if (!algorithm || std::find(allowed.begin(), allowed.end(), *algorithm) == allowed.end()) {
    return refuse(RefusalReason::kAlgorithmNotAllowed,
                  "alg '" + printable(*alg) + "' is not among the configured algorithms");
  }
  if (signature->empty()) return refuse(RefusalReason::kMalformedToken, "empty signature");
  out.algorithm = *algorithm;
  out.signature = std::move(*signature);
  out.signing_input = token.substr(0, second);

  JwtClaims& claims = out.claims;
  claims = JwtClaims{};
  auto payload_problem = for_each_member(
      *payload, "the payload", [&](std::string_view key, element value) -> std::optional<Refusal> {
        auto mistyped = [&](const char* expected) {
          return refuse(RefusalReason::kMalformedToken,
                        "claim '" + printable(key) + "' is not " + expected);
        };
        std::string_view text;
        bool is_string = value.get(text) == simdjson::SUCCESS;
        if (key == "exp" || key == "nbf") {
          std::int64_t seconds = 0;
          if (!read_numeric_date(value, seconds)) return mistyped("a number");
          (key == "exp" ? claims.exp : claims.nbf) = seconds;
          return std::nullopt;
        }
        if (key == "aud") {
          if (is_string) {
            claims.aud.emplace_back(text);
          } else if (!read_strings(value, claims.aud)) {
            return mistyped("a string or an array of strings");
          }
        } else if (key == "roles") {
          if (!read_strings(value, claims.roles)) return mistyped("an array of strings");
        } else if (key == "iss" || key == "tid" || key == "appid" || key == "azp" || key == "ver") {
          if (!is_string) return mistyped("a string");
          std::string& field = key == "iss"     ? claims.iss
                               : key == "tid"   ? claims.tid
                               : key == "appid" ? claims.appid
                               : key == "azp"   ? claims.azp
                                                : claims.ver;
          field = std::string(text);
        }
        // Every string (or array of strings) claim is also kept by name, except Entra's opaque
        // per-token values, which are no use as a dimension and cost a copy per request.
        if (key == "aio" || key == "rh" || key == "uti") return std::nullopt;
        if (is_string) {
          claims.strings.emplace(std::string(key), std::string(text));
        } else if (value.type() == element_type::ARRAY) {
          std::vector<std::string> items;
          if (read_strings(value, items)) {
            std::string joined;
            for (const auto& item : items) {
              if (!joined.empty()) joined.push_back(' ');
              joined += item;
            }
            claims.strings.emplace(std::string(key), std::move(joined));
          }
        }
        return std::nullopt;
      });
  if (payload_problem) return payload_problem;
  if (!claims.exp) return refuse(RefusalReason::kMalformedToken, "the payload has no exp");
  return std::nullopt;
}

std::optional<Refusal> check_claims(const JwtClaims& claims, const ClaimRules& rules,
                                    std::chrono::system_clock::time_point now_time) {
  const std::int64_t now = unix_seconds(now_time);
  const std::int64_t skew = rules.clock_skew.count();
  if (!claims.exp || now >= valid_until(*claims.exp, rules.clock_skew)) {
    return refuse(RefusalReason::kExpired, "exp " + std::to_string(claims.exp.value_or(0)) +
                                               " is past (now " + std::to_string(now) + ", skew " +
                                               std::to_string(skew) + "s)");
  }
  if (claims.nbf && *claims.nbf > now && *claims.nbf - now > skew) {
    return refuse(RefusalReason::kNotYetValid, "nbf " + std::to_string(*claims.nbf) +
                                                   " is ahead (now " + std::to_string(now) +
                                                   ", skew " + std::to_string(skew) + "s)");
  }
  bool issuer_ok = std::any_of(
      rules.issuers.begin(), rules.issuers.end(),
      [&](const auto& pattern) { return issuer_matches(pattern, claims.iss, claims.tid); });
  if (!issuer_ok) {
    return refuse(RefusalReason::kWrongIssuer,
                  "iss '" + printable(claims.iss) + "' is not accepted");
  }
  if (!rules.tenants.empty() &&
      std::find(rules.tenants.begin(), rules.tenants.end(), claims.tid) == rules.tenants.end()) {
    return refuse(RefusalReason::kWrongTenant,
                  "tid '" + printable(claims.tid) + "' is not accepted");
  }
  bool audience_ok = false;
  for (const auto& aud : claims.aud) {
    for (const auto& accepted : rules.audiences) {
      if (strip_slash(aud) == strip_slash(accepted)) audience_ok = true;
    }
  }
  if (!audience_ok) {
    std::string seen;
    for (const auto& aud : claims.aud) seen += (seen.empty() ? "" : ", ") + printable(aud);
    return refuse(RefusalReason::kWrongAudience, "aud [" + seen + "] is not accepted");
  }
  if (claims.app_id().empty()) {
    return refuse(RefusalReason::kMissingAppId,
                  claims.ver == "2.0" ? "v2 token without azp" : "token without appid or azp");
  }
  return std::nullopt;
}

}  // namespace sluice::gateway::identity
