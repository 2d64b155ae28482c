#pragma once
// What identifies "the same caller" for policies that keep something per caller: the token limit's
// counters and the response cache's partitions. Written in config as a list of parts:
//   app_id | api_key | client_ip | deployment | header:NAME | claim:NAME
#include <string>
#include <string_view>

#include "sluice/core/config_node.hpp"
#include "sluice/gateway/request_context.hpp"

namespace sluice::gateway {

struct CallerKeyPart {
  enum class Kind { kAppId, kApiKey, kClientIp, kDeployment, kHeader, kClaim };
  Kind kind = Kind::kAppId;
  std::string name;  // header (lower case) or claim name (kHeader, kClaim)

  // Reads one part ("app_id", "header:x-team", ...). Throws core::ConfigError naming the node,
  // `what` the list is ("counter key", "vary_by") and the known parts.
  static CallerKeyPart from_config(const core::ConfigNode& node, std::string_view what);
  // How it is written in config.
  std::string to_string() const;
  // Its value for this request; "" when the request has none (no header, anonymous caller). The
  // view lives as long as the request. Any thread.
  std::string_view value_in(const RequestContext& context) const;
};

}  // namespace sluice::gateway
