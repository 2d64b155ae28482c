#pragma once
// A SpanWriter that writes OTLP protobuf as the parts come: each span becomes a `Span` message
// (field `spans` of ScopeSpans, tag and length included), ready to be placed as it is into an
// export request (otlp_encoding.hpp). This is how a request's spans leave the request thread:
// already encoded, in one string, so the exporter's thread only concatenates.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "sluice/telemetry/span_writer.hpp"

namespace sluice::telemetry {

// Encoded spans and how many there are.
struct EncodedSpans {
  std::string bytes;
  std::size_t count = 0;
};

class SpanEncoder final : public SpanWriter {
 public:
  // `reserve`: bytes to set aside up front (a gateway request's two spans take about 1 KiB).
  explicit SpanEncoder(std::size_t reserve = 1536);
  // Writes into `buffer`'s bytes (its contents are overwritten), made at least `reserve` long:
  // a recycled block's room is reused without a new allocation or zero fill.
  SpanEncoder(std::string buffer, std::size_t reserve);

  void begin_span(const SpanStart& start) override;
  void end_span() override;
  void begin_event(std::string_view name, std::uint64_t time_unix_ns) override;
  void end_event() override;
  void status(StatusCode code, std::string_view message) override;

  // The spans written so far; the encoder is empty afterwards.
  EncodedSpans take();

  // Bytes and whole spans written so far, and a point to go back to: a request thread's block
  // (span_staging.hpp) takes back what one request wrote when the queue has no room for it.
  std::size_t size() const noexcept { return used_; }
  std::size_t count() const noexcept { return out_.count; }
  struct Mark {
    std::size_t used;
    std::size_t count;
  };
  Mark mark() const noexcept { return {used_, out_.count}; }
  // Forgets what was written after `mark`; no span may be open.
  void roll_back(Mark mark) noexcept {
    used_ = mark.used;
    out_.count = mark.count;
  }

  // Span attributes another SpanEncoder wrote outside any span (what take() returned from it):
  // for attributes that are the same on many spans, encoded once.
  void put_encoded_attributes(std::string_view encoded) {
    char* p = extend(encoded.size());
    std::memcpy(p, encoded.data(), encoded.size());
  }

 protected:
  // Defined below, in this header: a caller that holds a SpanEncoder (final) gets them inlined, and
  // with the key a literal its copy is a few moves. A request's spans have ~45 attributes; through
  // a virtual call each and a memcpy call per key and value they cost as much as the rest of
  // tracing together.
  void put_string(std::string_view key, std::string_view value) override;
  void put_bool(std::string_view key, bool value) override;
  void put_int(std::string_view key, std::int64_t value) override;
  void put_double(std::string_view key, double value) override;

 private:
  // Tags of the KeyValue and AnyValue fields (otlp_fields.hpp, checked in span_encoder.cpp).
  static constexpr char kSpanAttributesTag = 9 << 3 | 2;
  static constexpr char kEventAttributesTag = 3 << 3 | 2;
  static constexpr char kKeyTag = 1 << 3 | 2;
  static constexpr char kValueTag = 2 << 3 | 2;
  static constexpr char kStringValueTag = 1 << 3 | 2;
  static constexpr char kBoolValueTag = 2 << 3 | 0;
  static constexpr char kIntValueTag = 3 << 3 | 0;
  static constexpr char kDoubleValueTag = 4 << 3 | 1;
  static constexpr std::size_t kMaxScalarValue = 10;  // the longest varint

