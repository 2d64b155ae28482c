#include "gateway/policies/cache/request_key.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

#include "gateway/sha256.hpp"
#include "sluice/core/json_string.hpp"

namespace sluice::gateway::cache {

namespace {

constexpr std::string_view kAlwaysIgnored[] = {"stream", "stream_options", "user"};

template <class Int>
void append_integer(std::string& out, Int value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_number(std::string& out, double value) {
  // Integral values print as integers, so 1, 1.0 and 1e0 are one key. Beyond 2^53 a double is
  // not exact anyway; it prints with full precision.
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9007199254740992.0) {
    append_integer(out, static_cast<std::int64_t>(value));
    return;
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_value(std::string& out, const boost::json::value& value);

void append_object(std::string& out, const boost::json::object& object,
                   const std::vector<std::string_view>* keep) {
  std::vector<const boost::json::key_value_pair*> members;
  members.reserve(object.size());
  for (const auto& member : object) {
    if (keep && std::find(keep->begin(), keep->end(), member.key()) == keep->end()) continue;
    members.push_back(&member);
  }
  std::sort(members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  out.push_back('{');
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out.push_back(',');
    core::append_json_string(out, members[i]->key());
    out.push_back(':');
    append_value(out, members[i]->value());
  }
  out.push_back('}');
}

void append_value(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out.append("null");
      break;
    case boost::json::kind::bool_:
      out.append(value.get_bool() ? "true" : "false");
      break;
    case boost::json::kind::int64:
      append_integer(out, value.get_int64());
      break;
    case boost::json::kind::uint64:
      append_integer(out, value.get_uint64());
      break;
    case boost::json::kind::double_:
      append_number(out, value.get_double());
      break;
    case boost::json::kind::string:
      core::append_json_string(out, value.get_string());
      break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, item);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object:
      append_object(out, value.get_object(), nullptr);
      break;
  }
}

void append_part(std::string& out, std::string_view part) {
  out.append(std::to_string(part.size()));
  out.push_back(':');
  out.append(part);
}

}  // namespace

std::string normalised_body(const boost::json::object& body, const KeyFields& fields) {
  std::vector<std::string_view> keep;
  for (const auto& member : body) {
    std::string_view key = member.key();
    bool ignored =
        std::find(std::begin(kAlwaysIgnored), std::end(kAlwaysIgnored), key) !=
            std::end(kAlwaysIgnored) ||
        std::find(fields.ignore.begin(), fields.ignore.end(), key) != fields.ignore.end();
    bool matched = fields.match.empty() ||
                   std::find(fields.match.begin(), fields.match.end(), key) != fields.match.end();
    if (!ignored && matched) keep.push_back(key);
  }
  std::string out;
  append_object(out, body, &keep);
  return out;
}

std::string request_key(const KeyParts& parts) {
  std::string text;
  text.reserve(parts.body.size() + 64);
  for (auto part : {parts.route, parts.deployment, parts.operation, parts.partition, parts.body}) {
    append_part(text, part);
  }
  const std::string digest = sha256(text);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  key.reserve(2 * digest.size());
  for (unsigned char byte : digest) {
    key.push_back(kHex[byte >> 4]);
    key.push_back(kHex[byte & 15]);
  }
  return key;
}

}  // namespace sluice::gateway::cache
