#include "gateway/caller_key.hpp"

#include <cctype>

#include "http/first_field.hpp"

namespace sluice::gateway {

CallerKeyPart CallerKeyPart::from_config(const core::ConfigNode& node, std::string_view what) {
  const std::string& text = node.scalar();
  CallerKeyPart part;
  auto named = [&](std::string_view prefix, Kind kind) {
    if (!text.starts_with(prefix)) return false;
    part.kind = kind;
    part.name = text.substr(prefix.size());
    if (part.name.empty()) node.fail("'" + text + "' needs a name after the colon");
    return true;
  };
  if (text == "app_id") {
    part.kind = Kind::kAppId;
  } else if (text == "api_key") {
    part.kind = Kind::kApiKey;
  } else if (text == "client_ip") {
    part.kind = Kind::kClientIp;
  } else if (text == "deployment") {
    part.kind = Kind::kDeployment;
  } else if (named("header:", Kind::kHeader)) {
    for (char& c : part.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (!named("claim:", Kind::kClaim)) {
    node.fail("unknown " + std::string(what) + " part '" + text +
              "' (known: app_id, api_key, client_ip, deployment, header:NAME, claim:NAME)");
  }
  return part;
}

std::string CallerKeyPart::to_string() const {
  switch (kind) {
    case Kind::kAppId:
      return "app_id";
    case Kind::kApiKey:
      return "api_key";
    case Kind::kClientIp:
      return "client_ip";
    case Kind::kDeployment:
      return "deployment";
    case Kind::kHeader:
      return "header:" + name;
    case Kind::kClaim:
      return "claim:" + name;
  }
  return "app_id";
}

std::string_view CallerKeyPart::value_in(const RequestContext& context) const {
  switch (kind) {
    case Kind::kAppId:
      return context.identity().app_id;
    case Kind::kApiKey:
      return context.identity().key_id;
    case Kind::kClientIp:
      return context.client_ip;
    case Kind::kDeployment:
      return context.deployment;
    case Kind::kHeader:
      return http::first_field_named(context.exchange.request(), name).value_or(std::string_view{});
    case Kind::kClaim: {
      auto it = context.identity().claims.find(name);
      return it == context.identity().claims.end() ? std::string_view()
                                                   : std::string_view(it->second);
    }
  }
  return {};
}

}  // namespace sluice::gateway
