#include "gateway/policies/token_limit/resp_strings.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sluice::gateway::token_limit {
namespace {

TEST(RespStringsTest, WritesEachStringAsABulkStringWithItsLength) {
  RespStrings strings;
  strings.add("tl:per-team:win:a");
  strings.add("");
  strings.add(std::string_view("a\r\nb", 4));
  EXPECT_EQ(strings.count(), 3u);
  EXPECT_EQ(strings.bytes(), "$17\r\ntl:per-team:win:a\r\n$0\r\n\r\n$4\r\na\r\nb\r\n");
}

TEST(RespStringsTest, WritesNumbersAsTheirDecimalText) {
  RespStrings strings;
  strings.add(std::int64_t{0});
  strings.add(std::int64_t{-42});
  strings.add(std::numeric_limits<std::int64_t>::max());
  strings.add(std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(strings.count(), 4u);
  EXPECT_EQ(
      strings.bytes(),
      "$1\r\n0\r\n$3\r\n-42\r\n$19\r\n9223372036854775807\r\n$20\r\n-9223372036854775808\r\n");
}

TEST(RespStringsTest, AStringWrittenOnceIsAddedAsTheSameBytes) {
  const std::string key = "prefix:tl:limit:q:1700000000:team-a";
  RespStrings direct;
  direct.add(key);
  RespStrings kept;
  kept.add_written(RespStrings::written(key));
  kept.add(std::int64_t{7});
  EXPECT_EQ(kept.count(), 2u);
  EXPECT_EQ(kept.bytes(), std::string(direct.bytes()) + "$1\r\n7\r\n");
}

}  // namespace
}  // namespace sluice::gateway::token_limit
