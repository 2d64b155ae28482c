#pragma once
// The request pipeline: resolve the target and body, match a route, run the access phase of its
// policies, then forward to the pool with failover and relay the response (SSE event by event),
// extracting usage; the log phase of every policy runs once at the end whatever happened.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/balancer.hpp"
#include "gateway/json_scratch.hpp"
#include "gateway/runtime.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway {

// Where workers get the current runtime. Reload publishes a new one; each worker picks it up at
// its next request by comparing a generation number (no lock on the request path).
class RuntimeSource {
 public:
  explicit RuntimeSource(std::shared_ptr<Runtime> runtime) : runtime_(std::move(runtime)) {}
  void publish(std::shared_ptr<Runtime> runtime);
  std::shared_ptr<Runtime> current() const;
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<Runtime> runtime_;
  std::atomic<std::uint64_t> generation_{1};
};

// Also sends the gateway's own requests through the same pipeline (InternalRequests), on the
// worker of the request they serve, so they share its per-thread state without locks.
class Proxy final : public InternalRequests {
 public:
  // `workers`: the listener's thread count (one per-worker state each).
  Proxy(RuntimeSource& source, int workers);
  ~Proxy() override;

  http::Task<void> handle(http::Exchange& exchange);
  http::Task<std::optional<http::Response>> send(RequestContext& parent, http::Request request,
                                                 std::string_view purpose,
                                                 std::chrono::milliseconds timeout) override;

  // Closes every worker's upstream connections (http::ClientPool::close). Their sockets and timers
  // belong to the listener's event loops: call it once the listener's threads have stopped and
  // before the listener is destroyed.
  void close_upstream_connections();

  struct Worker;  // per-thread state, defined in proxy.cpp

 private:
  http::Task<void> run(http::Exchange& exchange, std::string_view purpose);

  std::vector<std::unique_ptr<Worker>> workers_;
  RuntimeSource& source_;
};

}  // namespace sluice::gateway
