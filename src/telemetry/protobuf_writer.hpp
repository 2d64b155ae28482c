#pragma once
// The few protobuf wire-format primitives OTLP export needs. Written by hand rather than pulling in
// libprotobuf and generated code for five small messages; the e2e tests decode what is written with
// the official opentelemetry-proto schema. The static helpers are what SpanEncoder writes spans
// with; the members append the export request's small resource and scope heads to a std::string.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::telemetry {

class ProtobufWriter {
 public:
  explicit ProtobufWriter(std::string& out) : out_(out) {}

  // Wire type 2 (length-delimited): string, bytes.
  void bytes_field(int field, std::string_view value) {
    message_head(field, value.size());
    out_.append(value);
  }

  // The head of an embedded message whose length is known before its fields are written.
  void message_head(int field, std::size_t length) {
    char bytes[2 * kMaxVarint];
    std::size_t n = put_varint(bytes, key(field, 2));
    n += put_varint(bytes + n, length);
    out_.append(bytes, n);
  }
  // An embedded message: begin() before its fields, end() after. begin() leaves one byte for the
  // length, which is all a message under 128 bytes needs (every attribute of a span): end() writes
  // it in place. A longer message moves its bytes by the extra prefix bytes, once per nesting
  // level.
  std::size_t begin(int field) {
    char bytes[kMaxVarint + 1];
    std::size_t n = put_varint(bytes, key(field, 2));
    bytes[n++] = '\0';
    out_.append(bytes, n);
    return out_.size();
  }
  void end(std::size_t start) {
    std::uint64_t length = out_.size() - start;
    if (length < 0x80) {
      out_[start - 1] = static_cast<char>(length);
      return;
    }
    char prefix[kMaxVarint];
    std::size_t n = put_varint(prefix, length);
    out_.insert(start, n - 1, '\0');
    std::memcpy(out_.data() + start - 1, prefix, n);
  }

  static constexpr std::size_t kMaxVarint = 10;
  // A field's key: its number and wire type.
  static constexpr std::uint64_t key(int field, int wire_type) {
    return static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type);
  }
  static constexpr std::size_t varint_size(std::uint64_t value) {
    std::size_t n = 1;
    for (; value >= 0x80; value >>= 7) ++n;
    return n;
  }
  // Writes `value` as a varint at `at`; returns its size.
  static std::size_t put_varint(char* at, std::uint64_t value) {
    std::size_t n = 0;
    while (value >= 0x80) {
      at[n++] = static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    at[n++] = static_cast<char>(value);
    return n;
  }

 private:
  std::string& out_;
};

}  // namespace sluice::telemetry
