#pragma once
// The result of the last configuration reload (SIGHUP), for the console's config view. Written by
// the thread that reloads, read by the admin listener.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace sluice::gateway::console {

struct ReloadResult {
  std::chrono::system_clock::time_point at;
  bool ok = false;
  std::string error;  // why it was refused (the config error, file:line included)
};

class ReloadStatus {
 public:
  void record(ReloadResult result) {
    std::lock_guard lock(mutex_);
    last_ = std::move(result);
  }
  // Nothing before the first reload.
  std::optional<ReloadResult> last() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<ReloadResult> last_;
};

}  // namespace sluice::gateway::console
