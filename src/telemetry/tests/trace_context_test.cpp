#include "sluice/telemetry/trace_context.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::telemetry
