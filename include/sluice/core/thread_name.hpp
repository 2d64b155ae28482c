#pragma once
// Names the calling thread as `top -H`, `perf` and /proc/<pid>/task/<tid>/comm show it, so an
// operator (or a benchmark) can tell the request workers from the usage shipper or the trace
// exporter. Linux keeps 15 bytes of a name; longer ones are cut there. Best effort: a failure
// leaves the inherited name.
#include <pthread.h>

#include <string_view>

namespace sluice::core {

inline void name_this_thread(std::string_view name) noexcept {
  char buffer[16] = {};
  name.copy(buffer, sizeof buffer - 1);
  (void)pthread_setname_np(pthread_self(), buffer);
}

}  // namespace sluice::core
