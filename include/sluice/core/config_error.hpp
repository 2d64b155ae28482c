#pragma once
// The one exception type of configuration loading. Thrown at startup (and on reload) only; the
// request path never sees it.
#include <stdexcept>
#include <string>

namespace sluice::core {

// Where in a config source something is. line and column are 1-based; 0 means unknown (e.g. the
// file could not be opened at all).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:col", "file:line" or "file", whichever is known.
  std::string to_string() const;
};

// what() is "file:line:col: key.path: message", e.g.
//   examples/sim.yaml:12:5: deployments.gpt-4o.tokens_per_minute: expected an integer, got "lots"
// The parts are also available separately so tests and tools need not parse what().
class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, std::string path, std::string message);

  const SourceLocation& where() const noexcept { return where_; }
  // Dotted key path from the document root ("backends[2].url"); empty at the root.
  const std::string& path() const noexcept { return path_; }
  // The message alone, without location and path.
  const std::string& message() const noexcept { return message_; }

 private:
  SourceLocation where_;
  std::string path_;
  std::string message_;
};

}  // namespace sluice::core
