#include "sluice/telemetry/trace_ids.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace sluice::telemetry {

namespace {

// Ids need to be unique, not secret: a seeded 64-bit generator per thread is enough and costs
// nothing on the request path.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 random([] {
    std::random_device seed;
    return (static_cast<std::uint64_t>(seed()) << 32) ^ seed();
  }());
  return random;
}

template <std::size_t N>
std::array<std::uint8_t, N> random_bytes() {
  std::array<std::uint8_t, N> id{};
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t bits = generator()();
      std::memcpy(id.data() + i, &bits, std::min<std::size_t>(8, N - i));
    }
  } while (std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; }));
  return id;
}

template <std::size_t N>
bool any_set(const std::array<std::uint8_t, N>& id) noexcept {
  return std::any_of(id.begin(), id.end(), [](std::uint8_t b) { return b != 0; });
}

}  // namespace

TraceId random_trace_id() {
  return random_bytes<16>();
}

SpanId random_span_id() {
  return random_bytes<8>();
}

bool is_valid(const TraceId& id) noexcept {
  return any_set(id);
}

bool is_valid(const SpanId& id) noexcept {
  return any_set(id);
}

void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
}

std::string to_hex(const TraceId& id) {
  std::string out;
  out.reserve(32);
  append_hex(out, id.data(), id.size());
  return out;
}

std::string to_hex(const SpanId& id) {
  std::string out;
  out.reserve(16);
  append_hex(out, id.data(), id.size());
  return out;
}

}  // namespace sluice::telemetry
