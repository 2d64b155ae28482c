#pragma once
// The gateway's live state built from one GatewaySettings: backends with their counters, pools with
// a breaker per member, routes. Shared read-only by all workers (counters are atomics); replaced
// as a whole on reload.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/backend_utilization.hpp"
#include "gateway/circuit_breaker.hpp"
#include "gateway/upstream_auth.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

struct BackendRuntime {
  explicit BackendRuntime(const BackendSettings& settings)
      : settings(settings), auth(settings.auth) {}
  const BackendSettings& settings;
  UpstreamAuth auth;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> throttled{0};
  BackendUtilization utilization;  // what a provisioned deployment says about its load

  // Last failure, for /admin/backends. Written only on the failure path.
  void set_last_error(std::string error);
  std::string last_error() const;

 private:
  mutable std::mutex last_error_mutex_;
  std::string last_error_;
  std::chrono::system_clock::time_point last_error_at_{};
};

struct PoolMemberRuntime {
  PoolMemberRuntime(BackendRuntime* backend, int priority, int weight,
                    const BreakerSettings& breaker)
      : backend(backend), priority(priority), weight(weight), breaker(breaker) {}
  BackendRuntime* backend;
  int priority;
  int weight;
  CircuitBreaker breaker;
};

struct PoolRuntime {
  const PoolSettings* settings;
  std::vector<std::unique_ptr<PoolMemberRuntime>> members;  // sorted by priority
};

class Runtime {
 public:
  explicit Runtime(GatewaySettings settings);
  const GatewaySettings& settings() const { return settings_; }
  const std::vector<std::unique_ptr<BackendRuntime>>& backends() const { return backends_; }
  const std::vector<std::unique_ptr<PoolRuntime>>& pools() const { return pools_; }
  PoolRuntime* pool(const std::string& name) const;

 private:
  GatewaySettings settings_;
  std::vector<std::unique_ptr<BackendRuntime>> backends_;
  std::vector<std::unique_ptr<PoolRuntime>> pools_;
};

}  // namespace sluice::gateway
