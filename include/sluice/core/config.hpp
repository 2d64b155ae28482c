#pragma once
// Loading a config document from a YAML file or string.
//
// Scalar values may use substitutions, resolved once at load time:
//   ${env:NAME}            the environment variable; an error if it is not set
//   ${env:NAME:-default}   the default when NAME is unset or empty (the default may itself use
//                          substitutions)
//   ${file:PATH}           the file's contents with trailing newlines removed; a relative PATH is
//                          relative to the config file's directory
//   $${                    a literal "${"
// Substituted text is not scanned again. Keys are never substituted.
//
// YAML merge keys (`<<: *anchor`, or a list of aliases) are supported; keys written in the mapping
// itself win. Duplicate keys and self-referencing aliases are errors.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/config_error.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/core/result.hpp"

namespace sluice::core {

// Largest config file, and largest file ${file:...} may insert. Both are startup inputs written by
// people; the limit stops /dev/zero or a wrong path to a dump from hanging startup.
inline constexpr std::size_t kMaxConfigFileSize = 16u << 20;

struct LoadOptions {
  // Resolves ${env:NAME}; nullopt means unset. Default (empty function): the process environment.
  std::function<std::optional<std::string>(const std::string& name)> env;
  // Reads ${file:PATH}, PATH already resolved against the base directory. Default (empty
  // function): reads a regular file of at most kMaxConfigFileSize bytes.
  std::function<Result<std::string>(const std::filesystem::path& path)> read_file;
};

// Loads and parses `path`. Errors (unreadable file, YAML syntax, substitution) are ConfigErrors
// naming the file as given, line and column. The returned root must still be read and finish()ed.
// Call from one thread at startup or reload; getenv is not safe against concurrent setenv.
ConfigNode load_config_file(const std::filesystem::path& path, const LoadOptions& options = {});

// Parses in-memory YAML under the pseudo file `name` (used in errors only), for tests and embedded
// defaults. Relative ${file:...} paths resolve against `base_dir`, or the working directory when it
// is empty.
ConfigNode load_config_string(std::string_view text, std::string_view name,
                              const std::filesystem::path& base_dir = {},
                              const LoadOptions& options = {});

}  // namespace sluice::core
