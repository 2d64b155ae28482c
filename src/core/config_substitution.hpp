#pragma once
// ${env:...} / ${file:...} substitution in config scalars (grammar in sluice/core/config.hpp).
// Private to sluice_core.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/result.hpp"

namespace sluice::core::detail {

struct SubstitutionSources {
  std::function<std::optional<std::string>(const std::string&)> env;
  std::function<Result<std::string>(const std::filesystem::path&)> read_file;
  std::filesystem::path base_dir;
};

// `text` with every substitution resolved and "$${" turned into "${". Errors (unset variable,
// unreadable file, malformed expression) are kInvalidArgument with a message that names the
// expression; the caller adds file, line and key.
Result<std::string> substitute(std::string_view text, const SubstitutionSources& sources);

}  // namespace sluice::core::detail
