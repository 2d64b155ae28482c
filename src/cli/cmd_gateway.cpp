// `sluice gateway --config FILE`: runs the gateway until SIGINT/SIGTERM (drains), reloads on
// SIGHUP.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/signals.hpp"
#include "sluice/gateway/gateway.hpp"

namespace sluice::cli {

namespace {
struct GatewayOptions {
  std::string config;
  bool check = false;
};

std::string url_of(const http::ServerSettings& listener, std::uint16_t port) {
  std::string host = listener.address.find(':') != std::string::npos ? "[" + listener.address + "]"
                                                                     : listener.address;
  return std::string(listener.tls ? "https" : "http") + "://" + host + ":" + std::to_string(port);
}
}  // namespace

Command add_gateway_command(CLI::App& root) {
  auto options = std::make_shared<GatewayOptions>();
  auto* app = root.add_subcommand(
      "gateway", "Run the gateway: Azure OpenAI / OpenAI v1 compatible proxy with policies");
  app->add_option("-c,--config", options->config, "Gateway configuration (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_flag("--check", options->check, "Validate the configuration and exit");
  return {app, [options]() -> int {
            block_shutdown_signals();
            gateway::Gateway gateway(options->config);
            if (options->check) {
              std::printf("%s: configuration is valid\n", options->config.c_str());
              return 0;
            }
            gateway.start();
            auto ports = gateway.listener_ports();
            const auto& settings = gateway.settings();
            for (const auto& backend : settings.backends) {
              if (!backend.proxy) continue;
              std::printf("sluice gateway: backend %s via proxy %s (from %s)\n",
                          backend.name.c_str(), backend.proxy->display().c_str(),
                          backend.proxy->source.c_str());
            }
            for (std::size_t i = 0; i < ports.size(); ++i) {
              std::printf("sluice gateway listening on %s\n",
                          url_of(settings.listeners[i], ports[i]).c_str());
            }
            if (gateway.admin_port()) {
              std::printf("sluice gateway admin on %s\n",
                          url_of(*settings.admin, gateway.admin_port()).c_str());
            }
            std::fflush(stdout);
            wait_for_shutdown([&] {
              std::string error;
              if (gateway.reload(&error)) {
                std::fprintf(stderr, "sluice gateway: configuration reloaded from %s\n",
                             options->config.c_str());
              } else {
                std::fprintf(stderr,
                             "sluice gateway: reload refused, keeping the running "
                             "configuration: %s\n",
                             error.c_str());
              }
            });
            std::fprintf(stderr, "sluice gateway: draining\n");
            gateway.drain();
            return 0;
          }};
}

}  // namespace sluice::cli
