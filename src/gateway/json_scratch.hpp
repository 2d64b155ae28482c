#pragma once
// A per-worker simdjson parser with a reusable padded buffer: request bodies and stream chunks are
// inspected many times a second, and simdjson is fastest when its parser and buffers are reused.
#include <cstdint>
#include <optional>
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
    auto result =
        parser_.parse(reinterpret_cast<const std::uint8_t*>(buffer_.data()), text.size(), false);
    ++generation_;
    root_ =
        result.error() == simdjson::SUCCESS ? std::optional(result.value_unsafe()) : std::nullopt;
    return result;
  }

  // Numbers the parses, so that a request can tell later whether the document its body gave is
  // still the one held here: another request's body or a stream chunk parsed on the same worker
  // (while the request waited) replaces it.
  std::uint64_t generation() const { return generation_; }

  // The document of parse number `generation`, unless a later parse has replaced it (or it
  // failed). Policies that read more of a request body than the gateway does (the token limit's
  // prompt count) take it from here instead of parsing the body a second time.
  std::optional<simdjson::dom::element> document(std::uint64_t generation) const {
    if (generation != generation_) return std::nullopt;
    return root_;
  }

 private:
  simdjson::dom::parser parser_;
  std::string buffer_;
  std::uint64_t generation_ = 0;
  std::optional<simdjson::dom::element> root_;
};

}  // namespace sluice::gateway
