#pragma once
// A SpanWriter that writes OTLP protobuf as the parts come: each span becomes a `Span` message
// (field `spans` of ScopeSpans, tag and length included), ready to be placed as it is into an
// export request (otlp_encoding.hpp). This is how a request's spans leave the request thread:
// already encoded, in one string, so the exporter's thread only concatenates.
#include <cstddef>
#include <string>

#include "sluice/telemetry/span_writer.hpp"

namespace sluice::telemetry {

// Encoded spans and how many there are.
struct EncodedSpans {
  std::string bytes;
  std::size_t count = 0;
};

class SpanEncoder final : public SpanWriter {
 public:
  // `reserve`: bytes to set aside up front (a gateway request's two spans take about 1 KiB).
  explicit SpanEncoder(std::size_t reserve = 1536);

  void begin_span(const SpanStart& start) override;
  void end_span() override;
  void begin_event(std::string_view name, std::uint64_t time_unix_ns) override;
  void end_event() override;
  void status(StatusCode code, std::string_view message) override;

  // The spans written so far; the encoder is empty afterwards.
  EncodedSpans take();

 protected:
  void put_string(std::string_view key, std::string_view value) override;
  void put_bool(std::string_view key, bool value) override;
  void put_int(std::string_view key, std::int64_t value) override;
  void put_double(std::string_view key, double value) override;

 private:
  // The field number attributes go to: the span's, or the open event's.
  int attribute_field() const noexcept;
  // `n` more bytes at the end, to write through the pointer. The string is kept longer than what
  // is written (`used_` is the real end), so most writes are a pointer bump, not a string append.
  char* extend(std::size_t n);
  // A length-delimited message opened with a one-byte length; closes it (nested messages of a span
  // are short, so the byte usually suffices; otherwise the message moves to make room).
  std::size_t open_message(int field_number);
  void close_message(std::size_t start);
  void put_field_bytes(int field_number, std::string_view value);
  // One attribute: KeyValue{key, AnyValue{`any_head` `any_tail`}}.
  void put_key_value(std::string_view key, std::string_view any_head, std::string_view any_tail);

  EncodedSpans out_;
  std::size_t used_ = 0;
  std::size_t span_start_ = 0;   // where the open span's fields begin
  std::size_t event_start_ = 0;  // the open event's; 0 when none is open
};

}  // namespace sluice::telemetry
