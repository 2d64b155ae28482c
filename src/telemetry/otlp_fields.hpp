#pragma once
// Field numbers of opentelemetry-proto v1 (common, resource, trace, collector/trace) that sluice
// writes, and the span flag bits it sets.
#include <cstdint>

namespace sluice::telemetry::field {

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

// SpanFlags: bits 8 and 9 say whether the parent is remote; sluice knows, so it says so.
constexpr std::uint32_t kSampled = 0x1;  // the W3C trace flags in the low byte
constexpr std::uint32_t kHasIsRemote = 0x100;
constexpr std::uint32_t kIsRemote = 0x200;

}  // namespace sluice::telemetry::field
