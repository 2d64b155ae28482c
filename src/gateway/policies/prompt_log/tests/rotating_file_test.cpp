#include "gateway/policies/prompt_log/rotating_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "usage/tests/test_dir.hpp"

namespace sluice::gateway {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path numbered(const std::filesystem::path& p, int n) {
  return p.string() + "." + std::to_string(n);
}

TEST(RotatingFile, AppendsAndRotatesBySize) {
  usage::testing::TempDir dir;
  auto path = dir.path() / "log.jsonl";
  RotatingFile file(path, 100, 2);
  std::string error;  // 40-byte lines: two fit in 100, the third rotates
  std::vector<std::string> lines;
  for (char c : std::string("abcdefg")) lines.push_back(std::string(39, c) + "\n");
  EXPECT_EQ(file.write(lines, error), 7u) << error;
  // 7 lines, 2 per file: g | ef | cd, and ab was rotated out (keep 2).
  EXPECT_EQ(read(path), lines[6]);
  EXPECT_EQ(read(numbered(path, 1)), lines[4] + lines[5]);
  EXPECT_EQ(read(numbered(path, 2)), lines[2] + lines[3]);
  EXPECT_FALSE(std::filesystem::exists(numbered(path, 3)));
}

TEST(RotatingFile, ContinuesAnExistingFileAndCountsItsSize) {
  usage::testing::TempDir dir;
  auto path = dir.path() / "log.jsonl";
  std::ofstream(path) << std::string(79, 'x') << "\n";
  RotatingFile file(path, 100, 1);
  std::string error;
  std::vector<std::string> lines = {std::string(29, 'y') + "\n"};
  EXPECT_EQ(file.write(lines, error), 1u);
  EXPECT_EQ(read(numbered(path, 1)), std::string(79, 'x') + "\n");
  EXPECT_EQ(read(path), lines[0]);
}

TEST(RotatingFile, KeepZeroDeletesInsteadOfRenaming) {
  usage::testing::TempDir dir;
  auto path = dir.path() / "log.jsonl";
  RotatingFile file(path, 50, 0);
  std::string error;
  std::vector<std::string> lines = {std::string(39, 'a') + "\n", std::string(39, 'b') + "\n"};
  EXPECT_EQ(file.write(lines, error), 2u);
  EXPECT_EQ(read(path), lines[1]);
  EXPECT_FALSE(std::filesystem::exists(numbered(path, 1)));
}

TEST(RotatingFile, UnwritableDirectoryIsAnErrorNotACrash) {
  RotatingFile file("/nonexistent-sluice-dir/log.jsonl", 100, 1);
  std::string error;
  std::vector<std::string> lines = {"x\n"};
  EXPECT_EQ(file.write(lines, error), 0u);
  EXPECT_NE(error.find("/nonexistent-sluice-dir/log.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway
