#pragma once
// Trace and span ids (W3C Trace Context, OpenTelemetry): 16 and 8 random bytes, all-zero invalid.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::telemetry {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

// Fresh random ids, never all zero. A per-thread generator seeded from std::random_device: no lock,
// no shared state. Any thread.
TraceId random_trace_id();
SpanId random_span_id();

bool is_valid(const TraceId& id) noexcept;
bool is_valid(const SpanId& id) noexcept;

// Lower-case hex, as traceparent and most trace UIs write them.
std::string to_hex(const TraceId& id);
std::string to_hex(const SpanId& id);
// An 8-byte id from 16 lower-case hex digits; nullopt for anything else or all zero.
std::optional<SpanId> span_id_from_hex(std::string_view hex) noexcept;

// Writes the lower-case hex of `bytes` (2 * size characters) at `out`; returns the end. No
// allocation: the gateway writes a traceparent per backend attempt with it.
char* write_hex(char* out, const std::uint8_t* bytes, std::size_t size) noexcept;
// Appends the lower-case hex of `bytes` to `out`.
void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t size);

}  // namespace sluice::telemetry
