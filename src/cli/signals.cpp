#include "cli/signals.hpp"

#include <pthread.h>

namespace sluice::cli {

namespace {
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void block_shutdown_signals() {
  sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that hangs up must cost an EPIPE on write, never the process.
  std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_shutdown(const std::function<void()>& on_reload) {
  sigset_t set = shutdown_signals();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (signal == SIGHUP) {
      if (on_reload) on_reload();
      continue;
    }
    return signal;
  }
}

}  // namespace sluice::cli
