#pragma once
// Test helper: a request given to Beast's parser in two pieces, the first `split` bytes and then
// the rest, as a read that ends mid-head delivers it. The scan tests use it to check that a byte
// is taken or refused the same wherever the buffer ends.
#include <string_view>

#include "sluice/http/asio.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace sluice::http {

// The parser's error, or none once the head is parsed.
inline beast::error_code parse_in_two(RequestParser<bhttp::empty_body>& parser,
                                      std::string_view request, std::size_t split) {
  parser.eager(true);
  beast::error_code ec;
  const std::size_t used = parser.put(asio::buffer(request.data(), split), ec);
  if (ec == bhttp::error::need_more) ec = {};
  if (!ec && !parser.is_done()) {
    parser.put(asio::buffer(request.data() + used, request.size() - used), ec);
  }
  return ec;
}

}  // namespace sluice::http
