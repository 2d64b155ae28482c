#include "sluice/telemetry/span_encoder.hpp"

#include <cstring>

#include "telemetry/otlp_fields.hpp"
#include "telemetry/protobuf_writer.hpp"

namespace sluice::telemetry {

namespace {

// One attribute, KeyValue{1: key, 2: AnyValue{payload}}, written in one piece: every length is
// known before the bytes (a span has ~30 attributes; appending field by field cost more than the
// rest of the span). `payload` is AnyValue's one field, tag included, then `tail` (a string's
// bytes, or nothing).
void write_key_value(std::string& out, int field_number, std::string_view key,
                     std::string_view payload, std::string_view tail = {}) {
  using W = ProtobufWriter;
  const std::size_t any_size = payload.size() + tail.size();
  const std::size_t kv_size =
      1 + W::varint_size(key.size()) + key.size() + 1 + W::varint_size(any_size) + any_size;
  const std::uint64_t kv_key = W::key(field_number, 2);
  char* p = W(out).grow(W::varint_size(kv_key) + W::varint_size(kv_size) + kv_size);
  p += W::put_varint(p, kv_key);
  p += W::put_varint(p, kv_size);
  p += W::put_varint(p, W::key(field::kKey, 2));
  p += W::put_varint(p, key.size());
  std::memcpy(p, key.data(), key.size());
  p += key.size();
  p += W::put_varint(p, W::key(field::kValue, 2));
  p += W::put_varint(p, any_size);
  std::memcpy(p, payload.data(), payload.size());
  p += payload.size();
  if (!tail.empty()) std::memcpy(p, tail.data(), tail.size());
}

// The head of an AnyValue field (its key, and for a string its length) or a whole scalar field.
struct AnyValueHead {
  char bytes[2 * ProtobufWriter::kMaxVarint + 8];
  std::size_t size = 0;
  std::string_view view() const { return {bytes, size}; }
  void put_key(int field_number, int wire_type) {
    size += ProtobufWriter::put_varint(bytes + size, ProtobufWriter::key(field_number, wire_type));
  }
  void put_varint(std::uint64_t value) { size += ProtobufWriter::put_varint(bytes + size, value); }
};

}  // namespace

SpanEncoder::SpanEncoder(std::size_t reserve) {
  out_.bytes.reserve(reserve);
}

void SpanEncoder::begin_span(const SpanStart& start) {
  ProtobufWriter w(out_.bytes);
  span_start_ = w.begin(field::kSpans);
  event_start_ = 0;
  w.bytes_field(field::kTraceId, start.trace_id.data(), start.trace_id.size());
  w.bytes_field(field::kSpanId, start.span_id.data(), start.span_id.size());
  if (is_valid(start.parent_span_id)) {
    w.bytes_field(field::kParentSpanId, start.parent_span_id.data(), start.parent_span_id.size());
  }
  w.bytes_field(field::kName, start.name);
  w.int_field(field::kKind, static_cast<int>(start.kind));
  w.fixed64_field(field::kStart, start.start_unix_ns);
  w.fixed64_field(field::kEnd, start.end_unix_ns);
  std::uint32_t flags =
      field::kSampled | field::kHasIsRemote | (start.parent_is_remote ? field::kIsRemote : 0);
  w.fixed32_field(field::kFlags, flags);
}

void SpanEncoder::end_span() {
  ProtobufWriter(out_.bytes).end(span_start_);
  ++out_.count;
}

void SpanEncoder::begin_event(std::string_view name, std::uint64_t time_unix_ns) {
  ProtobufWriter w(out_.bytes);
  event_start_ = w.begin(field::kEvents);
  w.fixed64_field(field::kEventTime, time_unix_ns);
  w.bytes_field(field::kEventName, name);
}

void SpanEncoder::end_event() {
  ProtobufWriter(out_.bytes).end(event_start_);
  event_start_ = 0;
}

void SpanEncoder::status(StatusCode code, std::string_view message) {
  ProtobufWriter w(out_.bytes);
  auto st = w.begin(field::kStatus);
  if (!message.empty()) w.bytes_field(field::kStatusMessage, message);
  w.int_field(field::kStatusCode, static_cast<int>(code));
  w.end(st);
}

EncodedSpans SpanEncoder::take() {
  EncodedSpans taken = std::move(out_);
  out_ = EncodedSpans{};
  return taken;
}

int SpanEncoder::attribute_field() const noexcept {
  return event_start_ != 0 ? field::kEventAttributes : field::kAttributes;
}

void SpanEncoder::put_string(std::string_view key, std::string_view value) {
  AnyValueHead head;
  head.put_key(field::kStringValue, 2);
  head.put_varint(value.size());
  write_key_value(out_.bytes, attribute_field(), key, head.view(), value);
}

void SpanEncoder::put_bool(std::string_view key, bool value) {
  AnyValueHead head;
  head.put_key(field::kBoolValue, 0);
  head.put_varint(value ? 1 : 0);
  write_key_value(out_.bytes, attribute_field(), key, head.view());
}

void SpanEncoder::put_int(std::string_view key, std::int64_t value) {
  AnyValueHead head;
  head.put_key(field::kIntValue, 0);
  head.put_varint(static_cast<std::uint64_t>(value));
  write_key_value(out_.bytes, attribute_field(), key, head.view());
}

void SpanEncoder::put_double(std::string_view key, double value) {
  AnyValueHead head;
  head.put_key(field::kDoubleValue, 1);
  std::uint64_t bits;
  std::memcpy(&bits, &value, 8);
  for (int i = 0; i < 8; ++i) head.bytes[head.size++] = static_cast<char>(bits >> (8 * i));
  write_key_value(out_.bytes, attribute_field(), key, head.view());
}

}  // namespace sluice::telemetry
