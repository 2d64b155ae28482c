#pragma once
// Where a JSON text stops being JSON, for error messages that point at the byte ("syntax error at
// byte 14"), as the simulator and the gateway both answer a body they cannot parse.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::core {

// The first syntax error in `text` and its byte offset (0-based, counting from the start):
// "syntax error at byte 14", "unexpected end of input at byte 20". Nothing for text Boost.JSON
// accepts (the caller's parser refused it for another reason, e.g. nesting depth). Uses
// Boost.JSON's incremental parser, which stops at the offending byte: call it only on the error
// path. Never throws beyond std::bad_alloc. Any thread.
std::optional<std::string> locate_json_syntax_error(std::string_view text);

}  // namespace sluice::core
