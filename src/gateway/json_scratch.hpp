#pragma once
// A per-worker simdjson parser with a reusable padded buffer: request bodies and stream chunks are
// inspected many times a second, and simdjson is fastest when its parser and buffers are reused.
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace sluice::gateway {

class JsonScratch {
 public:
  // Parses and fully validates `text` into a document valid until the next call. Not
  // thread-safe: one per worker. (The DOM parser validates everything, which the gateway wants:
  // malformed JSON must be refused before it reaches a backend.)
  simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view text) {
    buffer_.assign(text.data(), text.size());
    buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
    return parser_.parse(reinterpret_cast<const std::uint8_t*>(buffer_.data()), text.size(), false);
  }

 private:
  simdjson::dom::parser parser_;
  std::string buffer_;
};

}  // namespace sluice::gateway
