// Feeds arbitrary bytes to the SSE parser in arbitrary pieces; checks that relaying the raw bytes
// of the events it emits never produces more than was fed, and that nothing crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sluice/http/sse_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t piece = 1 + data[0] % 17;
  sluice::http::SseParser parser(4096);
  std::vector<sluice::http::SseEvent> events;
  std::size_t raw_total = 0;
  for (std::size_t i = 1; i < input.size(); i += piece) {
    if (!parser.feed(input.substr(i, piece), events)) break;
  }
  for (const auto& event : events) raw_total += event.raw.size();
  if (raw_total > input.size()) std::abort();
  return 0;
}
