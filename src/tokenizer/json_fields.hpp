#pragma once
// Reading optional fields of a simdjson DOM object without exceptions.
#include <string_view>

#include <simdjson.h>

namespace sluice::tokenizer {

// The string value of obj[key], or "" when it is absent or not a string.
inline std::string_view string_field(simdjson::dom::object obj, std::string_view key) {
  std::string_view value;
  if (obj[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

// Same for an element that may not be an object.
inline std::string_view string_field(simdjson::dom::element value, std::string_view key) {
  simdjson::dom::object obj;
  if (value.get(obj) != simdjson::SUCCESS) return {};
  return string_field(obj, key);
}

}  // namespace sluice::tokenizer
