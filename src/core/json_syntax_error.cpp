#include "sluice/core/json_syntax_error.hpp"

#include <boost/json/stream_parser.hpp>

namespace sluice::core {

std::optional<std::string> locate_json_syntax_error(std::string_view text) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  std::size_t used = parser.write_some(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
    if (ec) return "unexpected end of input at byte " + std::to_string(text.size());
    return std::nullopt;
  }
  return ec.message() + " at byte " + std::to_string(used);
}

}  // namespace sluice::core
