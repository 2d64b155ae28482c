#pragma once
// The value of the first field of a name in a head, found by walking its fields. A head has five
// to ten; a field Beast knows is matched by the code its parser computed, any other by length
// first. Beast's own find() and operator[] look the name up as text, case-insensitively, in an
// ordered set: 110 to 560 instructions a look-up in callgrind, several times a request.
#include <optional>
#include <string_view>

#include <boost/assert.hpp>

#include "sluice/http/asio.hpp"

namespace sluice::http {

inline std::optional<std::string_view> first_field(const Fields& fields, Field name) {
  for (const auto& field : fields) {
    if (field.name() == name) return std::string_view(field.value());
  }
  return std::nullopt;
}

// For a name Beast has no code for (`retry-after-ms`, Azure's utilization header): every field
// of such a name has the code `unknown`, so the others are passed over without a compare.
inline std::optional<std::string_view> first_field(const Fields& fields, std::string_view name) {
  BOOST_ASSERT(bhttp::string_to_field(name) == Field::unknown);
  for (const auto& field : fields) {
    if (field.name() != Field::unknown) continue;
    const auto field_name = field.name_string();
    if (field_name.size() == name.size() && beast::iequals(field_name, name)) {
      return std::string_view(field.value());
    }
  }
  return std::nullopt;
}

// For a name known only at run time (a header named in configuration), which Beast may or may not
// have a code for: its code is looked up once here (~100 instructions), then the fields are
// walked as above.
inline std::optional<std::string_view> first_field_named(const Fields& fields,
                                                         std::string_view name) {
  const Field code = bhttp::string_to_field(name);
  return code == Field::unknown ? first_field(fields, name) : first_field(fields, code);
}

}  // namespace sluice::http
