#include "loadgen/jtl_line.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace sluice::loadgen {
namespace {

// Writes through JtlLine into a buffer of exactly `room` bytes and returns what was written.
template <typename Write>
std::string written(std::size_t room, Write write) {
  std::string buffer(room, '\0');
  JtlLine line(buffer.data());
  write(line);
  auto size = static_cast<std::size_t>(line.end() - buffer.data());
  EXPECT_LE(size, room);
  buffer.resize(size);
  return buffer;
}

TEST(JtlLineTest, NumbersAsDecimalText) {
  EXPECT_EQ(written(JtlLine::kNumberRoom, [](JtlLine& l) { l.number(0); }), "0");
  EXPECT_EQ(written(JtlLine::kNumberRoom, [](JtlLine& l) { l.number(1733486400123); }),
            "1733486400123");
  EXPECT_EQ(written(JtlLine::kNumberRoom, [](JtlLine& l) { l.number(-42); }), "-42");
  EXPECT_EQ(written(JtlLine::kNumberRoom,
                    [](JtlLine& l) { l.number(std::numeric_limits<std::int64_t>::min()); }),
            "-9223372036854775808");
  EXPECT_EQ(written(JtlLine::kNumberRoom,
                    [](JtlLine& l) { l.number(std::numeric_limits<std::int64_t>::max()); }),
            "9223372036854775807");
}

TEST(JtlLineTest, CsvFieldsQuotedOnlyWhenTheyMustBe) {
  auto csv = [](std::string_view value) {
    return written(JtlLine::csv_room(value), [&](JtlLine& l) { l.csv(value); });
  };
  EXPECT_EQ(csv(""), "");
  EXPECT_EQ(csv("chat 1-1"), "chat 1-1");
  EXPECT_EQ(csv("http://127.0.0.1:8080/openai/deployments/gpt-4o/chat/completions?api-version=1"),
            "http://127.0.0.1:8080/openai/deployments/gpt-4o/chat/completions?api-version=1");
  EXPECT_EQ(csv("a,b"), "\"a,b\"");
  EXPECT_EQ(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(csv("carriage\rreturn"), "\"carriage\rreturn\"");
  // The worst case: every byte a quote fills the room csv_room() promises, and no more.
  std::string quotes(37, '"');
  auto out = csv(quotes);
  EXPECT_EQ(out.size(), JtlLine::csv_room(quotes));
  EXPECT_EQ(out, "\"" + std::string(74, '"') + "\"");
}

TEST(JtlLineTest, ALineOfEveryColumnAtItsLongestStaysInItsRoom) {
  const std::string text(50, '"');
  std::vector<std::string_view> columns(6, text);
  std::size_t room = JtlLine::kFixedRoom;
  for (auto column : columns) room += JtlLine::csv_room(column);
  // The columns write_jtl writes: nine numbers, six text columns and the fixed words.
  auto line = written(room, [&](JtlLine& l) {
    for (int i = 0; i < 9; ++i) {
      l.number(std::numeric_limits<std::int64_t>::min());
      l.byte(',');
    }
    for (auto column : columns) {
      l.csv(column);
      l.byte(',');
    }
    l.text(",text,");
    l.text("false");
    l.text(",0,");
    l.byte('\n');
  });
  EXPECT_EQ(line.back(), '\n');
}

}  // namespace
}  // namespace sluice::loadgen
