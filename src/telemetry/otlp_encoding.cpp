#include "sluice/telemetry/otlp_encoding.hpp"

#include "telemetry/protobuf_writer.hpp"

namespace sluice::telemetry {

namespace {

// Field numbers of opentelemetry-proto v1 (common, resource, trace, collector/trace).
namespace field {
constexpr int kResourceSpans = 1;  // ExportTraceServiceRequest
constexpr int kResource = 1;       // ResourceSpans
constexpr int kScopeSpans = 2;
constexpr int kResourceAttributes = 1;  // Resource
constexpr int kScope = 1;               // ScopeSpans
constexpr int kSpans = 2;
constexpr int kScopeName = 1;  // InstrumentationScope
constexpr int kScopeVersion = 2;
constexpr int kTraceId = 1;  // Span
constexpr int kSpanId = 2;
constexpr int kParentSpanId = 4;
constexpr int kName = 5;
constexpr int kKind = 6;
constexpr int kStart = 7;
constexpr int kEnd = 8;
constexpr int kAttributes = 9;
constexpr int kEvents = 11;
constexpr int kStatus = 15;
constexpr int kFlags = 16;
constexpr int kEventTime = 1;  // Span.Event
constexpr int kEventName = 2;
constexpr int kEventAttributes = 3;
constexpr int kStatusMessage = 2;  // Status
constexpr int kStatusCode = 3;
constexpr int kKey = 1;  // KeyValue
constexpr int kValue = 2;
constexpr int kStringValue = 1;  // AnyValue
constexpr int kBoolValue = 2;
constexpr int kIntValue = 3;
constexpr int kDoubleValue = 4;
}  // namespace field

// SpanFlags: bits 8 and 9 say whether the parent is remote; sluice knows, so it says so.
constexpr std::uint32_t kSampled = 0x1;  // the W3C trace flags in the low byte
constexpr std::uint32_t kHasIsRemote = 0x100;
constexpr std::uint32_t kIsRemote = 0x200;

void write_attribute(ProtobufWriter& w, int field_number, const Attribute& attribute) {
  auto kv = w.begin(field_number);
  w.bytes_field(field::kKey, attribute.key);
  auto value = w.begin(field::kValue);
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          w.bytes_field(field::kStringValue, v);
        } else if constexpr (std::is_same_v<V, bool>) {
          w.int_field(field::kBoolValue, v ? 1 : 0);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          w.int_field(field::kIntValue, v);
        } else {
          w.double_field(field::kDoubleValue, v);
        }
      },
      attribute.value);
  w.end(value);
  w.end(kv);
}

void write_span(ProtobufWriter& w, const Span& span) {
  auto s = w.begin(field::kSpans);
  w.bytes_field(field::kTraceId, span.trace_id.data(), span.trace_id.size());
  w.bytes_field(field::kSpanId, span.span_id.data(), span.span_id.size());
  if (is_valid(span.parent_span_id)) {
    w.bytes_field(field::kParentSpanId, span.parent_span_id.data(), span.parent_span_id.size());
  }
  w.bytes_field(field::kName, span.name);
  w.int_field(field::kKind, static_cast<int>(span.kind));
  w.fixed64_field(field::kStart, span.start_unix_ns);
  w.fixed64_field(field::kEnd, span.end_unix_ns);
  for (const auto& attribute : span.attributes) write_attribute(w, field::kAttributes, attribute);
  for (const auto& event : span.events) {
    auto e = w.begin(field::kEvents);
    w.fixed64_field(field::kEventTime, event.time_unix_ns);
    w.bytes_field(field::kEventName, event.name);
    for (const auto& attribute : event.attributes) {
      write_attribute(w, field::kEventAttributes, attribute);
    }
    w.end(e);
  }
  if (span.status != StatusCode::kUnset) {
    auto st = w.begin(field::kStatus);
    if (!span.status_message.empty()) w.bytes_field(field::kStatusMessage, span.status_message);
    w.int_field(field::kStatusCode, static_cast<int>(span.status));
    w.end(st);
  }
  std::uint32_t flags = kSampled | kHasIsRemote | (span.parent_is_remote ? kIsRemote : 0);
  w.fixed32_field(field::kFlags, flags);
  w.end(s);
}

}  // namespace

std::string encode_export_request(const ResourceInfo& resource, std::span<const Span> spans) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  ProtobufWriter w(out);
  auto rs = w.begin(field::kResourceSpans);
  auto r = w.begin(field::kResource);
  for (const auto& [key, value] : resource.attributes) {
    auto kv = w.begin(field::kResourceAttributes);
    w.bytes_field(field::kKey, key);
    auto any = w.begin(field::kValue);
    w.bytes_field(field::kStringValue, value);
    w.end(any);
    w.end(kv);
  }
  w.end(r);
  auto ss = w.begin(field::kScopeSpans);
  auto scope = w.begin(field::kScope);
  w.bytes_field(field::kScopeName, resource.scope_name);
  if (!resource.scope_version.empty()) w.bytes_field(field::kScopeVersion, resource.scope_version);
  w.end(scope);
  for (const auto& span : spans) write_span(w, span);
  w.end(ss);
  w.end(rs);
  return out;
}

}  // namespace sluice::telemetry
