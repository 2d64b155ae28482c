#pragma once
// Where a finished span's parts go, one call per part: the gateway describes a request's spans
// once (policies/tracing/request_spans.hpp) and the writer decides what they become. SpanEncoder
// (span_encoder.hpp) writes OTLP protobuf bytes straight away, which is what the request path
// uses: no span object, no attribute vector, no copy of any value. SpanCollector (span.hpp)
// builds Span objects, for tests and for callers that want to look at spans.
//
// Calls come in this order: begin_span, then attributes, events (begin_event, attributes,
// end_event) and status in any order, then end_span; then the next span.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {

// Span.SpanKind numbers of the OTLP schema.
enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3 };
// Status.StatusCode numbers of the OTLP schema.
enum class StatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

// What a span is known by before its attributes.
struct SpanStart {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};        // all zero for a root span
  bool parent_is_remote = false;  // the parent came from another process (a traceparent)
  std::string_view name;
  SpanKind kind = SpanKind::kInternal;
  std::uint64_t start_unix_ns = 0;
  std::uint64_t end_unix_ns = 0;
};

class SpanWriter {
 public:
  virtual ~SpanWriter() = default;

  virtual void begin_span(const SpanStart& start) = 0;
  virtual void end_span() = 0;
  // Attributes after begin_event and before end_event belong to the event.
  virtual void begin_event(std::string_view name, std::uint64_t time_unix_ns) = 0;
  virtual void end_event() = 0;
  // At most once per span; kUnset needs no call.
  virtual void status(StatusCode code, std::string_view message) = 0;

  // An attribute of the span (or of the open event). Each key once per span. Overloads for the
  // value types of OTLP's AnyValue; a string literal is a string, never a bool.
  // Always inlined: through a SpanEncoder (final) the put_* below then become its inline code,
  // which is most of what tracing costs a request (span_encoder.hpp).
#define SLUICE_ALWAYS_INLINE [[gnu::always_inline]] inline
  SLUICE_ALWAYS_INLINE void attribute(std::string_view key, std::string_view value) {
    put_string(key, value);
  }
  SLUICE_ALWAYS_INLINE void attribute(std::string_view key, const char* value) {
    put_string(key, value);
  }
  SLUICE_ALWAYS_INLINE void attribute(std::string_view key, const std::string& value) {
    put_string(key, value);
  }
  SLUICE_ALWAYS_INLINE void attribute(std::string_view key, bool value) {
    put_bool(key, value);
  }
  SLUICE_ALWAYS_INLINE void attribute(std::string_view key, double value) {
    put_double(key, value);
  }
  template <std::integral I>
  requires(!std::same_as<I, bool>) SLUICE_ALWAYS_INLINE
      void attribute(std::string_view key, I value) {
    put_int(key, static_cast<std::int64_t>(value));
  }
#undef SLUICE_ALWAYS_INLINE

 protected:
  virtual void put_string(std::string_view key, std::string_view value) = 0;
  virtual void put_bool(std::string_view key, bool value) = 0;
  virtual void put_int(std::string_view key, std::int64_t value) = 0;
  virtual void put_double(std::string_view key, double value) = 0;
};

}  // namespace sluice::telemetry
