#pragma once
// A generic protobuf wire-format reader for the tests: a message becomes its fields by number, so a
// test can walk what the encoder wrote without the schema's generated code. (The e2e tests decode
// the same bytes with the official opentelemetry-proto schema.)
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::telemetry::testing {

struct ProtoField {
  int wire_type = 0;
  std::uint64_t number = 0;  // varint, fixed64, fixed32
  std::string bytes;         // length-delimited
};

using ProtoMessage = std::multimap<int, ProtoField>;

inline ProtoMessage parse_proto(std::string_view data) {
  ProtoMessage message;
  std::size_t pos = 0;
  auto varint = [&]() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= data.size()) throw std::runtime_error("truncated varint");
      auto byte = static_cast<std::uint8_t>(data[pos++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
    throw std::runtime_error("varint too long");
  };
  auto fixed = [&](int bytes) {
    if (pos + bytes > data.size()) throw std::runtime_error("truncated fixed field");
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
      value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[pos + i])) << (8 * i);
    pos += bytes;
    return value;
  };
  while (pos < data.size()) {
    auto key = varint();
    ProtoField field;
    field.wire_type = static_cast<int>(key & 7);
    switch (field.wire_type) {
      case 0:
        field.number = varint();
        break;
      case 1:
        field.number = fixed(8);
        break;
      case 5:
        field.number = fixed(4);
        break;
      case 2: {
        auto length = varint();
        if (pos + length > data.size()) throw std::runtime_error("truncated bytes field");
        field.bytes = std::string(data.substr(pos, length));
        pos += length;
        break;
      }
      default:
        throw std::runtime_error("unknown wire type");
    }
    message.emplace(static_cast<int>(key >> 3), std::move(field));
  }
  return message;
}

inline std::vector<ProtoMessage> sub_messages(const ProtoMessage& message, int field) {
  std::vector<ProtoMessage> out;
  auto [begin, end] = message.equal_range(field);
  for (auto it = begin; it != end; ++it) out.push_back(parse_proto(it->second.bytes));
  return out;
}

// The spans of an ExportTraceServiceRequest (resource_spans.scope_spans.spans).
inline std::vector<ProtoMessage> spans_of(std::string_view request) {
  std::vector<ProtoMessage> spans;
  for (const auto& rs : sub_messages(parse_proto(request), 1)) {
    for (const auto& ss : sub_messages(rs, 2)) {
      for (auto& span : sub_messages(ss, 2)) spans.push_back(std::move(span));
    }
  }
  return spans;
}

}  // namespace sluice::telemetry::testing
