#pragma once
// One finished span as plain data (opentelemetry/proto/trace/v1/trace.proto), for code that wants
// to look at spans: tests, and callers outside the request path. The request path does not build
// these; it writes its spans straight into protobuf (span_writer.hpp, span_encoder.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/telemetry/span_writer.hpp"
#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {

// Values as OTLP's AnyValue: string, bool, int64 or double.
using AttributeValue = std::variant<std::string, bool, std::int64_t, double>;

// The key is a view: span attribute keys are the semantic conventions' names, string literals that
// outlive every span.
struct Attribute {
  std::string_view key;
  AttributeValue value;
};

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

// Writes `span` to `writer`, part by part.
void write_span(SpanWriter& writer, const Span& span);

// A SpanWriter that builds Span objects. Attribute keys are kept as views: they must outlive the
// spans (string literals do).
class SpanCollector final : public SpanWriter {
 public:
  void begin_span(const SpanStart& start) override;
  void end_span() override {}
  void begin_event(std::string_view name, std::uint64_t time_unix_ns) override;
  void end_event() override { in_event_ = false; }
  void status(StatusCode code, std::string_view message) override;

  std::vector<Span>& spans() noexcept { return spans_; }

 protected:
  void put_string(std::string_view key, std::string_view value) override;
  void put_bool(std::string_view key, bool value) override { add(key, value); }
  void put_int(std::string_view key, std::int64_t value) override { add(key, value); }
  void put_double(std::string_view key, double value) override { add(key, value); }

 private:
  void add(std::string_view key, AttributeValue value);

  std::vector<Span> spans_;
  bool in_event_ = false;
};

}  // namespace sluice::telemetry
