#pragma once
// Helpers shared by the config tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "sluice/core/config.hpp"

namespace sluice::core::testing {

inline ConfigNode load(std::string_view yaml, const LoadOptions& options = {}) {
  return load_config_string(yaml, "test.yaml", {}, options);
}

// The ConfigError `f` throws; a test failure if it throws nothing.
template <class F>
ConfigError error_from(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError(SourceLocation{}, "", "<none>");
}

// A fresh directory per test for config files and the files they reference.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sluice_core_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "conf");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to `relative` under the directory, creating parent directories.
  void write(const std::filesystem::path& relative, std::string_view text) {
    std::filesystem::create_directories((dir_ / relative).parent_path());
    std::ofstream out(dir_ / relative, std::ios::binary);
    out << text;
  }

  std::filesystem::path dir_;
};

}  // namespace sluice::core::testing
