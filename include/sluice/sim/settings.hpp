#pragma once
// Settings of `sluice sim`: deployments, auth, Entra ID clients, faults. Parsed and validated once
// at startup (load_sim_settings), then shared read-only by every worker thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::sim {

// What a deployment's model can do; decides which operations it accepts.
enum class ModelKind { kChat, kCompletion, kEmbedding };

struct DeploymentSettings {
  std::string name;           // the deployment name in URLs (/openai/deployments/{name}/...)
  std::string model;          // base model name, e.g. "gpt-4o"; picks the tokenizer encoding
  std::string model_version;  // e.g. "2024-08-06"; the response "model" is "{model}-{version}"
  ModelKind kind = ModelKind::kChat;
  std::int64_t tokens_per_minute = 30'000;  // standard (pay-as-you-go) quota; 0 = unlimited
  // Provisioned throughput: utilization-based admission instead of TPM windows.
  bool provisioned = false;
  std::int64_t provisioned_tokens_per_minute = 0;  // capacity of the PTU deployment
  std::chrono::milliseconds time_to_first_token{200};
  double tokens_per_second = 60.0;
  double jitter = 0.1;  // relative spread of TTFT and inter-token gaps, 0..1
  int embedding_dimensions = 1536;
  std::string region = "eastus";
  int natural_length = 48;  // completion length in tokens when max_tokens does not stop it first
  // Tokens charged for the completion when a request sets no max_tokens (Azure's estimate).
  int unset_max_tokens_charge = 16;
  std::string system_fingerprint = "fp_5f20662549";

  // "gpt-4o-2024-08-06", or the bare model name when there is no version.
  std::string versioned_model() const;
};

struct ApiKey {
  std::string name;  // identity used in accounting ("team-a")
  std::string key;
};

struct EntraClient {
  std::string client_id;
  std::string client_secret;
  std::string display_name;
  std::string object_id;  // "oid" claim; derived from client_id when empty
  std::vector<std::string> roles;
};

struct AuthSettings {
  bool accept_keys = true;
  bool accept_tokens = true;
  std::vector<ApiKey> api_keys;
  std::string tenant_id = "00000000-0000-4000-8000-000000000001";
  std::vector<EntraClient> clients;
  // Audience the data-plane accepts and the token endpoint issues for cognitiveservices scopes.
  std::string audience = "https://cognitiveservices.azure.com";
  std::chrono::seconds token_lifetime{3599};
  std::string signing_key_file;  // PEM RSA private key; generated at startup when empty
};

// A fault injected into matching requests. Probabilities are per request, 0..1.
struct FaultSettings {
  std::string deployment;  // empty: every deployment
  double error_rate = 0.0;
  std::vector<int> status_codes = {500};  // picked uniformly for an injected error
  bool throttle = false;                  // answer every matching request with 429
  std::chrono::milliseconds latency_spike{0};
  double spike_rate = 0.0;
  double drop_stream_rate = 0.0;  // close the socket mid-stream
  int drop_after_tokens = 5;      // content chunks sent before the drop
};

struct SimSettings {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8000;
  int threads = 1;
  std::optional<std::uint16_t> admin_port;  // /sim/* also on this port when set
  std::uint64_t seed = 42;
  std::vector<DeploymentSettings> deployments;
  AuthSettings auth;
  std::vector<FaultSettings> faults;
};

// Defaults for a model name: kind, version, embedding size. Unknown chat models keep the given
// name with no version. Never throws.
DeploymentSettings default_deployment(std::string name, std::string model);

// Settings with one default deployment ("gpt-4o") and one API key ("sim-key"), as used when no
// config file is given.
SimSettings default_sim_settings();

// Reads a sim YAML file. Throws std::runtime_error naming file:line and key on unknown keys,
// wrong types and invalid values.
SimSettings load_sim_settings(const std::string& path);

// Parses a fault from its JSON form (the admin route's body). Returns an error message on failure.
std::optional<std::string> parse_fault_json(std::string_view json, FaultSettings& out);

}  // namespace sluice::sim
