#pragma once
// What a request asks for, known to every policy: the API style of its path, the operation,
// the deployment (Azure path) or model (OpenAI v1 body), and the api-version.
#include <string>
#include <string_view>

namespace sluice::gateway {

enum class Operation { kChatCompletions, kCompletions, kEmbeddings, kOther };
enum class ApiStyle {
  kAzure,     // /openai/deployments/{deployment}/{operation}?api-version=...
  kOpenAiV1,  // /v1/{operation} or /openai/v1/{operation}, model in the body
  kUnknown    // anything else (passed through or refused by config)
};

const char* to_string(Operation operation);
const char* to_string(ApiStyle style);

struct RequestTarget {
  ApiStyle style = ApiStyle::kUnknown;
  Operation operation = Operation::kOther;
  std::string deployment;   // Azure style only; v1 takes the model from the body
  std::string api_version;  // from the query string, may be empty
  std::string
      operation_path;  // "chat/completions", "embeddings", ... (after the deployment or v1/)
  std::string query;   // the query string without '?', as sent
};

// Parses a request target ("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21").
// Never fails: unknown shapes come back as ApiStyle::kUnknown. Percent-escapes in the deployment
// are decoded. Thread-safe.
RequestTarget parse_request_target(std::string_view target);

// The value of one query parameter (decoded), or "" when absent.
std::string query_parameter(std::string_view query, std::string_view name);

}  // namespace sluice::gateway
