#pragma once
// `sluice gateway`: the listeners, the admin listener and the live runtime, from one config file.
// Reload (SIGHUP) swaps routes, pools, backends and policies atomically; listeners keep running
// (a change of listener addresses needs a restart, and reload says so).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

// Every policy sluice ships, by its config key. Each policy folder registers itself here.
PolicyRegistry builtin_policies();

class Gateway {
 public:
  // Loads and validates the config (throws core::ConfigError), binds every listener (throws
  // std::runtime_error naming the address). Nothing runs until start().
  Gateway(std::filesystem::path config_file, PolicyRegistry registry = builtin_policies());
  ~Gateway();

  void start();
  // Re-reads the config file. On error keeps the running config and returns false with `error`.
  bool reload(std::string* error);
  // Stops accepting, lets requests and streams in progress finish until the drain timeout.
  void drain();

  std::vector<std::uint16_t> listener_ports() const;
  std::uint16_t admin_port() const;  // 0 without an admin listener
  const GatewaySettings& settings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::gateway