  // `n` more bytes at the end, to write through the pointer. The string is kept longer than what
  // is written (`used_` is the real end), so most writes are a pointer bump, not a string append.
  char* extend(std::size_t n) {
    if (used_ + n > out_.bytes.size()) [[unlikely]]
      grow(n);
    char* at = out_.bytes.data() + used_;
    used_ += n;
    return at;
  }
  void grow(std::size_t n);
  // The open KeyValue's bytes up to its AnyValue's own bytes when the KeyValue is under 128 bytes
  // (nearly every attribute: every length is then one byte); nullptr when it is not.
  char* short_key_value(std::string_view key, std::size_t any_size) {
    const std::size_t kv_size = 4 + key.size() + any_size;
    if (kv_size >= 0x80) [[unlikely]]
      return nullptr;
    char* p = extend(2 + kv_size);
    p[0] = event_start_ != 0 ? kEventAttributesTag : kSpanAttributesTag;
    p[1] = static_cast<char>(kv_size);
    p[2] = kKeyTag;
    p[3] = static_cast<char>(key.size());
    std::memcpy(p + 4, key.data(), key.size());
    p += 4 + key.size();
    p[0] = kValueTag;
    p[1] = static_cast<char>(any_size);
    return p + 2;
  }
  // A length-delimited message, opened with room for its length's varint guessed at
  // `length_bytes`; closing it writes the length, and moves the message when the guess was wrong.
  // A span is 128 bytes to 16 KiB (two bytes) nearly always; its events and status under 128.
  static constexpr std::size_t kSpanLengthBytes = 2;
  std::size_t open_message(int field_number, std::size_t length_bytes);
  // A span head's parts (begin_span): the ids at `p`, then the kind, times and flags.
  static char* put_head_fields(char* p, const SpanStart& start, bool has_parent);
  static void put_kind_times_flags(char* p, const SpanStart& start);
  void begin_span_long_name(const SpanStart& start, bool has_parent);
  void close_message(std::size_t start, std::size_t length_bytes);
  void put_field_bytes(int field_number, std::string_view value);
  // One attribute of any size: KeyValue{key, AnyValue{`any_head` `any_tail`}}.
  void put_key_value(std::string_view key, std::string_view any_head, std::string_view any_tail);
  void put_scalar(std::string_view key, const char* any, std::size_t any_size) {
    if (char* p = short_key_value(key, any_size)) [[likely]] {
      std::memcpy(p, any, any_size);
    } else {
      put_key_value(key, {any, any_size}, {});
    }
  }

  EncodedSpans out_;
  std::size_t used_ = 0;
  std::size_t span_start_ = 0;   // where the open span's fields begin
  std::size_t event_start_ = 0;  // the open event's; 0 when none is open
};

inline void SpanEncoder::put_string(std::string_view key, std::string_view value) {
  if (value.size() < 0x80) [[likely]] {
    if (char* p = short_key_value(key, 2 + value.size())) [[likely]] {
      p[0] = kStringValueTag;
      p[1] = static_cast<char>(value.size());
      std::memcpy(p + 2, value.data(), value.size());
      return;
    }
  }
  char head[1 + kMaxScalarValue] = {kStringValueTag};
  std::size_t n = 1;
  std::size_t size = value.size();
  for (; size >= 0x80; size >>= 7) head[n++] = static_cast<char>((size & 0x7f) | 0x80);
  head[n++] = static_cast<char>(size);
  put_key_value(key, {head, n}, value);
}

inline void SpanEncoder::put_bool(std::string_view key, bool value) {
  const char any[2] = {kBoolValueTag, value ? char{1} : char{0}};
  put_scalar(key, any, 2);
}

inline void SpanEncoder::put_int(std::string_view key, std::int64_t value) {
  char any[1 + kMaxScalarValue] = {kIntValueTag};
  std::size_t n = 1;
  auto bits = static_cast<std::uint64_t>(value);
  for (; bits >= 0x80; bits >>= 7) any[n++] = static_cast<char>((bits & 0x7f) | 0x80);
  any[n++] = static_cast<char>(bits);
  put_scalar(key, any, n);
}

inline void SpanEncoder::put_double(std::string_view key, double value) {
  char any[9] = {kDoubleValueTag};
  std::uint64_t bits;
  std::memcpy(&bits, &value, 8);
  for (int i = 0; i < 8; ++i) any[1 + i] = static_cast<char>(bits >> (8 * i));
  put_scalar(key, any, 9);
}

}  // namespace sluice::telemetry
