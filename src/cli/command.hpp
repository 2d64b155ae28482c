#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself with the top-level CLI.
#include <functional>

#include <CLI/CLI.hpp>

namespace sluice::cli {

// A registered subcommand: the CLI11 node it parsed into, and what to run when it was chosen.
// `run` returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_tokenize_command(CLI::App& root);
Command add_sim_command(CLI::App& root);
Command add_gateway_command(CLI::App& root);
Command add_load_command(CLI::App& root);
Command add_usage_command(CLI::App& root);
Command add_demo_command(CLI::App& root);

}  // namespace sluice::cli
