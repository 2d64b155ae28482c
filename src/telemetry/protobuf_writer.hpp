#pragma once
// The few protobuf wire-format primitives OTLP export needs, appended to a std::string. Written by
// hand rather than pulling in libprotobuf and generated code for five small messages; the e2e tests
// decode what it writes with the official opentelemetry-proto schema.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::telemetry {

class ProtobufWriter {
 public:
  explicit ProtobufWriter(std::string& out) : out_(out) {}

  void varint(std::uint64_t value) {
    while (value >= 0x80) {
      out_ += static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    out_ += static_cast<char>(value);
  }
  void tag(int field, int wire_type) { varint(static_cast<std::uint64_t>(field) << 3 | wire_type); }

  // Wire type 0 (varint): int64, bool, enum.
  void int_field(int field, std::int64_t value) {
    tag(field, 0);
    varint(static_cast<std::uint64_t>(value));
  }
  // Wire type 1 (64-bit): fixed64, double.
  void fixed64_field(int field, std::uint64_t value) {
    tag(field, 1);
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
    out_.append(bytes, 8);
  }
  // Wire type 5 (32-bit): fixed32.
  void fixed32_field(int field, std::uint32_t value) {
    tag(field, 5);
    char bytes[4];
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
    out_.append(bytes, 4);
  }
  void double_field(int field, double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, 8);
    fixed64_field(field, bits);
  }
  // Wire type 2 (length-delimited): string, bytes.
  void bytes_field(int field, std::string_view value) {
    tag(field, 2);
    varint(value.size());
    out_.append(value);
  }
  void bytes_field(int field, const std::uint8_t* data, std::size_t size) {
    bytes_field(field, std::string_view(reinterpret_cast<const char*>(data), size));
  }

  // An embedded message: begin() before its fields, end() after; the length prefix is put in
  // place by end() (the message's bytes move by the prefix's size, once per nesting level).
  std::size_t begin(int field) {
    tag(field, 2);
    return out_.size();
  }
  void end(std::size_t start) {
    std::uint64_t length = out_.size() - start;
    char prefix[10];
    std::size_t n = 0;
    while (length >= 0x80) {
      prefix[n++] = static_cast<char>((length & 0x7f) | 0x80);
      length >>= 7;
    }
    prefix[n++] = static_cast<char>(length);
    out_.insert(start, prefix, n);
  }

 private:
  std::string& out_;
};

}  // namespace sluice::telemetry
