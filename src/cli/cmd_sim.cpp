// `sluice sim`: runs the Azure OpenAI + Entra ID simulator until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/signals.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/http/server.hpp"
#include "sluice/sim/settings.hpp"
#include "sluice/sim/simulator.hpp"

namespace sluice::cli {

namespace {

struct SimOptions {
  std::string config;
  std::optional<std::uint16_t> port;
  std::optional<std::string> host;
  std::vector<std::string> deployments;  // NAME or NAME=MODEL
  std::optional<int> threads;
  std::optional<std::uint16_t> admin_port;
  std::vector<std::string> api_keys;  // NAME=KEY or KEY
  std::optional<std::int64_t> tpm;
  std::optional<int> ttft_ms;
  std::optional<double> tokens_per_second;
  std::optional<std::uint64_t> seed;
  std::string tls_cert;  // PEM chain; with tls_key, the main listener speaks HTTPS
  std::string tls_key;
};

sim::SimSettings build_settings(const SimOptions& o) {
  sim::SimSettings s =
      o.config.empty() ? sim::default_sim_settings() : sim::load_sim_settings(o.config);
  if (!o.deployments.empty()) {
    // Flags name the deployments: they replace the file's (or the default) list.
    s.deployments.clear();
    for (const auto& spec : o.deployments) {
      auto eq = spec.find('=');
      std::string name = spec.substr(0, eq);
      std::string model = eq == std::string::npos ? name : spec.substr(eq + 1);
      if (name.empty() || model.empty()) {
        throw std::runtime_error("--deployment wants NAME or NAME=MODEL, got '" + spec + "'");
      }
      s.deployments.push_back(sim::default_deployment(name, model));
    }
  }
  for (auto& d : s.deployments) {
    if (o.tpm) d.tokens_per_minute = *o.tpm;
    if (o.ttft_ms) d.time_to_first_token = std::chrono::milliseconds(*o.ttft_ms);
    if (o.tokens_per_second) d.tokens_per_second = *o.tokens_per_second;
  }
  if (!o.api_keys.empty()) {
    s.auth.api_keys.clear();
    for (const auto& spec : o.api_keys) {
      auto eq = spec.find('=');
      sim::ApiKey k;
      k.name = eq == std::string::npos ? "key" + std::to_string(s.auth.api_keys.size() + 1)
                                       : spec.substr(0, eq);
      k.key = eq == std::string::npos ? spec : spec.substr(eq + 1);
      if (k.key.empty()) throw std::runtime_error("--api-key must not be empty");
      s.auth.api_keys.push_back(std::move(k));
    }
  }
  if (o.port) s.port = *o.port;
  if (o.host) s.address = *o.host;
  if (o.threads) s.threads = *o.threads;
  if (o.admin_port) s.admin_port = *o.admin_port;
  if (o.seed) s.seed = *o.seed;
  return s;
}

int run_sim(const SimOptions& options) {
  sim::SimSettings settings = build_settings(options);
  auto log = core::get_logger("sim");

  block_shutdown_signals();  // before any thread starts, so workers inherit the mask

  sim::Simulator simulator(settings);
  http::ServerSettings server_settings;
  server_settings.address = settings.address;
  server_settings.port = settings.port;
  server_settings.threads = settings.threads;
  server_settings.name = "sim";
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      throw std::runtime_error("--tls-cert and --tls-key go together");
    }
    server_settings.tls = http::TlsServerSettings{options.tls_cert, options.tls_key};
  }
  http::Server server(server_settings,
                      [&simulator](http::Exchange& ex) { return simulator.handle(ex); });
  std::unique_ptr<http::Server> admin;
  if (settings.admin_port) {
    http::ServerSettings admin_settings = server_settings;
    admin_settings.port = *settings.admin_port;
    admin_settings.threads = 1;
    admin_settings.name = "sim-admin";
    admin_settings.tls.reset();  // the test-control routes stay plain HTTP on loopback
    admin = std::make_unique<http::Server>(
        admin_settings, [&simulator](http::Exchange& ex) { return simulator.handle_admin(ex); });
  }
  server.start();
  if (admin) admin->start();

  std::printf("sluice sim listening on %s://%s:%u\n", server_settings.tls ? "https" : "http",
              settings.address.c_str(), static_cast<unsigned>(server.port()));
  if (admin) {
    std::printf("sluice sim admin on http://%s:%u\n", settings.address.c_str(),
                static_cast<unsigned>(admin->port()));
  }
  for (const auto& d : settings.deployments) {
    std::printf("  deployment %s: %s, %s\n", d.name.c_str(), d.versioned_model().c_str(),
                d.provisioned ? "provisioned"
                              : (d.tokens_per_minute > 0
                                     ? (std::to_string(d.tokens_per_minute) + " TPM").c_str()
                                     : "no TPM limit"));
  }
  std::fflush(stdout);

  const int signal = wait_for_shutdown();  // SIGHUP: nothing to reload, the sim keeps running
  log->info("signal {} received, draining", signal);
  if (admin) admin->shutdown(std::chrono::seconds(1));
  server.shutdown(std::chrono::seconds(10));
  server.join();
  if (admin) admin->join();
  return 0;
}

}  // namespace

Command add_sim_command(CLI::App& root) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* app = root.add_subcommand("sim", "Run the Azure OpenAI + Entra ID simulator");
  app->add_option("--config,-c", options->config, "YAML config (see examples/sim.yaml)")
      ->check(CLI::ExistingFile);
  app->add_option("--port,-p", options->port, "Listening port (0 picks a free one)");
  app->add_option("--host", options->host, "Listening address");
  app->add_option("--deployment,-d", options->deployments,
                  "Deployment NAME or NAME=MODEL (repeatable; replaces the config's list)");
  app->add_option("--threads,-t", options->threads, "Worker threads")->check(CLI::Range(1, 256));
  app->add_option("--admin-port", options->admin_port, "Also serve /sim/* admin routes here");
  app->add_option("--api-key", options->api_keys, "API key NAME=KEY or KEY (repeatable)");
  app->add_option("--tpm", options->tpm, "Tokens-per-minute limit of every deployment (0: none)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--ttft-ms", options->ttft_ms, "Time to first token of every deployment")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--tokens-per-second", options->tokens_per_second,
                  "Streaming speed of every deployment (0: no pacing)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--tls-cert", options->tls_cert, "Serve HTTPS with this PEM certificate chain");
  app->add_option("--tls-key", options->tls_key, "Private key (PEM) of --tls-cert");
  app->add_option("--seed", options->seed, "Seed of generated text and embeddings");
  return Command{app, [options] { return run_sim(*options); }};
}

}  // namespace sluice::cli
