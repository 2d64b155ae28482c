#include "sluice/telemetry/trace_context.hpp"

#include <cstring>

namespace sluice::telemetry {

namespace {

// Lower-case hex only: the spec forbids upper case, and a sender that uses it is broken.
int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool read_hex(std::string_view text, std::uint8_t* out, std::size_t bytes) noexcept {
  if (text.size() != bytes * 2) return false;
  for (std::size_t i = 0; i < bytes; ++i) {
    int high = hex_digit(text[2 * i]);
    int low = hex_digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return true;
}

}  // namespace

std::optional<SpanId> span_id_from_hex(std::string_view hex) noexcept {
  SpanId id{};
  if (!read_hex(hex, id.data(), id.size()) || !is_valid(id)) return std::nullopt;
  return id;
}

std::optional<TraceContext> parse_traceparent(std::string_view value) noexcept {
  // Optional whitespace around a header value is not part of it.
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  constexpr std::size_t kLength = 55;
  if (value.size() < kLength) return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  std::uint8_t version = 0;
  if (!read_hex(value.substr(0, 2), &version, 1) || version == 0xff) return std::nullopt;
  // Version 00 has exactly four fields; a later version may add fields after a '-'.
  if (value.size() > kLength && (version == 0 || value[kLength] != '-')) return std::nullopt;
  TraceContext context;
  std::uint8_t flags = 0;
  if (!read_hex(value.substr(3, 32), context.trace_id.data(), 16) ||
      !read_hex(value.substr(36, 16), context.span_id.data(), 8) ||
      !read_hex(value.substr(53, 2), &flags, 1)) {
    return std::nullopt;
  }
  if (!is_valid(context.trace_id) || !is_valid(context.span_id)) return std::nullopt;
  context.sampled = (flags & 1) != 0;
  return context;
}

TraceparentText format_traceparent(const TraceContext& context) noexcept {
  TraceparentText out;
  char* p = out.bytes;
  std::memcpy(p, "00-", 3);
  p = write_hex(p + 3, context.trace_id.data(), context.trace_id.size());
  *p++ = '-';
  p = write_hex(p, context.span_id.data(), context.span_id.size());
  std::memcpy(p, context.sampled ? "-01" : "-00", 3);
  return out;
}

}  // namespace sluice::telemetry
