#include <boost/json.hpp>
#include <map>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/sim/settings.hpp"

namespace sluice::sim {

namespace json = boost::json;

std::string DeploymentSettings::versioned_model() const {
  if (model_version.empty()) return model;
  return model + "-" + model_version;
}

namespace {
struct ModelDefaults {
  std::string_view model;
  ModelKind kind;
  std::string_view version;
  int dimensions;
};

// Versions Azure reports in responses for its default deployments of each model.
constexpr ModelDefaults kModels[] = {
    {"gpt-4o", ModelKind::kChat, "2024-08-06", 0},
    {"gpt-4o-mini", ModelKind::kChat, "2024-07-18", 0},
    {"gpt-4.1", ModelKind::kChat, "2025-04-14", 0},
    {"gpt-4.1-mini", ModelKind::kChat, "2025-04-14", 0},
    {"gpt-4.1-nano", ModelKind::kChat, "2025-04-14", 0},
    {"gpt-4", ModelKind::kChat, "", 0},
    {"gpt-4-32k", ModelKind::kChat, "", 0},
    {"gpt-4-turbo", ModelKind::kChat, "2024-04-09", 0},
    {"gpt-35-turbo", ModelKind::kChat, "", 0},
    {"gpt-35-turbo-16k", ModelKind::kChat, "", 0},
    {"o1", ModelKind::kChat, "2024-12-17", 0},
    {"o1-mini", ModelKind::kChat, "2024-09-12", 0},
    {"o3-mini", ModelKind::kChat, "2025-01-31", 0},
    {"o4-mini", ModelKind::kChat, "2025-04-16", 0},
    {"gpt-35-turbo-instruct", ModelKind::kCompletion, "", 0},
    {"text-embedding-ada-002", ModelKind::kEmbedding, "", 1536},
    {"text-embedding-3-small", ModelKind::kEmbedding, "", 1536},
    {"text-embedding-3-large", ModelKind::kEmbedding, "", 3072},
};
}  // namespace

DeploymentSettings default_deployment(std::string name, std::string model) {
  DeploymentSettings d;
  d.name = std::move(name);
  d.model = std::move(model);
  for (const auto& m : kModels) {
    if (m.model == d.model) {
      d.kind = m.kind;
      d.model_version = std::string(m.version);
      if (m.dimensions) d.embedding_dimensions = m.dimensions;
      return d;
    }
  }
  if (d.model.rfind("text-embedding", 0) == 0) d.kind = ModelKind::kEmbedding;
  if (d.model.find("instruct") != std::string::npos) d.kind = ModelKind::kCompletion;
  return d;
}

SimSettings default_sim_settings() {
  SimSettings s;
  s.deployments.push_back(default_deployment("gpt-4o", "gpt-4o"));
  s.auth.api_keys.push_back(ApiKey{"default", "sim-key"});
  EntraClient c;
  c.client_id = "11111111-1111-4111-8111-111111111111";
  c.client_secret = "sim-secret";
  c.display_name = "sim-client";
  c.roles = {"Inference.User"};
  s.auth.clients.push_back(c);
  return s;
}

namespace {
using core::ConfigNode;

void check_rate(const ConfigNode& node, std::string_view key, double v) {
  if (v < 0.0 || v > 1.0) node.fail_at(key, "must be between 0 and 1");
}

FaultSettings read_fault(const ConfigNode& n) {
  FaultSettings f;
  f.deployment = n.optional<std::string>("deployment", "");
  f.error_rate = n.optional<double>("error_rate", 0.0);
  check_rate(n, "error_rate", f.error_rate);
  f.status_codes = n.optional<std::vector<int>>("status_codes", {500});
  for (int code : f.status_codes) {
    if (code < 400 || code > 599) n.fail_at("status_codes", "status codes must be 4xx or 5xx");
  }
  if (f.status_codes.empty()) n.fail_at("status_codes", "must list at least one status code");
  f.throttle = n.optional<bool>("throttle", false);
  f.latency_spike =
      n.optional<std::chrono::milliseconds>("latency_spike", std::chrono::milliseconds(0));
  f.spike_rate = n.optional<double>("spike_rate", 0.0);
  check_rate(n, "spike_rate", f.spike_rate);
  f.drop_stream_rate = n.optional<double>("drop_stream_rate", 0.0);
  check_rate(n, "drop_stream_rate", f.drop_stream_rate);
  f.drop_after_tokens = n.optional<int>("drop_after_tokens", 5);
  if (f.drop_after_tokens < 0) n.fail_at("drop_after_tokens", "must not be negative");
  n.finish();
  return f;
}

DeploymentSettings read_deployment(const std::string& name, const ConfigNode& n) {
  DeploymentSettings d = default_deployment(name, n.required<std::string>("model"));
  d.model_version = n.optional<std::string>("model_version", d.model_version);
  d.kind = n.optional_choice<ModelKind>("kind",
                                        {{"chat", ModelKind::kChat},
                                         {"completion", ModelKind::kCompletion},
                                         {"embedding", ModelKind::kEmbedding}},
                                        d.kind);
  d.tokens_per_minute = n.optional<std::int64_t>("tokens_per_minute", d.tokens_per_minute);
  if (d.tokens_per_minute < 0) n.fail_at("tokens_per_minute", "must not be negative");
  d.provisioned = n.optional<bool>("provisioned", false);
  d.provisioned_tokens_per_minute =
      n.optional<std::int64_t>("provisioned_tokens_per_minute", d.tokens_per_minute);
  if (d.provisioned && d.provisioned_tokens_per_minute <= 0) {
    n.fail_at("provisioned_tokens_per_minute", "must be positive for a provisioned deployment");
  }
  d.time_to_first_token =
      n.optional<std::chrono::milliseconds>("time_to_first_token", d.time_to_first_token);
  d.tokens_per_second = n.optional<double>("tokens_per_second", d.tokens_per_second);
  if (d.tokens_per_second < 0) n.fail_at("tokens_per_second", "must not be negative");
  d.jitter = n.optional<double>("jitter", d.jitter);
  check_rate(n, "jitter", d.jitter);
  d.embedding_dimensions = n.optional<int>("embedding_dimensions", d.embedding_dimensions);
  if (d.embedding_dimensions < 1 || d.embedding_dimensions > 8192) {
    n.fail_at("embedding_dimensions", "must be between 1 and 8192");
  }
  d.region = n.optional<std::string>("region", d.region);
  d.natural_length = n.optional<int>("natural_length", d.natural_length);
  if (d.natural_length < 1) n.fail_at("natural_length", "must be at least 1");
  d.unset_max_tokens_charge = n.optional<int>("unset_max_tokens_charge", d.unset_max_tokens_charge);
  d.system_fingerprint = n.optional<std::string>("system_fingerprint", d.system_fingerprint);
  n.finish();
  return d;
}

EntraClient read_client(const ConfigNode& n) {
  EntraClient c;
  c.client_id = n.required<std::string>("client_id");
  c.client_secret = n.required<std::string>("client_secret");
  c.display_name = n.optional<std::string>("display_name", c.client_id);
  c.object_id = n.optional<std::string>("object_id", "");
  c.roles = n.optional<std::vector<std::string>>("roles", {});
  n.finish();
  return c;
}
}  // namespace

SimSettings load_sim_settings(const std::string& path) {
  ConfigNode root = core::load_config_file(path);
  SimSettings s;
  ConfigNode listen = root.section("listen");
  s.address = listen.optional<std::string>("address", s.address);
  s.port = listen.optional<std::uint16_t>("port", s.port);
  s.threads = listen.optional<int>("threads", s.threads);
  if (s.threads < 1 || s.threads > 256) listen.fail_at("threads", "must be between 1 and 256");
  s.admin_port = listen.get<std::uint16_t>("admin_port");
  s.seed = root.optional<std::uint64_t>("seed", s.seed);

  ConfigNode deployments = root.section("deployments");
  for (const auto& [name, node] : deployments.entries()) {
    s.deployments.push_back(read_deployment(name, node));
  }
  if (s.deployments.empty()) root.fail_at("deployments", "at least one deployment is required");

  ConfigNode auth = root.section("auth");
  enum class Mode { kKeys, kTokens, kBoth };
  Mode mode = auth.optional_choice<Mode>(
      "mode", {{"keys", Mode::kKeys}, {"tokens", Mode::kTokens}, {"both", Mode::kBoth}},
      Mode::kBoth);
  s.auth.accept_keys = mode != Mode::kTokens;
  s.auth.accept_tokens = mode != Mode::kKeys;
  if (auto keys = auth.find("api_keys")) {
    for (const ConfigNode& k : keys->items()) {
      ApiKey key;
      key.name = k.required<std::string>("name");
      key.key = k.required<std::string>("key");
      if (key.key.empty()) k.fail_at("key", "must not be empty");
      k.finish();
      s.auth.api_keys.push_back(std::move(key));
    }
  }
  s.auth.tenant_id = auth.optional<std::string>("tenant_id", s.auth.tenant_id);
  s.auth.audience = auth.optional<std::string>("audience", s.auth.audience);
  s.auth.token_lifetime =
      auth.optional<std::chrono::seconds>("token_lifetime", s.auth.token_lifetime);
  s.auth.signing_key_file = auth.optional<std::string>("signing_key_file", "");
  if (auto clients = auth.find("clients")) {
    for (const ConfigNode& c : clients->items()) s.auth.clients.push_back(read_client(c));
  }
  if (s.auth.accept_keys && !s.auth.accept_tokens && s.auth.api_keys.empty()) {
    auth.fail_at("api_keys", "mode 'keys' needs at least one API key");
  }

  if (auto faults = root.find("faults")) {
    for (const ConfigNode& f : faults->items()) s.faults.push_back(read_fault(f));
  }
  root.finish();
  return s;
}

std::optional<std::string> parse_fault_json(std::string_view text, FaultSettings& out) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return "body is not valid JSON: " + ec.message();
  const json::object* o = v.if_object();
  if (o == nullptr) return std::string("body must be a JSON object");
  FaultSettings f;
  auto number = [](const json::value& x, double& d) {
    if (x.is_double()) {
      d = x.get_double();
    } else if (x.is_int64()) {
      d = static_cast<double>(x.get_int64());
    } else if (x.is_uint64()) {
      d = static_cast<double>(x.get_uint64());
    } else {
      return false;
    }
    return true;
  };
  for (const auto& [key, value] : *o) {
    double d = 0;
    if (key == "deployment") {
      if (!value.is_string()) return std::string("deployment must be a string");
      f.deployment = std::string(value.get_string());
    } else if (key == "error_rate" || key == "spike_rate" || key == "drop_stream_rate") {
      if (!number(value, d) || d < 0 || d > 1) {
        return std::string(key) + " must be a number between 0 and 1";
      }
      (key == "error_rate"   ? f.error_rate
       : key == "spike_rate" ? f.spike_rate
                             : f.drop_stream_rate) = d;
    } else if (key == "latency_spike_ms") {
      if (!number(value, d) || d < 0 || d > 600'000) {
        return std::string("latency_spike_ms must be between 0 and 600000");
      }
      f.latency_spike = std::chrono::milliseconds(static_cast<std::int64_t>(d));
    } else if (key == "drop_after_tokens") {
      if (!number(value, d) || d < 0 || d > 1e6) {
        return std::string("drop_after_tokens must be a non-negative integer");
      }
      f.drop_after_tokens = static_cast<int>(d);
    } else if (key == "throttle") {
      if (!value.is_bool()) return std::string("throttle must be true or false");
      f.throttle = value.get_bool();
    } else if (key == "status_codes") {
      const json::array* a = value.if_array();
      if (a == nullptr || a->empty()) return std::string("status_codes must be a non-empty array");
      f.status_codes.clear();
      for (const auto& c : *a) {
        if (!number(c, d) || d < 400 || d > 599) {
          return std::string("status_codes must be 4xx or 5xx integers");
        }
        f.status_codes.push_back(static_cast<int>(d));
      }
    } else {
      return "unknown key '" + std::string(key) + "'";
    }
  }
  out = std::move(f);
  return std::nullopt;
}

}  // namespace sluice::sim
