#include "sluice/usage/journal.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/tests/eventually.hpp"
#include "sluice/usage/usage_record.hpp"
#include "usage/tests/test_dir.hpp"

namespace sluice::usage {
namespace {

using testing::TempDir;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string record_line(const std::string& id) {
  UsageRecord r;
  r.request_id = id;
  r.started_at_us = 1;
  r.total_tokens = 7;
  std::string line;
  append_record_line(line, r);
  return line;
}

TEST(Journal, ConcurrentAppendsNeverInterleave) {
  TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  {
    Journal journal({.directory = dir.path()});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          ASSERT_TRUE(journal.append(record_line(std::to_string(t) + "-" + std::to_string(i))));
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(journal.stats().appended.load(), kThreads * kPerThread);
  }
  auto segments = Journal::list_segments(dir.path());
  ASSERT_EQ(segments.size(), 1u);
  std::set<std::string> ids;
  for (const auto& line : lines_of(Journal::segment_path(dir.path(), segments[0]))) {
    auto record = parse_record_line(line);
    ASSERT_TRUE(record) << line;
    ids.insert(record->request_id);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Journal, EachProcessStartsAFreshSegmentAndOldOnesAreSealed) {
  TempDir dir;
  {
    Journal first({.directory = dir.path()});
    first.append(record_line("a"));
    EXPECT_EQ(first.active_segment(), 1u);
    EXPECT_EQ(first.sealed_below(), 1u);
  }
  Journal second({.directory = dir.path()});
  EXPECT_EQ(second.active_segment(), 2u);
  EXPECT_EQ(second.sealed_below(), 2u);
  EXPECT_EQ(lines_of(Journal::segment_path(dir.path(), 1)).size(), 1u);
}

TEST(Journal, OneOwnerPerDirectory) {
  TempDir dir;
  Journal owner({.directory = dir.path()});
  try {
    Journal intruder({.directory = dir.path()});
    FAIL() << "a second journal on the same directory must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another sluice process"), std::string::npos);
  }
}

TEST(Journal, RollsAtTheSegmentSizeAndSealsAfterTheGrace) {
  TempDir dir;
  Journal journal({.directory = dir.path(),
                   .segment_bytes = 1000,
                   .sync_interval = std::chrono::milliseconds(5),
                   .seal_grace = std::chrono::milliseconds(20)});
  for (int i = 0; i < 20; ++i) journal.append(record_line("r" + std::to_string(i)));
  EXPECT_TRUE(core::testing::eventually([&] { return journal.sealed_below() >= 2; }));
  EXPECT_EQ(journal.active_segment(), 2u);
  EXPECT_EQ(journal.sealed_below(), 2u);
  journal.append(record_line("after"));
  auto after = lines_of(Journal::segment_path(dir.path(), 2));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(parse_record_line(after[0])->request_id, "after");
  EXPECT_GE(journal.stats().syncs.load(), 1u);
}

}  // namespace
}  // namespace sluice::usage
