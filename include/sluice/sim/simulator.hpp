#pragma once
// `sluice sim`: a wire-faithful Azure OpenAI and Entra ID simulator behind sluice's HTTP server.
//
//   Simulator sim(settings);                       // loads tokenizers, signing key (may throw)
//   http::Server server(server_settings, [&](http::Exchange& ex) { return sim.handle(ex); });
//
// handle() serves the data plane (/openai/deployments/…, /openai/v1/…, /v1/…), the Entra ID
// endpoints (/{tenant}/oauth2/…, OpenID configuration, JWKS) and the admin routes (/sim/usage,
// /sim/faults, /sim/limits/reset). handle_admin() serves only the admin routes (for --admin-port).
// Both may run on every worker thread at once; shared state is internally synchronised.
#include <memory>
#include <string>

#include "sluice/http/server.hpp"
#include "sluice/sim/settings.hpp"

namespace sluice::sim {

class Simulator {
 public:
  // Throws std::runtime_error when a deployment's model has no tokenizer encoding or the signing
  // key cannot be made or read.
  explicit Simulator(SimSettings settings);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  http::Task<void> handle(http::Exchange& exchange);
  http::Task<void> handle_admin(http::Exchange& exchange);

  const SimSettings& settings() const;
  // GET /sim/usage's document.
  std::string usage_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::sim
