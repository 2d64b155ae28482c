#include "sluice/telemetry/span_encoder.hpp"

#include <gtest/gtest.h>

#include "sluice/telemetry/otlp_encoding.hpp"
#include "sluice/telemetry/span.hpp"
#include "telemetry/tests/protobuf_reader.hpp"

namespace sluice::telemetry {
namespace {

using testing::parse_proto;
using testing::spans_of;
using testing::sub_messages;

SpanStart start_of(std::string_view name) {
  SpanStart start;
  start.trace_id = random_trace_id();
  start.span_id = random_span_id();
  start.name = name;
  start.kind = SpanKind::kClient;
  start.start_unix_ns = 1'700'000'000'000'000'000ULL;
  start.end_unix_ns = start.start_unix_ns + 1'000;
  return start;
}

// Writes the same parts to any writer: a span with every value type, an event and a status.
void write_sample(SpanWriter& out, const SpanStart& start, std::string_view long_value) {
  out.begin_span(start);
  out.attribute("gen_ai.operation.name", "chat");
  out.attribute("sluice.long", long_value);
  out.attribute("gen_ai.usage.input_tokens", 12);
  out.attribute("sluice.streamed", true);
  out.attribute("sluice.ratio", 0.25);
  out.begin_event("gen_ai.first_token", start.start_unix_ns + 5);
  out.attribute("gen_ai.server.time_to_first_token", 0.005);
  out.end_event();
  out.status(StatusCode::kError, "HTTP 500");
  out.end_span();
}

TEST(SpanEncoder, WritesTheSameBytesAsEncodingTheCollectedSpans) {
  // Values long enough that a KeyValue, the span and the request need multi-byte lengths; names
  // around the one-byte length's end; spans with and without a parent.
  const std::string long_names[] = {std::string(127, 'n'), std::string(128, 'n'),
                                    std::string(300, 'n')};
  for (std::string_view name : {std::string_view("chat gpt-4o"), std::string_view(long_names[0]),
                                std::string_view(long_names[1]), std::string_view(long_names[2])}) {
    for (bool has_parent : {false, true}) {
      for (std::size_t long_size : {0u, 100u, 126u, 127u, 128u, 300u, 20'000u}) {
        const std::string long_value(long_size, 'x');
        auto start = start_of(name);
        if (has_parent) {
          start.parent_span_id = random_span_id();
          start.parent_is_remote = true;
        }
        SpanEncoder encoder;
        write_sample(encoder, start, long_value);
        write_sample(encoder, start, "short");
        auto encoded = encoder.take();
        EXPECT_EQ(encoded.count, 2u);

        SpanCollector collector;
        write_sample(collector, start, long_value);
        write_sample(collector, start, "short");
        ASSERT_EQ(collector.spans().size(), 2u);

        ResourceInfo resource;
        resource.attributes.emplace_back("service.name", "sluice");
        EXPECT_EQ(encode_export_request(resource, std::span<const EncodedSpans>(&encoded, 1)),
                  encode_export_request(resource, std::span<const Span>(collector.spans())))
            << "value of " << long_size << " bytes, name of " << name.size() << " bytes, "
            << (has_parent ? "a parent" : "no parent");
      }
    }
  }
}

// A span under 128 bytes (a short name, no attributes) has a one-byte length: the two bytes set
// aside for it shrink to one.
TEST(SpanEncoder, ASpanUnder128BytesIsWrittenWithAOneByteLength) {
  const auto start = start_of("x");
  SpanEncoder encoder;
  encoder.begin_span(start);
  encoder.end_span();
  encoder.begin_span(start);
  encoder.attribute("k", "v");
  encoder.end_span();
  auto encoded = encoder.take();
  SpanCollector collector;
  for (int i = 0; i < 2; ++i) {
    collector.begin_span(start);
    if (i == 1) collector.attribute("k", "v");
    collector.end_span();
  }
  EXPECT_EQ(encode_export_request(ResourceInfo{}, std::span<const EncodedSpans>(&encoded, 1)),
            encode_export_request(ResourceInfo{}, std::span<const Span>(collector.spans())));
}

TEST(SpanEncoder, LongValuesDecodeWhole) {
  const std::string long_value(5'000, 'y');
  SpanEncoder encoder;
  write_sample(encoder, start_of("chat gpt-4o"), long_value);
  auto encoded = encoder.take();
  auto spans = spans_of(encode_export_request(ResourceInfo{}, std::span(&encoded, 1)));
  ASSERT_EQ(spans.size(), 1u);
  bool found = false;
  for (const auto& kv : sub_messages(spans[0], 9)) {
    if (kv.find(1)->second.bytes != "sluice.long") continue;
    found = true;
    EXPECT_EQ(parse_proto(kv.find(2)->second.bytes).find(1)->second.bytes, long_value);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(sub_messages(spans[0], 11).size(), 1u);  // the event, with its own attribute
  EXPECT_EQ(sub_messages(sub_messages(spans[0], 11)[0], 3).size(), 1u);
}

TEST(SpanEncoder, BatchesFromManyRequestsMakeOneExportInOrder) {
  std::vector<EncodedSpans> batches;
  for (int i = 0; i < 3; ++i) {
    SpanEncoder encoder;
    auto name = "span " + std::to_string(i);
    write_sample(encoder, start_of(name), "v");
    batches.push_back(encoder.take());
  }
  auto spans = spans_of(encode_export_request(ResourceInfo{}, batches));
  ASSERT_EQ(spans.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(spans[i].find(5)->second.bytes, "span " + std::to_string(i));
  }
}

TEST(SpanEncoder, TakeLeavesItEmpty) {
  SpanEncoder encoder;
  write_sample(encoder, start_of("a"), "v");
  EXPECT_EQ(encoder.take().count, 1u);
  auto again = encoder.take();
  EXPECT_EQ(again.count, 0u);
  EXPECT_TRUE(again.bytes.empty());
}

}  // namespace
}  // namespace sluice::telemetry
