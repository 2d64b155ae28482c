#pragma once
// Faults in force, from the config and from the admin route (POST/DELETE /sim/faults). A fault
// for a named deployment wins over a fault for every deployment. Any thread (one mutex).
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/sim/settings.hpp"

namespace sluice::sim {

class FaultBook {
 public:
  explicit FaultBook(std::vector<FaultSettings> initial = {});
  // Replaces any fault for the same deployment ("" = every deployment).
  void set(FaultSettings fault);
  // Removes the fault for `deployment`, or all faults when nullopt.
  void clear(const std::optional<std::string>& deployment);
  std::optional<FaultSettings> find(const std::string& deployment) const;
  std::string to_json() const;

 private:
  mutable std::mutex mu_;
  std::vector<FaultSettings> faults_;
};

}  // namespace sluice::sim
