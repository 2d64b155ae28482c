#include "gateway/policies/token_limit/resp_reader.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace sluice::gateway::token_limit {
namespace {

using Result = RespReader::Result;
using Type = RespReply::Type;

// Every reply in `bytes`, fed whole; the reader must then have nothing left over.
std::vector<RespReply> read_all(std::string_view bytes) {
  RespReader reader;
  reader.feed(bytes);
  std::vector<RespReply> replies;
  RespReply reply;
  while (reader.next(reply) == Result::kReply) replies.push_back(reply);
  EXPECT_EQ(reader.pending(), 0u) << "bytes left unread";
  EXPECT_TRUE(reader.error().empty()) << reader.error();
  return replies;
}

TEST(RespReaderTest, ReadsEveryTypeAScriptOrTheCacheIsAnswered) {
  auto replies = read_all(
      "+OK\r\n-ERR wrong number of arguments\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n"
      "*3\r\n:1\r\n:0\r\n:-12\r\n*0\r\n*-1\r\n");
  ASSERT_EQ(replies.size(), 10u);
  EXPECT_EQ(replies[0].type, Type::kStatus);
  EXPECT_EQ(replies[0].text, "OK");
  EXPECT_EQ(replies[1].type, Type::kError);
  EXPECT_EQ(replies[1].text, "ERR wrong number of arguments");
  EXPECT_EQ(replies[2].type, Type::kInteger);
  EXPECT_EQ(replies[2].integers, std::vector<long long>{42});
  EXPECT_EQ(replies[3].integers, std::vector<long long>{-7});
  EXPECT_EQ(replies[4].type, Type::kBulk);
  EXPECT_EQ(replies[4].text, "hello");
  EXPECT_EQ(replies[5].type, Type::kBulk);
  EXPECT_EQ(replies[5].text, "");
  EXPECT_EQ(replies[6].type, Type::kNil);
  EXPECT_EQ(replies[7].type, Type::kArray);
  EXPECT_EQ(replies[7].integers, (std::vector<long long>{1, 0, -12}));
  EXPECT_TRUE(replies[7].only_integers);
  EXPECT_EQ(replies[8].type, Type::kArray);
  EXPECT_TRUE(replies[8].integers.empty());
  EXPECT_EQ(replies[9].type, Type::kNil);
}

TEST(RespReaderTest, ReadsIntegersOfEveryLengthUpToTheLimitsOfSixtyFourBits) {
  // Eighteen digits are read in place, nineteen the general way: both give the same numbers.
  auto replies = read_all(
      "*8\r\n:0\r\n:-0\r\n:999999999999999999\r\n:-999999999999999999\r\n"
      ":1000000000000000000\r\n:9223372036854775807\r\n:-9223372036854775808\r\n:0007\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].integers,
            (std::vector<long long>{0, 0, 999999999999999999LL, -999999999999999999LL,
                                    1000000000000000000LL, std::numeric_limits<long long>::max(),
                                    std::numeric_limits<long long>::min(), 7}));
  RespReader reader;
  RespReply reply;
  reader.feed(":9223372036854775808\r\n");
  EXPECT_EQ(reader.next(reply), Result::kMalformed);
  reader.reset();
  reader.feed(":-\r\n");
  EXPECT_EQ(reader.next(reply), Result::kMalformed);
  EXPECT_NE(reader.error().find("\"-\" where a number was expected"), std::string::npos);
}

TEST(RespReaderTest, ABulkStringKeepsEveryByteItsLengthSays) {
  const std::string body("a\r\nb\0c", 6);  // CRLF and NUL inside: only the length counts
  auto replies = read_all("$6\r\n" + body + "\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].text, body);
}

TEST(RespReaderTest, AnArrayWithOtherElementsIsMarkedAndKeepsOnlyItsOwnIntegers) {
  // The nested array's integers are not the top-level array's.
  auto replies = read_all("*5\r\n:1\r\n$2\r\nab\r\n*2\r\n:8\r\n:9\r\n+x\r\n:5\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, Type::kArray);
  EXPECT_FALSE(replies[0].only_integers);
  EXPECT_EQ(replies[0].integers, (std::vector<long long>{1, 5}));
}

TEST(RespReaderTest, RepliesSplitAtEveryByteReadTheSameAsWhole) {
  const std::string stream =
      "*4\r\n:3\r\n:100\r\n:-1\r\n:2147483648000\r\n$11\r\nhello world\r\n-NOSCRIPT no script\r\n"
      "+OK\r\n:0\r\n$-1\r\n";
  const auto whole = read_all(stream);
  ASSERT_EQ(whole.size(), 6u);
  for (std::size_t split = 1; split < stream.size(); ++split) {
    RespReader reader;
    std::vector<RespReply> replies;
    RespReply reply;
    // One byte at a time up to the split, then the rest in one piece.
    for (std::size_t i = 0; i < split; ++i) {
      reader.feed(stream.substr(i, 1));
      while (reader.next(reply) == Result::kReply) replies.push_back(reply);
    }
    reader.feed(stream.substr(split));
    while (reader.next(reply) == Result::kReply) replies.push_back(reply);
    ASSERT_EQ(replies.size(), whole.size()) << "split at " << split;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(replies[i].type, whole[i].type) << "split at " << split << ", reply " << i;
      EXPECT_EQ(replies[i].text, whole[i].text) << "split at " << split << ", reply " << i;
      EXPECT_EQ(replies[i].integers, whole[i].integers) << "split at " << split << ", reply " << i;
    }
    EXPECT_EQ(reader.pending(), 0u);
  }
}

TEST(RespReaderTest, AnUnfinishedReplyWaitsAndKeepsOnlyItsOwnBytes) {
  RespReader reader;
  RespReply reply;
  reader.feed(":1\r\n*2\r\n:5\r\n");
  EXPECT_EQ(reader.next(reply), Result::kReply);
  EXPECT_EQ(reader.next(reply), Result::kIncomplete);
  EXPECT_EQ(reader.pending(), 8u);  // "*2\r\n:5\r\n": the read reply's bytes are gone
  reader.feed(":6\r\n");
  ASSERT_EQ(reader.next(reply), Result::kReply);
  EXPECT_EQ(reply.integers, (std::vector<long long>{5, 6}));
  EXPECT_EQ(reader.next(reply), Result::kIncomplete);
}

TEST(RespReaderTest, BrokenProtocolIsMalformedAndSaysWhat) {
  struct Case {
    std::string bytes;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"?what\r\n", "byte 0x3f where a reply's type"},
      {":12a\r\n", "\"12a\" where a number was expected"},
      {":\r\n", "\"\" where a number was expected"},
      {":99999999999999999999\r\n", "where a number was expected"},
      {"$3\r\nabcd\r\n", "a bulk string not followed by \\r\\n"},
      {"$-2\r\n", "a bulk string of length -2"},
      {"$600000000\r\n", "a bulk string of length 600000000"},
      {"*-5\r\n", "an array of length -5"},
      {"+OK\rX", "a \\r not followed by \\n"},
      {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "nested more than 8 deep"},
  };
  for (const auto& item : cases) {
    RespReader reader;
    RespReply reply;
    const std::string& bytes = item.bytes;
    reader.feed(bytes);
    EXPECT_EQ(reader.next(reply), Result::kMalformed) << bytes;
    EXPECT_NE(reader.error().find(item.says), std::string::npos)
        << bytes << " gave: " << reader.error();
    EXPECT_EQ(reader.next(reply), Result::kMalformed) << "a broken reader stays broken";
    reader.reset();
    reader.feed(":1\r\n");
    EXPECT_EQ(reader.next(reply), Result::kReply) << "reset() makes it usable again";
  }
}

TEST(RespReaderTest, ALineThatNeverEndsIsMalformedOnceItPassesTheBound) {
  RespReader reader;
  RespReply reply;
  reader.feed("+");
  reader.feed(std::string(64 * 1024, 'x'));
  EXPECT_EQ(reader.next(reply), Result::kIncomplete);
  reader.feed("xx");
  EXPECT_EQ(reader.next(reply), Result::kMalformed);
  EXPECT_NE(reader.error().find("more than 64 KiB"), std::string::npos) << reader.error();
}

}  // namespace
}  // namespace sluice::gateway::token_limit
