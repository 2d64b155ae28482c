#pragma once
// The demo's scenario: three client apps of one Entra tenant, a PTU-first pool over three regions
// of a simulated Azure OpenAI resource, and the configs of the simulator, the gateway and one load
// test per app that realise it. Limits are sized from the requested rate and duration so that the
// effects the demo shows (PTU spill-over, one app over its token share) happen in any run length;
// every figure the demo prints afterwards is read back from the running components.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cli::demo {

struct DemoApp {
  std::string name;  // Entra display name, the load test's label
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> roles;
  double share = 0;    // of the total arrival rate (or of the virtual users)
  int max_tokens = 0;  // per request
  // Sends temperature 0, so the gateway's response cache answers its repeated prompts (the other
  // apps sample, which the cache leaves alone).
  bool cached = false;
};

struct DemoRegion {
  std::string backend;     // gateway backend name
  std::string deployment;  // simulator deployment name
  std::string region;      // x-ms-region
  std::string api_key;     // the gateway's key for this backend
  bool provisioned = false;
  double error_rate = 0;  // injected 500/503 share
  int priority = 1;
};

struct DemoScenario {
  std::string tenant_id = "00000000-0000-4000-8000-0000000000de";
  std::string audience = "https://cognitiveservices.azure.com";
  std::string deployment = "gpt-4o";  // what clients call
  std::vector<DemoApp> apps;
  std::vector<DemoRegion> regions;
  double rate = 0;         // requests per second, all apps together (open model)
  std::optional<int> vus;  // closed model instead, all apps together
  std::chrono::seconds duration{60};
  int natural_length = 0;          // completion tokens when max_tokens does not cut
  int ptu_tokens_per_minute = 0;   // the primary's provisioned capacity
  int app_tokens_per_minute = 0;   // every app's gateway limit
  int payg_tokens_per_minute = 0;  // each pay-as-you-go deployment
  // The console's admin key (console.access), fresh for every run: printed by --keep-running.
  std::string console_key;

  static DemoScenario make(double rate, std::optional<int> vus, std::chrono::seconds duration);

  const DemoApp* app_by_client_id(const std::string& client_id) const;
  const DemoRegion* region_by_backend(const std::string& backend) const;
  const DemoRegion* region_by_deployment(const std::string& deployment) const;

  std::string sim_yaml() const;
  std::string gateway_yaml(const std::string& sim_url, const std::filesystem::path& out) const;
  // `scrape_url`: the gateway's /metrics, scraped into this app's results (one app is enough).
  std::string load_yaml(const DemoApp& app, const std::string& gateway_url,
                        const std::string& sim_url, const std::string& scrape_url) const;
  // Prompts with a `stream` column (true/false) that mixes streamed and plain answers.
  static std::string prompts_csv();
};

}  // namespace sluice::cli::demo
