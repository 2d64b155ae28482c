#include "sluice/http/sse_parser.hpp"

#include "sluice/core/find_any_byte.hpp"

namespace sluice::http {

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (!error_.empty()) return false;
  buffer_.append(bytes);
  std::size_t pos = scan_;
  while (pos < buffer_.size()) {
    char c = buffer_[pos];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {
        // "\r\n" split across reads: the '\n' completes the previous line ending.
        if (line_start_ == pos) line_start_ = pos + 1;
        if (event_start_ == pos) event_start_ = pos + 1;
        ++pos;
        continue;
      }
    }
    if (c != '\r' && c != '\n') {
      auto next = core::find_any_byte(buffer_, "\r\n", pos);
      pos = next == std::string::npos ? buffer_.size() : next;
      continue;
    }
    std::string_view line(buffer_.data() + line_start_, pos - line_start_);
    after_cr_ = c == '\r';
    ++pos;
    if (c == '\r' && pos < buffer_.size() && buffer_[pos] == '\n') {
      after_cr_ = false;
      ++pos;
    }
    if (line.empty()) {
      if (current_has_field_) {
        current_.raw.assign(buffer_, event_start_, pos - event_start_);
        out.push_back(std::move(current_));
        current_ = SseEvent{};
        current_has_field_ = false;
      }
      event_start_ = pos;  // stray blank lines carry no event and are not relayed
    } else {
      parse_line(line);
      current_has_field_ = true;
    }
    line_start_ = pos;
  }
  scan_ = pos;
  if (buffer_.size() - event_start_ > max_event_bytes_) {
    error_ = "server-sent event larger than " + std::to_string(max_event_bytes_) + " bytes";
    return false;
  }
  // Keep only the event in progress so the buffer never grows with the stream.
  if (event_start_ > 0) {
    buffer_.erase(0, event_start_);
    scan_ -= event_start_;
    line_start_ -= event_start_;
    event_start_ = 0;
  }
  return true;
}

void SseParser::parse_line(std::string_view line) {
  if (line.front() == ':') return;  // comment; kept in raw only
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (current_.data_lines > 0) current_.data.push_back('\n');
    current_.data.append(value);
    ++current_.data_lines;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) current_.id.assign(value);
  } else if (field == "retry") {
    long ms = 0;
    bool digits = !value.empty();
    for (char ch : value) {
      if (ch < '0' || ch > '9' || ms > 1'000'000'000) {
        digits = false;
        break;
      }
      ms = ms * 10 + (ch - '0');
    }
    if (digits) current_.retry_ms = ms;
  }
}

}  // namespace sluice::http
