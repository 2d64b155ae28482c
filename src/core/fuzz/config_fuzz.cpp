// Loading arbitrary bytes as a config and reading it generically must never crash, hang or leak
// anything but a ConfigError. Any other exception escapes and fails the run.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/config.hpp"

namespace {

using sluice::core::ConfigError;
using sluice::core::ConfigNode;

// Reads every node with every reader, so the conversions see fuzzed text too. `budget` bounds the
// walk: aliases can make a small document a huge tree, which the loader handles but a naive reader
// like this one would not.
void read_everything(const ConfigNode& node, int depth, int& budget) {
  if (depth > 64 || --budget < 0) return;
  auto attempt = [](auto&& read) {
    try {
      read();
    } catch (const ConfigError&) {
    }
  };
  if (node.is_scalar()) {
    attempt([&] { node.as<std::int64_t>(); });
    attempt([&] { node.as<std::uint16_t>(); });
    attempt([&] { node.as<double>(); });
    attempt([&] { node.as<bool>(); });
    attempt([&] { node.as<std::chrono::milliseconds>(); });
    attempt([&] { node.as<sluice::core::ByteSize>(); });
    attempt([&] { node.as<std::string>(); });
    (void)node.describe();
  } else if (node.is_sequence()) {
    for (const auto& item : node.items()) read_everything(item, depth + 1, budget);
  } else if (node.is_mapping()) {
    auto keys = node.keys();
    if (!keys.empty()) attempt([&] { node.required<std::string>(keys.front() + "x"); });
    for (const auto& [key, value] : node.entries()) read_everything(value, depth + 1, budget);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::core::LoadOptions options;
  // Deterministic sources: the fuzzer must not read the machine's files or environment.
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
  };
  options.read_file = [](const std::filesystem::path& path) -> sluice::core::Result<std::string> {
    if (path.filename() == "present") return std::string("contents\n");
    return sluice::core::Error{sluice::core::ErrorCode::kNotFound, "no such file"};
  };
  try {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ConfigNode root = sluice::core::load_config_string(text, "fuzz.yaml", "/nonexistent", options);
    int budget = 10'000;
    read_everything(root, 0, budget);
    root.finish();
  } catch (const ConfigError&) {
  }
  return 0;
}
