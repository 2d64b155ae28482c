#include "gateway/runtime.hpp"

#include <algorithm>

namespace sluice::gateway {

void BackendRuntime::set_last_error(std::string error) {
  std::lock_guard lock(last_error_mutex_);
  last_error_ = std::move(error);
  last_error_at_ = std::chrono::system_clock::now();
}

std::string BackendRuntime::last_error() const {
  std::lock_guard lock(last_error_mutex_);
  return last_error_;
}

Runtime::Runtime(GatewaySettings settings) : settings_(std::move(settings)) {
  for (const auto& backend : settings_.backends) {
    backends_.push_back(std::make_unique<BackendRuntime>(backend));
  }
  for (const auto& pool : settings_.pools) {
    auto runtime = std::make_unique<PoolRuntime>();
    runtime->settings = &pool;
    for (const auto& member : pool.members) {
      BackendRuntime* backend = nullptr;
      for (auto& b : backends_) {
        if (b->settings.name == member.backend) backend = b.get();
      }
      runtime->members.push_back(std::make_unique<PoolMemberRuntime>(backend, member.priority,
                                                                     member.weight, pool.breaker));
    }
    std::stable_sort(runtime->members.begin(), runtime->members.end(),
                     [](const auto& a, const auto& b) { return a->priority < b->priority; });
    pools_.push_back(std::move(runtime));
  }
}

PoolRuntime* Runtime::pool(const std::string& name) const {
  for (const auto& pool : pools_) {
    if (pool->settings->name == name) return pool.get();
  }
  return nullptr;
}

}  // namespace sluice::gateway
