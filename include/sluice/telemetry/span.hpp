#pragma once
// One finished span, as OTLP carries it (opentelemetry/proto/trace/v1/trace.proto): plain data,
// built on the request's thread once the work it describes is over, then handed to the exporter.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {

// Values as OTLP's AnyValue: string, bool, int64 or double.
using AttributeValue = std::variant<std::string, bool, std::int64_t, double>;

// The key is a view: span attribute keys are the semantic conventions' names, string literals that
// outlive every span (a request builds ~40 attributes; owning their keys cost an allocation each).
struct Attribute {
  std::string_view key;
  AttributeValue value;
};

// Span.SpanKind numbers of the OTLP schema.
enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3 };
// Status.StatusCode numbers of the OTLP schema.
enum class StatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  std::string name;
  std::uint64_t time_unix_ns = 0;
  std::vector<Attribute> attributes;
};

struct Span {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};        // all zero for a root span
  bool parent_is_remote = false;  // the parent came from another process (a traceparent)
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::uint64_t start_unix_ns = 0;
  std::uint64_t end_unix_ns = 0;
  std::vector<Attribute> attributes;
  std::vector<SpanEvent> events;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;  // only with kError

  // Adds an attribute (no check for duplicates: callers set each key once). `key` must outlive
  // the span (a string literal).
  template <class V>
  void set(std::string_view key, V&& value) {
    attributes.push_back(Attribute{key, AttributeValue(std::forward<V>(value))});
  }
  void set(std::string_view key, const char* value) {
    attributes.push_back(Attribute{key, AttributeValue(std::string(value))});
  }
  void set(std::string_view key, int value) {
    attributes.push_back(Attribute{key, AttributeValue(std::int64_t{value})});
  }
  void set(std::string_view key, unsigned value) {
    attributes.push_back(Attribute{key, AttributeValue(std::int64_t{value})});
  }
};

// Rough in-memory size of a span, for queue accounting.
std::size_t approximate_size(const Span& span) noexcept;

}  // namespace sluice::telemetry
