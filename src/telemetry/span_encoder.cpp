#include "sluice/telemetry/span_encoder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "telemetry/otlp_fields.hpp"
#include "telemetry/protobuf_writer.hpp"

namespace sluice::telemetry {

namespace {

using W = ProtobufWriter;

template <std::size_t N>
std::string_view bytes_of(const std::array<std::uint8_t, N>& id) {
  return {reinterpret_cast<const char*>(id.data()), N};
}

char* put_bytes(char* at, const void* data, std::size_t size) {
  std::memcpy(at, data, size);
  return at + size;
}

// A fixed32 or fixed64 field's value: little-endian, as the wire format is and as every machine
// sluice builds for (x86-64, arm64) stores it.
static_assert(std::endian::native == std::endian::little);
template <class Unsigned>
char* put_fixed(char* at, Unsigned value) {
  return put_bytes(at, &value, sizeof value);
}

// The sizes of a span head's fixed parts (put_head_fields, put_kind_times_flags): the trace and
// span ids (and the parent's) with their keys and lengths; the kind, the two times, and the flags
// (fixed32, field 16: a two-byte key).
constexpr std::size_t head_ids_size(bool has_parent) {
  return (2 + 16) + (2 + 8) + (has_parent ? 2 + 8 : 0);
}
static_assert(W::varint_size(W::key(field::kFlags, 5)) == 2);
constexpr std::size_t kKindTimesFlagsSize = 2 + 2 * (1 + 8) + (2 + 4);

}  // namespace

SpanEncoder::SpanEncoder(std::size_t reserve) : SpanEncoder(std::string(), reserve) {}

SpanEncoder::SpanEncoder(std::string buffer, std::size_t reserve) {
  out_.bytes = std::move(buffer);
  // take() left the size at what was written; the room up to the capacity is there already.
  if (out_.bytes.size() < reserve) out_.bytes.resize(reserve);
}

void SpanEncoder::grow(std::size_t n) {
  // The header's tags are the schema's field numbers (here, where the private constants are seen).
  static_assert(SpanEncoder::kSpanAttributesTag == W::key(field::kAttributes, 2));
  static_assert(SpanEncoder::kEventAttributesTag == W::key(field::kEventAttributes, 2));
  static_assert(SpanEncoder::kKeyTag == W::key(field::kKey, 2));
  static_assert(SpanEncoder::kValueTag == W::key(field::kValue, 2));
  static_assert(SpanEncoder::kStringValueTag == W::key(field::kStringValue, 2));
  static_assert(SpanEncoder::kBoolValueTag == W::key(field::kBoolValue, 0));
  static_assert(SpanEncoder::kIntValueTag == W::key(field::kIntValue, 0));
  static_assert(SpanEncoder::kDoubleValueTag == W::key(field::kDoubleValue, 1));
  out_.bytes.resize(std::max(out_.bytes.size() * 2, used_ + n));
}

std::size_t SpanEncoder::open_message(int field_number, std::size_t length_bytes) {
  const auto key = W::key(field_number, 2);
  char* p = extend(W::varint_size(key) + length_bytes);
  W::put_varint(p, key);
  return used_;
}

void SpanEncoder::close_message(std::size_t start, std::size_t length_bytes) {
  const std::size_t length = used_ - start;
  char prefix[W::kMaxVarint];
  const std::size_t n = W::put_varint(prefix, length);
  if (n != length_bytes) [[unlikely]] {
    // The guess was wrong: move the message to fit its length's real size.
    if (n > length_bytes) {
      extend(n - length_bytes);
    } else {
      used_ -= length_bytes - n;
    }
    char* data = out_.bytes.data();
    std::memmove(data + start - length_bytes + n, data + start, length);
  }
  std::memcpy(out_.bytes.data() + start - length_bytes, prefix, n);
}

void SpanEncoder::put_field_bytes(int field_number, std::string_view value) {
  const auto key = W::key(field_number, 2);
  char* p = extend(W::varint_size(key) + W::varint_size(value.size()) + value.size());
  p += W::put_varint(p, key);
  p += W::put_varint(p, value.size());
  put_bytes(p, value.data(), value.size());
}

// A span's head has a fixed shape apart from its name, so it is written with one bounds check and
// no varint loops: the ids are 16 and 8 bytes, the times 8, the flags 4, and a name under 128 bytes
// (nearly all: "{operation} {model}") has a one-byte length. Every length and key is one byte but
// the flags' key, so each part is a few stores.
void SpanEncoder::begin_span(const SpanStart& start) {
  static_assert(W::varint_size(W::key(field::kSpans, 2)) == 1);
  const std::string_view name = start.name;
  const bool has_parent = is_valid(start.parent_span_id);
  event_start_ = 0;
  if (name.size() >= 0x80) [[unlikely]] {
    begin_span_long_name(start, has_parent);
    return;
  }
  constexpr std::size_t kOpen = 1 + kSpanLengthBytes;  // the span's key and its length's bytes
  constexpr std::size_t kNameHead = 2;                 // the name's key and one-byte length
  const std::size_t at = used_;
  char* p =
      extend(kOpen + head_ids_size(has_parent) + kNameHead + name.size() + kKindTimesFlagsSize);
  span_start_ = at + kOpen;
  *p = static_cast<char>(W::key(field::kSpans, 2));
  p += kOpen;  // the length's two bytes: end_span() writes them
  p = put_head_fields(p, start, has_parent);
  *p++ = static_cast<char>(W::key(field::kName, 2));
  *p++ = static_cast<char>(name.size());
  p = put_bytes(p, name.data(), name.size());
  put_kind_times_flags(p, start);
}

char* SpanEncoder::put_head_fields(char* p, const SpanStart& start, bool has_parent) {
  p[0] = static_cast<char>(W::key(field::kTraceId, 2));
  p[1] = 16;
  std::memcpy(p + 2, start.trace_id.data(), 16);
  p[18] = static_cast<char>(W::key(field::kSpanId, 2));
  p[19] = 8;
  std::memcpy(p + 20, start.span_id.data(), 8);
  p += 28;
  if (has_parent) {
    p[0] = static_cast<char>(W::key(field::kParentSpanId, 2));
    p[1] = 8;
    std::memcpy(p + 2, start.parent_span_id.data(), 8);
    p += 10;
  }
  return p;
}

void SpanEncoder::put_kind_times_flags(char* p, const SpanStart& start) {
  *p++ = static_cast<char>(W::key(field::kKind, 0));
  *p++ = static_cast<char>(start.kind);
  *p++ = static_cast<char>(W::key(field::kStart, 1));
  p = put_fixed(p, start.start_unix_ns);
  *p++ = static_cast<char>(W::key(field::kEnd, 1));
  p = put_fixed(p, start.end_unix_ns);
  // flags (fixed32, field 16: a two-byte key).
  const std::uint32_t flags =
      field::kSampled | field::kHasIsRemote | (start.parent_is_remote ? field::kIsRemote : 0);
  p += W::put_varint(p, W::key(field::kFlags, 5));
  put_fixed(p, flags);
}

// The same head with a name of 128 bytes or more, whose length takes more than a byte.
void SpanEncoder::begin_span_long_name(const SpanStart& start, bool has_parent) {
  span_start_ = open_message(field::kSpans, kSpanLengthBytes);
  put_head_fields(extend(head_ids_size(has_parent)), start, has_parent);
  put_field_bytes(field::kName, start.name);
  put_kind_times_flags(extend(kKindTimesFlagsSize), start);
}

void SpanEncoder::end_span() {
  const std::size_t length = used_ - span_start_;
  if (length >= 0x80 && length < 0x4000) [[likely]] {
    // The two bytes begin_span() set aside, as a varint.
    char* at = out_.bytes.data() + span_start_ - kSpanLengthBytes;
    at[0] = static_cast<char>((length & 0x7f) | 0x80);
    at[1] = static_cast<char>(length >> 7);
  } else {
    close_message(span_start_, kSpanLengthBytes);
  }
  ++out_.count;
}

void SpanEncoder::begin_event(std::string_view name, std::uint64_t time_unix_ns) {
  event_start_ = open_message(field::kEvents, 1);
  char* p = extend(9);
  *p++ = static_cast<char>(W::key(field::kEventTime, 1));
  put_fixed(p, time_unix_ns);
  put_field_bytes(field::kEventName, name);
}

void SpanEncoder::end_event() {
  close_message(event_start_, 1);
  event_start_ = 0;
}

void SpanEncoder::status(StatusCode code, std::string_view message) {
  const auto st = open_message(field::kStatus, 1);
  if (!message.empty()) put_field_bytes(field::kStatusMessage, message);
  char* p = extend(2);
  *p++ = static_cast<char>(W::key(field::kStatusCode, 0));
  *p = static_cast<char>(code);
  close_message(st, 1);
}

EncodedSpans SpanEncoder::take() {
  out_.bytes.resize(used_);
  EncodedSpans taken = std::move(out_);
  out_ = EncodedSpans{};
  used_ = 0;
  return taken;
}

// An attribute whose KeyValue is 128 bytes or more (a long prompt-derived value, say): its lengths
// take more than a byte each. Shorter ones are written in the header.
void SpanEncoder::put_key_value(std::string_view key, std::string_view any_head,
                                std::string_view any_tail) {
  const std::size_t any_size = any_head.size() + any_tail.size();
  const std::size_t kv_size =
      1 + W::varint_size(key.size()) + key.size() + 1 + W::varint_size(any_size) + any_size;
  const std::uint64_t kv_key =
      static_cast<unsigned char>(event_start_ != 0 ? kEventAttributesTag : kSpanAttributesTag);
  char* p = extend(W::varint_size(kv_key) + W::varint_size(kv_size) + kv_size);
  p += W::put_varint(p, kv_key);
  p += W::put_varint(p, kv_size);
  *p++ = kKeyTag;
  p += W::put_varint(p, key.size());
  p = put_bytes(p, key.data(), key.size());
  *p++ = kValueTag;
  p += W::put_varint(p, any_size);
  p = put_bytes(p, any_head.data(), any_head.size());
  put_bytes(p, any_tail.data(), any_tail.size());
}

}  // namespace sluice::telemetry
