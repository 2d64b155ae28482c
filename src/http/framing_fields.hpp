#pragma once
// Keep-alive and payload framing set on a message as Beast sets them, without Beast's cost when
// that would change nothing, which is the usual case on the proxied path.
//
// Every message the gateway sends went through `keep_alive(keep)` and `prepare_payload()` (or
// `has_content_length()` and `chunked()`). Each of those searches Beast's field tree by name and
// parses a token list, and `keep_alive(true)` on HTTP/1.1 erases a Connection field that the
// hop-by-hop filter has already removed: ~1,800 instructions a proxied request for the client
// request, the upstream request and the response together. One pass over the fields (a list of
// ~6-10, compared by field code) tells when none of it would change anything.
#include <array>
#include <charconv>
#include <optional>
#include <string_view>

#include "sluice/http/asio.hpp"

namespace sluice::http {

// What a head's fields say about its framing, read in one pass.
struct FramingFields {
  bool host = false;
  bool connection = false;
  bool transfer_encoding = false;
  int content_lengths = 0;          // how many Content-Length fields
  std::string_view content_length;  // the first one's value
};

inline FramingFields read_framing_fields(const Fields& fields) {
  FramingFields found;
  for (const auto& field : fields) {
    switch (field.name()) {
      case Field::host:
        found.host = true;
        break;
      case Field::connection:
        found.connection = true;
        break;
      case Field::transfer_encoding:
        found.transfer_encoding = true;
        break;
      case Field::content_length:
        if (found.content_lengths++ == 0) found.content_length = field.value();
        break;
      default:
        break;
    }
  }
  return found;
}

// True when the fields hold a Transfer-Encoding, without which a message is not chunked.
inline bool has_transfer_encoding(const Fields& fields) {
  for (const auto& field : fields) {
    if (field.name() == Field::transfer_encoding) return true;
  }
  return false;
}

// message.keep_alive(keep), skipped where Beast would change nothing: HTTP/1.1 keeps the
// connection by default, so keeping it with no Connection field leaves the head as it is.
template <bool isRequest, class Body>
void set_keep_alive(bhttp::message<isRequest, Body, Fields>& message, bool keep,
                    const FramingFields& found) {
  if (message.version() >= 11 && keep && !found.connection) return;
  message.keep_alive(keep);
}

// Room for a Content-Length value's digits.
using LengthDigits = std::array<char, 24>;

// What Beast's prepare_payload() makes of a message's body, by method or status: whether it
// refuses one (TRACE; 1xx, 204, 304) and whether it states the body's length (any request with a
// body, or a POST, PUT or OPTIONS; any response it does not refuse one).
struct BodyRule {
  bool refusable = false;
  bool sets_length = true;
};

template <bool isRequest>
BodyRule body_rule(const bhttp::message<isRequest, bhttp::string_body, Fields>& message) {
  BodyRule rule;
  if constexpr (isRequest) {
    const auto method = message.method();
    rule.refusable = method == bhttp::verb::trace;
    rule.sets_length = !message.body().empty() || method == bhttp::verb::options ||
                       method == bhttp::verb::put || method == bhttp::verb::post;
  } else {
    const auto status = message.result();
    rule.refusable = bhttp::to_status_class(status) == bhttp::status_class::informational ||
                     status == Status::no_content || status == Status::not_modified;
  }
  return rule;
}

inline std::string_view length_text(std::size_t size, LengthDigits& digits) {
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), size).ptr;
  return {digits.data(), static_cast<std::size_t>(end - digits.data())};
}

// The Content-Length that Beast's prepare_payload() would add to a message that has none, and the
// only change it would make: no Transfer-Encoding, no Content-Length, and a body whose length it
// states. Beast would search for a length to replace and for a Transfer-Encoding to drop
// "chunked" from, and find neither. The text is written into `digits`.
template <bool isRequest>
std::optional<std::string_view> missing_content_length(
    const bhttp::message<isRequest, bhttp::string_body, Fields>& message,
    const FramingFields& found, LengthDigits& digits) {
  if (found.transfer_encoding || found.content_lengths != 0) return std::nullopt;
  const BodyRule rule = body_rule(message);
  if (rule.refusable || !rule.sets_length) return std::nullopt;
  return length_text(message.body().size(), digits);
}

// message.prepare_payload() for a string body, skipped where Beast would change nothing: no
// Transfer-Encoding, and the one Content-Length already gives the body's size (or, for a request
// without a body, which Beast leaves without a Content-Length, none). A missing length goes in at
// the end, where Beast's set() would put it. The cases where Beast refuses the body (TRACE with
// one; 1xx, 204 and 304 with one) still go to Beast.
template <bool isRequest>
void prepare_payload(bhttp::message<isRequest, bhttp::string_body, Fields>& message,
                     const FramingFields& found) {
  if (!found.transfer_encoding) {
    const BodyRule rule = body_rule(message);
    if (!rule.refusable) {
      // Without a body to state, Beast drops any Content-Length and "chunked" (chunked(false)).
      if (!rule.sets_length && found.content_lengths == 0) return;
      if (rule.sets_length) {
        LengthDigits digits;
        const auto length = length_text(message.body().size(), digits);
        if (found.content_lengths == 0) {
          message.insert(Field::content_length, length);
          return;
        }
        if (found.content_lengths == 1 && found.content_length == length) return;
      }
    }
  }
  message.prepare_payload();
}

}  // namespace sluice::http
