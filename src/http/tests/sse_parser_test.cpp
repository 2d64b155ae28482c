#include "sluice/http/sse_parser.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

std::vector<SseEvent> parse_in_pieces(std::string_view stream, std::size_t piece) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (std::size_t i = 0; i < stream.size(); i += piece) {
    EXPECT_TRUE(parser.feed(stream.substr(i, piece), events));
  }
  return events;
}

TEST(SseParser, ParsesOpenAiChunksWithExactRawBytes) {
  std::string stream =
      "data: {\"choices\":[]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: [DONE]\n\n";
  auto events = parse_in_pieces(stream, stream.size());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "{\"choices\":[]}");
  EXPECT_EQ(events[2].data, "[DONE]");
  std::string joined;
  for (auto& e : events) joined += e.raw;
  EXPECT_EQ(joined, stream);
}

TEST(SseParser, SameEventsWhateverTheReadBoundaries) {
  std::string stream =
      "event: delta\r\ndata: line one\r\ndata: line two\r\nid: 7\r\nretry: 1500\r\n\r\n"
      ": keep-alive comment\n\n"
      "data:no-space\rdata:  two spaces\r\r"
      "data\n\n";
  auto whole = parse_in_pieces(stream, stream.size());
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0].event, "delta");
  EXPECT_EQ(whole[0].data, "line one\nline two");
  EXPECT_EQ(whole[0].id, "7");
  EXPECT_EQ(whole[0].retry_ms, 1500);
  EXPECT_EQ(whole[1].data, "");  // comment-only block is still relayed as an event
  EXPECT_EQ(whole[1].data_lines, 0);
  EXPECT_EQ(whole[2].data, "no-space\n two spaces");
  EXPECT_EQ(whole[3].data_lines, 1);
  for (std::size_t piece = 1; piece < 9; ++piece) {
    auto split = parse_in_pieces(stream, piece);
    ASSERT_EQ(split.size(), whole.size()) << "piece size " << piece;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(split[i].data, whole[i].data) << "piece size " << piece;
      EXPECT_EQ(split[i].event, whole[i].event);
    }
  }
}

TEST(SseParser, IncompleteEventIsPendingNotEmitted) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("data: {\"partial\":", events));
  EXPECT_TRUE(events.empty());
  EXPECT_GT(parser.pending(), 0u);
  ASSERT_TRUE(parser.feed("true}\n\n", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"partial\":true}");
  EXPECT_EQ(parser.pending(), 0u);
}

TEST(SseParser, RefusesOversizedEvent) {
  SseParser parser(64);
  std::vector<SseEvent> events;
  EXPECT_FALSE(parser.feed("data: " + std::string(100, 'x'), events));
  EXPECT_NE(parser.error().find("larger than 64"), std::string::npos);
  EXPECT_FALSE(parser.feed("\n\n", events));
}

TEST(SseParser, BufferDoesNotGrowAcrossManyEvents) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(parser.feed("data: {\"n\":" + std::to_string(i) + "}\n\n", events));
  }
  EXPECT_EQ(events.size(), 10000u);
  EXPECT_EQ(parser.pending(), 0u);
}

}  // namespace
}  // namespace sluice::http
