#include "sluice/telemetry/otlp_encoding.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "telemetry/tests/protobuf_reader.hpp"

namespace sluice::telemetry {
namespace {

using testing::parse_proto;
using testing::ProtoField;
using testing::ProtoMessage;
using testing::sub_messages;

const ProtoField& only(const ProtoMessage& m, int field) {
  EXPECT_EQ(m.count(field), 1u) << "field " << field;
  return m.find(field)->second;
}

// The attributes (KeyValue list at `field`) of a message, as key → AnyValue message.
std::map<std::string, ProtoMessage> attributes_of(const ProtoMessage& m, int field) {
  std::map<std::string, ProtoMessage> out;
  for (const auto& kv : sub_messages(m, field)) {
    out[only(kv, 1).bytes] = parse_proto(only(kv, 2).bytes);
  }
  return out;
}

Span sample_span() {
  Span span;
  span.trace_id = random_trace_id();
  span.span_id = random_span_id();
  span.parent_span_id = random_span_id();
  span.parent_is_remote = true;
  span.name = "chat gpt-4o";
  span.kind = SpanKind::kServer;
  span.start_unix_ns = 1'700'000'000'000'000'000ULL;
  span.end_unix_ns = 1'700'000'000'250'000'000ULL;
  span.set("gen_ai.operation.name", "chat");
  span.set("gen_ai.usage.input_tokens", std::int64_t{-12});  // negative: varint of two's complement
  span.set("sluice.streamed", true);
  span.set("sluice.ratio", 0.5);
  span.events.push_back(SpanEvent{"gen_ai.first_token", span.start_unix_ns + 5, {}});
  span.status = StatusCode::kError;
  span.status_message = "HTTP 500";
  return span;
}

TEST(OtlpEncoding, RoundTripsASpanThroughTheWireFormat) {
  ResourceInfo resource;
  resource.attributes.emplace_back("service.name", "sluice");
  resource.scope_version = "0.1.0";
  auto span = sample_span();
  auto bytes = encode_export_request(resource, std::span<const Span>(&span, 1));

  auto request = parse_proto(bytes);
  auto resource_spans = sub_messages(request, 1);
  ASSERT_EQ(resource_spans.size(), 1u);
  auto resource_message = sub_messages(resource_spans[0], 1);
  ASSERT_EQ(resource_message.size(), 1u);
  auto resource_attributes = attributes_of(resource_message[0], 1);
  EXPECT_EQ(only(resource_attributes["service.name"], 1).bytes, "sluice");
  auto scope_spans = sub_messages(resource_spans[0], 2);
  ASSERT_EQ(scope_spans.size(), 1u);
  auto scope = sub_messages(scope_spans[0], 1);
  ASSERT_EQ(scope.size(), 1u);
  EXPECT_EQ(only(scope[0], 1).bytes, "sluice");
  EXPECT_EQ(only(scope[0], 2).bytes, "0.1.0");

  auto spans = sub_messages(scope_spans[0], 2);
  ASSERT_EQ(spans.size(), 1u);
  const auto& s = spans[0];
  EXPECT_EQ(only(s, 1).bytes, std::string(reinterpret_cast<const char*>(span.trace_id.data()), 16));
  EXPECT_EQ(only(s, 2).bytes, std::string(reinterpret_cast<const char*>(span.span_id.data()), 8));
  EXPECT_EQ(only(s, 4).bytes,
            std::string(reinterpret_cast<const char*>(span.parent_span_id.data()), 8));
  EXPECT_EQ(only(s, 5).bytes, "chat gpt-4o");
  EXPECT_EQ(only(s, 6).number, 2u);  // SPAN_KIND_SERVER
  EXPECT_EQ(only(s, 7).wire_type, 1);
  EXPECT_EQ(only(s, 7).number, span.start_unix_ns);
  EXPECT_EQ(only(s, 8).number, span.end_unix_ns);
  EXPECT_EQ(only(s, 16).wire_type, 5);
  EXPECT_EQ(only(s, 16).number, 0x301u);  // sampled, has-is-remote, is-remote

  auto attributes = attributes_of(s, 9);
  ASSERT_EQ(attributes.size(), 4u);
  EXPECT_EQ(only(attributes["gen_ai.operation.name"], 1).bytes, "chat");
  EXPECT_EQ(static_cast<std::int64_t>(only(attributes["gen_ai.usage.input_tokens"], 3).number),
            -12);
  EXPECT_EQ(only(attributes["sluice.streamed"], 2).number, 1u);
  double ratio;
  auto bits = only(attributes["sluice.ratio"], 4).number;
  std::memcpy(&ratio, &bits, 8);
  EXPECT_EQ(ratio, 0.5);

  auto events = sub_messages(s, 11);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(only(events[0], 1).number, span.start_unix_ns + 5);
  EXPECT_EQ(only(events[0], 2).bytes, "gen_ai.first_token");
  auto status = sub_messages(s, 15);
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(only(status[0], 2).bytes, "HTTP 500");
  EXPECT_EQ(only(status[0], 3).number, 2u);  // STATUS_CODE_ERROR
}

TEST(OtlpEncoding, LongMessagesGetMultiByteLengthPrefixes) {
  std::vector<Span> spans(300, sample_span());
  spans[0].name = std::string(100'000, 'x');
  auto bytes = encode_export_request(ResourceInfo{}, spans);
  auto decoded = testing::spans_of(bytes);
  ASSERT_EQ(decoded.size(), 300u);
  EXPECT_EQ(only(decoded[0], 5).bytes.size(), 100'000u);
  EXPECT_EQ(only(decoded[299], 5).bytes, "chat gpt-4o");
}

TEST(OtlpEncoding, ARootSpanHasNoParentField) {
  auto span = sample_span();
  span.parent_span_id = {};
  span.parent_is_remote = false;
  auto spans =
      testing::spans_of(encode_export_request(ResourceInfo{}, std::span<const Span>(&span, 1)));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].count(4), 0u);
  EXPECT_EQ(only(spans[0], 16).number, 0x101u);
}

}  // namespace
}  // namespace sluice::telemetry
