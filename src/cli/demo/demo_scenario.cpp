#include "cli/demo/demo_scenario.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

namespace sluice::cli::demo {

namespace {

// Prompt tokens of a demo request (system message + a CSV prompt + the chat framing), rounded up;
// used only to size limits, never reported.
constexpr int kPromptTokensEstimate = 40;

std::string yaml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

}  // namespace

DemoScenario DemoScenario::make(double rate, std::optional<int> vus,
                                std::chrono::seconds duration) {
  DemoScenario s;
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  s.console_key = "console-";
  for (int i = 0; i < 32; ++i) s.console_key += kHex[random() % 16];
  s.rate = rate;
  s.vus = vus;
  s.duration = duration;
  s.natural_length = 120;
  s.apps = {
      {"chat-frontend",
       "11111111-1111-4111-8111-111111111111",
       "chat-frontend-secret",
       {"Inference.User"},
       0.3,
       64},
      {"batch-jobs",
       "22222222-2222-4222-8222-222222222222",
       "batch-jobs-secret",
       {"Inference.User", "Batch.Submit"},
       0.5,
       256},
      {"analytics",
       "33333333-3333-4333-8333-333333333333",
       "analytics-secret",
       {"Inference.User"},
       0.2,
       32,
       /*cached=*/true},
  };
  s.regions = {
      {"swedencentral-ptu", "gpt-4o-ptu", "swedencentral", "demo-key-swedencentral", true, 0, 1},
      {"eastus-paygo", "gpt-4o-eastus", "eastus", "demo-key-eastus", false, 0, 2},
      {"westus3-paygo-flaky", "gpt-4o-westus3", "westus3", "demo-key-westus3", false, 0.25, 2},
  };
  // Sizing, in tokens per second of the run. With virtual users the rate is not known up front;
  // a VU of this timing model completes about one request per 1.5 s.
  double total_rate = vus ? *vus / 1.5 : rate;
  double window_s = static_cast<double>(std::min<long>(duration.count(), 60));
  double demand_per_s = 0;
  for (const auto& app : s.apps) {
    demand_per_s += total_rate * app.share *
                    (kPromptTokensEstimate + std::min(app.max_tokens, s.natural_length));
  }
  const DemoApp& chat = s.apps.front();
  // Every app gets the same per-minute limit: 1.3x what chat-frontend uses over the run (capped
  // at a minute), so chat-frontend and analytics stay under it, and batch-jobs, which sends more
  // requests with longer answers (about 2.5x chat-frontend's tokens), goes over it and is
  // throttled.
  s.app_tokens_per_minute = static_cast<int>(std::ceil(
      1.3 * total_rate * chat.share * (kPromptTokensEstimate + chat.max_tokens) * window_s));
  // The PTU holds 30% of the run's demand: it fills within the first third of the run and the
  // rest spills to pay-as-you-go.
  s.ptu_tokens_per_minute =
      std::max(1000, static_cast<int>(std::ceil(0.3 * demand_per_s * window_s)));
  // Pay-as-you-go never throttles: its requests-per-10s limit (TPM / 1000) covers a burst of
  // everything at once.
  s.payg_tokens_per_minute = std::max(1'000'000, static_cast<int>(total_rate * 10 * 1000 * 4));
  return s;
}

const DemoApp* DemoScenario::app_by_client_id(const std::string& client_id) const {
  for (const auto& a : apps)
    if (a.client_id == client_id) return &a;
  return nullptr;
}

const DemoRegion* DemoScenario::region_by_backend(const std::string& backend) const {
  for (const auto& r : regions)
    if (r.backend == backend) return &r;
  return nullptr;
}

const DemoRegion* DemoScenario::region_by_deployment(const std::string& name) const {
  for (const auto& r : regions)
    if (r.deployment == name) return &r;
  return nullptr;
}

std::string DemoScenario::sim_yaml() const {
  std::ostringstream y;
  y << "# sluice demo: the simulated Azure OpenAI resource (three regions) and its Entra tenant.\n"
       "listen: {address: 127.0.0.1, port: 0, threads: 1}\n"
       "seed: 42\n"
       "deployments:\n";
  for (const auto& r : regions) {
    y << "  " << r.deployment << ":\n"
      << "    model: gpt-4o\n"
      << "    region: " << r.region << "\n"
      << "    time_to_first_token: " << (r.provisioned ? "150ms" : "250ms") << "\n"
      << "    tokens_per_second: " << (r.provisioned ? 120 : 80) << "\n"
      << "    natural_length: " << natural_length << "\n";
    if (r.provisioned) {
      y << "    provisioned: true\n"
        << "    provisioned_tokens_per_minute: " << ptu_tokens_per_minute << "\n";
    } else {
      y << "    tokens_per_minute: " << payg_tokens_per_minute << "\n";
    }
  }
  y << "auth:\n"
       "  mode: both\n"
       "  api_keys:\n";
  for (const auto& r : regions)
    y << "    - {name: gateway-" << r.region << ", key: " << r.api_key << "}\n";
  y << "  tenant_id: " << tenant_id << "\n"
    << "  audience: " << audience << "\n"
    << "  token_lifetime: 1h\n"
    << "  clients:\n";
  for (const auto& a : apps) {
    y << "    - {client_id: " << a.client_id << ", client_secret: " << a.client_secret
      << ", display_name: " << a.name << ", roles: " << yaml_list(a.roles) << "}\n";
  }
  y << "faults:\n";
  bool any = false;
  for (const auto& r : regions) {
    if (r.error_rate <= 0) continue;
    any = true;
    y << "  - {deployment: " << r.deployment << ", error_rate: " << r.error_rate
      << ", status_codes: [500, 503]}\n";
  }
  if (!any) y << "  []\n";
  return y.str();
}

std::string DemoScenario::gateway_yaml(const std::string& sim_url,
                                       const std::filesystem::path& out) const {
  std::ostringstream y;
  y << "# sluice demo: the gateway. PTU first, pay-as-you-go second; Entra JWTs from the\n"
       "# simulator's tenant; one token limit per app; usage records in SQLite; /metrics.\n"
       "listeners:\n"
       "  - {address: 127.0.0.1, port: 0, threads: 2}\n"
       "admin: {address: 127.0.0.1, port: 0}\n"
       "backends:\n";
  for (const auto& r : regions) {
    y << "  - name: " << r.backend << "\n"
      << "    url: " << sim_url << "\n"
      << "    auth: {type: api-key, key: " << r.api_key << "}\n"
      << "    deployments: {" << deployment << ": " << r.deployment << "}\n"
      << "    timeouts: {connect: 2s, response: 60s, stream_idle: 30s}\n";
  }
  y << "pools:\n"
       "  - name: "
    << deployment
    << "\n"
       "    members:\n";
  for (const auto& r : regions)
    y << "      - {backend: " << r.backend << ", priority: " << r.priority << "}\n";
  y << "    breaker: {failures: 3, interval: 10s, trip_duration: 5s, honor_retry_after: true}\n"
       "    retry: {max_attempts: 3, max_time: 30s}\n"
       "routes:\n"
       "  - {name: "
    << deployment << ", match: {deployments: [" << deployment << "]}, pool: " << deployment
    << "}\n"
       "unknown_routes: reject\n"
       "drain_timeout: 5s\n"
       "policies:\n"
       "  identity:\n"
       "    jwt:\n"
       "      issuers: [\"https://sts.windows.net/{tid}/\", "
       "\"https://login.microsoftonline.com/{tid}/v2.0\"]\n"
       "      tenants: ["
    << tenant_id << "]\n"
    << "      audiences: [\"" << audience << "\"]\n"
    << "      jwks_url: " << sim_url << "/" << tenant_id << "/discovery/v2.0/keys\n"
    << "    apps:\n";
  for (const auto& a : apps) y << "      " << a.client_id << ": {display_name: " << a.name << "}\n";
  y << "    required_roles: [Inference.User]\n"
       "  token_limit:\n"
       "    limits:\n"
       "      - name: per-app\n"
       "        counter_key: app_id\n"
       "        tokens_per_minute: "
    << app_tokens_per_minute << "\n"
    << "        estimate_prompt_tokens: true\n"
       "  cache: {ttl: 10m, vary_by: app_id}\n"
       "  usage:\n"
       "    journal: "
    << (out / "usage-journal").string() << "\n"
    << "    store: " << (out / "usage.db").string() << "\n"
    << "    ship_interval: 200ms\n"
       "  metrics:\n"
       "    dimensions: [app, deployment, model, backend, operation]\n"
       "  prompt_log:\n"
       "    sample_rate: 0.2\n"
       "    file: "
    << (out / "logs" / "prompts.jsonl").string() << "\n"
    << "# the operator console on the admin port (docs/console.md)\n"
       "console:\n"
       "  access:\n"
       "    api_keys: {keys: [{id: console-admin, key: "
    << console_key << ", app_id: operator}]}\n";
  return y.str();
}

std::string DemoScenario::load_yaml(const DemoApp& app, const std::string& gateway_url,
                                    const std::string& sim_url,
                                    const std::string& scrape_url) const {
  std::ostringstream y;
  y << "# sluice demo: the load of " << app.name << " through the gateway.\n"
    << "version: v0.1\n"
    << "testId: demo-" << app.name << "\n"
    << "displayName: sluice demo\n"
    << "description: three apps through the gateway, PTU first, pay-as-you-go second\n"
    << "configurationFiles: [prompts.csv]\n"
    << "autoStop: disable\n"
    << "target:\n"
    << "  endpoint: " << gateway_url << "\n"
    << "  deployment: " << deployment << "\n"
    << "  apiVersion: 2024-10-21\n"
    << "  timeout: 60s\n"
    << "auth:\n"
    << "  type: entra\n"
    << "  tenantId: " << tenant_id << "\n"
    << "  clientId: " << app.client_id << "\n"
    << "  clientSecret: " << app.client_secret << "\n"
    << "  scope: " << audience << "/.default\n"
    << "  authority: " << sim_url << "\n"
    << "request:\n"
    << "  label: " << app.name << "\n"
    << "  body: '{\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant "
       "for the "
    << app.name
    << " team.\"},{\"role\":\"user\",\"content\":\"${prompt}\"}],\"max_tokens\":" << app.max_tokens
    << (app.cached ? ",\"temperature\":0" : "") << ",\"stream\":${stream}}'\n"
    << "dataset:\n"
    << "  path: prompts.csv\n"
    << "  variables: [prompt, stream]\n"
    << "  header: false\n"
    << "  recycle: true\n"
    << "load:\n";
  if (vus) {
    int n = std::max(1, static_cast<int>(std::lround(*vus * app.share)));
    y << "  virtualUsers: " << n << "\n"
      << "  rampUp: 2s\n"
      // A throttled request comes back at once; without a pause a VU would spin on 429s.
      << "  thinkTime: 500ms\n"
      << "  duration: " << duration.count() << "s\n";
  } else {
    y << "  arrivalRate: " << rate * app.share << "\n"
      << "  arrival: poisson\n"
      << "  maxConcurrency: 64\n"
      << "  duration: " << duration.count() << "s\n";
  }
  if (!scrape_url.empty()) {
    y << "serverMetrics:\n"
      << "  - {name: gateway, url: \"" << scrape_url
      << "\", interval: 1s, metrics: [\"sluice_*\", \"gen_ai_*\"]}\n";
  }
  return y.str();
}

std::string DemoScenario::prompts_csv() {
  return "Summarise the benefits of pooled model capacity in two sentences.,true\n"
         "\"Write a haiku about rate limits, and mention \"\"429\"\" once.\",false\n"
         "Explain time to first token to a product manager.,true\n"
         "List three reasons to stream chat completions.,false\n"
         "What does a circuit breaker do in an API gateway?,true\n"
         "\"Translate to French: \"\"The gateway holds under load.\"\"\",false\n"
         "\"Give one tip for writing load tests, in under 20 words.\",true\n"
         "Why measure latency from the intended send time?,false\n"
         "Draft a status update: the PTU deployment is at full utilization.,true\n"
         "Classify this ticket: 'the invoice total is wrong'.,false\n"
         "Summarise last week's support tickets about login failures.,true\n"
         "Extract the dates from: the contract runs from 1 March to 30 June.,false\n";
}

}  // namespace sluice::cli::demo
