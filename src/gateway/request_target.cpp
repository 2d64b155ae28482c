#include "sluice/gateway/operation.hpp"

#include "sluice/core/last_result.hpp"

namespace sluice::gateway {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Runs without an escape are copied whole: a path or api-version rarely has any, and a character
// at a time was most of parsing a request's target.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;  // text[0, copied) is in `out`
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.append(text.substr(copied, i - copied));
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
      copied = i + 1;
    } else if (c == '+' && plus_is_space) {
      out.append(text.substr(copied, i - copied));
      out.push_back(' ');
      copied = i + 1;
    }
  }
  out.append(text.substr(copied));
  return out;
}

Operation operation_of(std::string_view path) {
  if (path == "chat/completions") return Operation::kChatCompletions;
  if (path == "completions") return Operation::kCompletions;
  if (path == "embeddings") return Operation::kEmbeddings;
  return Operation::kOther;
}

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

}  // namespace

const char* to_string(Operation operation) {
  switch (operation) {
    case Operation::kChatCompletions:
      return "chat";
    case Operation::kCompletions:
      return "completions";
    case Operation::kEmbeddings:
      return "embeddings";
    case Operation::kOther:
      return "other";
  }
  return "other";
}

const char* to_string(ApiStyle style) {
  switch (style) {
    case ApiStyle::kAzure:
      return "azure";
    case ApiStyle::kOpenAiV1:
      return "openai_v1";
    case ApiStyle::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string()
                                          : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

namespace {

RequestTarget parse_anew(std::string_view target) {
  RequestTarget result;
  std::string_view path = target;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    result.query = std::string(target.substr(q + 1));
    result.api_version = query_parameter(result.query, "api-version");
  }
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::string_view rest = path;
  if (consume_prefix(rest, "/openai/deployments/")) {
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return result;
    result.style = ApiStyle::kAzure;
    result.deployment = percent_decode(rest.substr(0, slash), false);
    result.operation_path = std::string(rest.substr(slash + 1));
    result.operation = operation_of(result.operation_path);
    return result;
  }
  if (consume_prefix(rest, "/openai/v1/") || consume_prefix(rest, "/v1/")) {
    result.style = ApiStyle::kOpenAiV1;
    result.operation_path = std::string(rest);
    result.operation = operation_of(result.operation_path);
  }
  return result;
}

}  // namespace

RequestTarget parse_request_target(std::string_view target) {
  // A worker's requests mostly name the same target (one deployment, one API version), and this
  // runs on every request: ~870 instructions a target parsed, ~300 a kept one copied.
  thread_local core::LastResult<RequestTarget> last;
  return last.get(target, parse_anew);
}

}  // namespace sluice::gateway
