#include "sluice/telemetry/trace_context.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, ParsesTheSpecExample) {
  auto context = parse_traceparent(kValid);
  ASSERT_TRUE(context);
  EXPECT_EQ(to_hex(context->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(context->span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled);
  EXPECT_EQ(format_traceparent(*context).view(), kValid);
}

TEST(TraceContext, ReadsTheSampledFlagOnly) {
  auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled);
  auto other_flags = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(other_flags);
  EXPECT_TRUE(other_flags->sampled);
}

TEST(TraceContext, AcceptsAFutureVersionWithMoreFields) {
  EXPECT_TRUE(
      parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future"));
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceContext, RefusesMalformedValues) {
  const char* bad[] = {
      "",
      "garbage",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",            // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",   // v00 has 4 fields
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",        // long flags
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // version ff
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",         // separators
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",         // not hex
      "0-04bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // shifted fields
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",         // flags not hex
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.future",  // no '-' after flags
  };
  for (const char* value : bad) EXPECT_FALSE(parse_traceparent(value)) << value;
}

TEST(TraceContext, IgnoresSurroundingWhitespace) {
  std::string padded = " ";
  padded += kValid;
  padded += '\t';
  EXPECT_TRUE(parse_traceparent(padded));
}

TEST(TraceIds, RandomIdsAreValidAndDistinct) {
  auto a = random_trace_id();
  auto b = random_trace_id();
  EXPECT_TRUE(is_valid(a));
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_valid(random_span_id()));
  EXPECT_EQ(to_hex(a).size(), 32u);
}

TEST(TraceIds, RandomIdsDoNotRepeatOverManyDraws) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(to_hex(random_span_id()));
  EXPECT_EQ(seen.size(), 10'000u);
}

// Every byte value in every position of an 8-byte group and of the tail, against printf's digits.
TEST(TraceIds, HexDigitsMatchPrintfForEveryByte) {
  for (std::size_t size : {1u, 3u, 4u, 5u, 8u, 9u, 15u, 16u, 24u}) {
    for (int byte = 0; byte < 256; ++byte) {
      for (std::size_t at = 0; at < size; ++at) {
        std::vector<std::uint8_t> bytes(size, static_cast<std::uint8_t>(0x5a ^ at));
        bytes[at] = static_cast<std::uint8_t>(byte);
        std::string expected;
        for (auto b : bytes) {
          char two[3];
          std::snprintf(two, sizeof two, "%02x", b);
          expected += two;
        }
        std::string got;
        append_hex(got, bytes.data(), bytes.size());
        ASSERT_EQ(got, expected) << "size " << size << ", byte " << byte << " at " << at;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::telemetry
