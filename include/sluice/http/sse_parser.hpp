#pragma once
// Incremental Server-Sent Events parser (WHATWG event-stream rules): bytes go in as they arrive
// from the network, complete events come out with their exact raw bytes, so a relay can forward
// an event unchanged or drop it (the gateway removes the usage-only chunk it asked for).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

struct SseEvent {
  std::string event;  // "" means the default "message"
  std::string data;   // data lines joined with '\n'
  std::string id;
  long retry_ms = -1;
  int data_lines = 0;  // number of data fields seen (an empty data line still counts)
  std::string raw;     // the exact bytes of the event, including its terminating blank line
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 4 * 1024 * 1024);

  // Feeds bytes; appends each completed event to `out`. Returns false (and stops parsing) when
  // a single event grows beyond max_event_bytes; error() then says why.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);
  // Bytes held for an incomplete event (a stream that ends with pending() > 0 was truncated).
  std::size_t pending() const { return buffer_.size() - event_start_; }
  const std::string& error() const { return error_; }

 private:
  void parse_line(std::string_view line);

  std::string buffer_;           // bytes of the event being built (and any partial line)
  std::size_t scan_ = 0;         // next byte of buffer_ to examine
  std::size_t line_start_ = 0;   // start of the current line in buffer_
  std::size_t event_start_ = 0;  // start of the current event's raw bytes in buffer_
  bool after_cr_ = false;        // last line ended with '\r': a following '\n' belongs to it
  SseEvent current_;
  bool current_has_field_ = false;
  std::size_t max_event_bytes_;
  std::string error_;
};

}  // namespace sluice::http
