#include "cli/allocator_settings.hpp"

#include <cstdlib>

#if SLUICE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace sluice::cli {

void apply_allocator_settings() {
#if SLUICE_WITH_MIMALLOC
  // Measured on a fresh gateway relaying two bursts of 1,000 streams (bench/gateway/streams.sh's
  // load): the second burst's page faults fell from ~6,500 to ~1,500 (docs/performance.md).
  constexpr long kDecommitDelayMs = 1000;
  // mimalloc reads its environment before main(); a value the user set there is kept.
  if (std::getenv("MIMALLOC_DECOMMIT_DELAY") == nullptr) {
    mi_option_set(mi_option_decommit_delay, kDecommitDelayMs);
  }
#endif
}

}  // namespace sluice::cli
