#pragma once
// Signal handling for long-running subcommands: block the signals before any thread starts (so
// every worker inherits the mask), then wait for them synchronously on the main thread.
#include <csignal>
#include <functional>

namespace sluice::cli {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and threads it creates later.
void block_shutdown_signals();

// Waits for signals; calls on_reload for SIGHUP and returns the signal number on SIGINT/SIGTERM.
int wait_for_shutdown(const std::function<void()>& on_reload = {});

}  // namespace sluice::cli
