// main only composes: each subcommand is registered from its own cmd_<name>.cpp.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/allocator_settings.hpp"
#include "cli/command.hpp"

int main(int argc, char** argv) {
  sluice::cli::apply_allocator_settings();
  CLI::App root{"sluice: generative-AI gateway and its test bench"};
  root.require_subcommand(1);
  root.set_version_flag("--version", "sluice 0.1.0");

  std::vector<sluice::cli::Command> commands = {
      sluice::cli::add_sim_command(root),   sluice::cli::add_gateway_command(root),
      sluice::cli::add_load_command(root),  sluice::cli::add_tokenize_command(root),
      sluice::cli::add_usage_command(root), sluice::cli::add_demo_command(root),
  };

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) {
      try {
        return command.run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sluice %s: %s\n", command.app->get_name().c_str(), e.what());
        return 2;
      }
    }
  }
  return 2;
}
