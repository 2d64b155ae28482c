#include "sluice/telemetry/span_encoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "telemetry/otlp_fields.hpp"
#include "telemetry/protobuf_writer.hpp"

namespace sluice::telemetry {

namespace {

using W = ProtobufWriter;

// Bytes of an AnyValue's one field: its key, and its value for a scalar or its length for a string
// (whose bytes follow separately).
struct AnyValueHead {
  char bytes[2 * W::kMaxVarint + 8];
  std::size_t size = 0;
  void put_key(int field_number, int wire_type) {
    size += W::put_varint(bytes + size, W::key(field_number, wire_type));
  }
  void put_varint(std::uint64_t value) { size += W::put_varint(bytes + size, value); }
  std::string_view view() const { return {bytes, size}; }
};

template <std::size_t N>
std::string_view bytes_of(const std::array<std::uint8_t, N>& id) {
  return {reinterpret_cast<const char*>(id.data()), N};
}

char* put_bytes(char* at, const void* data, std::size_t size) {
  std::memcpy(at, data, size);
  return at + size;
}

}  // namespace

SpanEncoder::SpanEncoder(std::size_t reserve) {
  out_.bytes.resize(reserve);
}

inline char* SpanEncoder::extend(std::size_t n) {
  if (used_ + n > out_.bytes.size()) [[unlikely]] {
    out_.bytes.resize(std::max(out_.bytes.size() * 2, used_ + n));
  }
  char* at = out_.bytes.data() + used_;
  used_ += n;
  return at;
}

std::size_t SpanEncoder::open_message(int field_number) {
  const auto key = W::key(field_number, 2);
  char* p = extend(W::varint_size(key) + 1);
  p += W::put_varint(p, key);
  *p = 0;
  return used_;
}

void SpanEncoder::close_message(std::size_t start) {
  const std::size_t length = used_ - start;
  if (length < 0x80) {
    out_.bytes[start - 1] = static_cast<char>(length);
    return;
  }
  char prefix[W::kMaxVarint];
  const std::size_t n = W::put_varint(prefix, length);
  extend(n - 1);
  char* data = out_.bytes.data();
  std::memmove(data + start + n - 1, data + start, length);
  std::memcpy(data + start - 1, prefix, n);
}

void SpanEncoder::put_field_bytes(int field_number, std::string_view value) {
  const auto key = W::key(field_number, 2);
  char* p = extend(W::varint_size(key) + W::varint_size(value.size()) + value.size());
  p += W::put_varint(p, key);
  p += W::put_varint(p, value.size());
  put_bytes(p, value.data(), value.size());
}

void SpanEncoder::begin_span(const SpanStart& start) {
  span_start_ = open_message(field::kSpans);
  event_start_ = 0;
  put_field_bytes(field::kTraceId, bytes_of(start.trace_id));
  put_field_bytes(field::kSpanId, bytes_of(start.span_id));
  if (is_valid(start.parent_span_id)) {
    put_field_bytes(field::kParentSpanId, bytes_of(start.parent_span_id));
  }
  put_field_bytes(field::kName, start.name);
  // kind (varint), start and end (fixed64): one-byte keys.
  char* p = extend(2 + 2 * 9);
  *p++ = static_cast<char>(W::key(field::kKind, 0));
  *p++ = static_cast<char>(start.kind);
  for (auto [number, value] :
       {std::pair{field::kStart, start.start_unix_ns}, std::pair{field::kEnd, start.end_unix_ns}}) {
    *p++ = static_cast<char>(W::key(number, 1));
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(value >> (8 * i));
  }
  // flags (fixed32, field 16: a two-byte key).
  const std::uint32_t flags =
      field::kSampled | field::kHasIsRemote | (start.parent_is_remote ? field::kIsRemote : 0);
  const auto flags_key = W::key(field::kFlags, 5);
  p = extend(W::varint_size(flags_key) + 4);
  p += W::put_varint(p, flags_key);
  for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(flags >> (8 * i));
}

void SpanEncoder::end_span() {
  close_message(span_start_);
  ++out_.count;
}

void SpanEncoder::begin_event(std::string_view name, std::uint64_t time_unix_ns) {
  event_start_ = open_message(field::kEvents);
  char* p = extend(9);
  *p++ = static_cast<char>(W::key(field::kEventTime, 1));
  for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(time_unix_ns >> (8 * i));
  put_field_bytes(field::kEventName, name);
}

void SpanEncoder::end_event() {
  close_message(event_start_);
  event_start_ = 0;
}

void SpanEncoder::status(StatusCode code, std::string_view message) {
  const auto st = open_message(field::kStatus);
  if (!message.empty()) put_field_bytes(field::kStatusMessage, message);
  char* p = extend(2);
  *p++ = static_cast<char>(W::key(field::kStatusCode, 0));
  *p = static_cast<char>(code);
  close_message(st);
}

EncodedSpans SpanEncoder::take() {
  out_.bytes.resize(used_);
  EncodedSpans taken = std::move(out_);
  out_ = EncodedSpans{};
  used_ = 0;
  return taken;
}

int SpanEncoder::attribute_field() const noexcept {
  return event_start_ != 0 ? field::kEventAttributes : field::kAttributes;
}

// Each attribute is written in one piece, every length known before the bytes (a request's spans
// have ~45 attributes; appending them field by field cost more than all the rest of tracing).
void SpanEncoder::put_key_value(std::string_view key, std::string_view any_head,
                                std::string_view any_tail) {
  const std::size_t any_size = any_head.size() + any_tail.size();
  const int field_number = attribute_field();
  // Nearly every attribute: the KeyValue is under 128 bytes, so every length is one byte.
  if (const std::size_t short_kv_size = 4 + key.size() + any_size; short_kv_size < 0x80) {
    char* p = extend(2 + short_kv_size);
    p[0] = static_cast<char>(W::key(field_number, 2));
    p[1] = static_cast<char>(short_kv_size);
    p[2] = static_cast<char>(W::key(field::kKey, 2));
    p[3] = static_cast<char>(key.size());
    p = put_bytes(p + 4, key.data(), key.size());
    p[0] = static_cast<char>(W::key(field::kValue, 2));
    p[1] = static_cast<char>(any_size);
    p = put_bytes(p + 2, any_head.data(), any_head.size());
    put_bytes(p, any_tail.data(), any_tail.size());
    return;
  }
  const std::size_t kv_size =
      1 + W::varint_size(key.size()) + key.size() + 1 + W::varint_size(any_size) + any_size;
  const auto kv_key = W::key(field_number, 2);
  char* p = extend(W::varint_size(kv_key) + W::varint_size(kv_size) + kv_size);
  p += W::put_varint(p, kv_key);
  p += W::put_varint(p, kv_size);
  *p++ = static_cast<char>(W::key(field::kKey, 2));
  p += W::put_varint(p, key.size());
  p = put_bytes(p, key.data(), key.size());
  *p++ = static_cast<char>(W::key(field::kValue, 2));
  p += W::put_varint(p, any_size);
  p = put_bytes(p, any_head.data(), any_head.size());
  put_bytes(p, any_tail.data(), any_tail.size());
}

void SpanEncoder::put_string(std::string_view key, std::string_view value) {
  AnyValueHead head;
  head.put_key(field::kStringValue, 2);
  head.put_varint(value.size());
  put_key_value(key, head.view(), value);
}

void SpanEncoder::put_bool(std::string_view key, bool value) {
  AnyValueHead head;
  head.put_key(field::kBoolValue, 0);
  head.put_varint(value ? 1 : 0);
  put_key_value(key, head.view(), {});
}

void SpanEncoder::put_int(std::string_view key, std::int64_t value) {
  AnyValueHead head;
  head.put_key(field::kIntValue, 0);
  head.put_varint(static_cast<std::uint64_t>(value));
  put_key_value(key, head.view(), {});
}

void SpanEncoder::put_double(std::string_view key, double value) {
  AnyValueHead head;
  head.put_key(field::kDoubleValue, 1);
  std::uint64_t bits;
  std::memcpy(&bits, &value, 8);
  for (int i = 0; i < 8; ++i) head.bytes[head.size++] = static_cast<char>(bits >> (8 * i));
  put_key_value(key, head.view(), {});
}

}  // namespace sluice::telemetry
