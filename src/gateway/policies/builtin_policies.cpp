// The registry of policies a gateway config may name under `policies:`. Each policy lives in its
// own folder (policies/<name>/) and is added here with one line.
#include "sluice/gateway/gateway.hpp"

namespace sluice::gateway {

PolicyRegistry builtin_policies() {
  PolicyRegistry registry;
  return registry;
}

}  // namespace sluice::gateway
