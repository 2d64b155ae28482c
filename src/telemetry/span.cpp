#include "sluice/telemetry/span.hpp"

namespace sluice::telemetry {

namespace {

void write_attribute(SpanWriter& writer, const Attribute& attribute) {
  std::visit([&](const auto& value) { writer.attribute(attribute.key, value); }, attribute.value);
}

}  // namespace

void write_span(SpanWriter& writer, const Span& span) {
  writer.begin_span(SpanStart{span.trace_id, span.span_id, span.parent_span_id,
                              span.parent_is_remote, span.name, span.kind, span.start_unix_ns,
                              span.end_unix_ns});
  for (const auto& attribute : span.attributes) write_attribute(writer, attribute);
  for (const auto& event : span.events) {
    writer.begin_event(event.name, event.time_unix_ns);
    for (const auto& attribute : event.attributes) write_attribute(writer, attribute);
    writer.end_event();
  }
  if (span.status != StatusCode::kUnset) writer.status(span.status, span.status_message);
  writer.end_span();
}

void SpanCollector::begin_span(const SpanStart& start) {
  auto& span = spans_.emplace_back();
  span.trace_id = start.trace_id;
  span.span_id = start.span_id;
  span.parent_span_id = start.parent_span_id;
  span.parent_is_remote = start.parent_is_remote;
  span.name = std::string(start.name);
  span.kind = start.kind;
  span.start_unix_ns = start.start_unix_ns;
  span.end_unix_ns = start.end_unix_ns;
  in_event_ = false;
}

void SpanCollector::begin_event(std::string_view name, std::uint64_t time_unix_ns) {
  spans_.back().events.push_back(SpanEvent{std::string(name), time_unix_ns, {}});
  in_event_ = true;
}

void SpanCollector::status(StatusCode code, std::string_view message) {
  spans_.back().status = code;
  spans_.back().status_message = std::string(message);
}

void SpanCollector::put_string(std::string_view key, std::string_view value) {
  add(key, std::string(value));
}

void SpanCollector::add(std::string_view key, AttributeValue value) {
  auto& attributes = in_event_ ? spans_.back().events.back().attributes : spans_.back().attributes;
  attributes.push_back(Attribute{key, std::move(value)});
}

}  // namespace sluice::telemetry
