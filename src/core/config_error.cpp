#include "sluice/core/config_error.hpp"

namespace sluice::core {
namespace {

std::string format(const SourceLocation& where, const std::string& path,
                   const std::string& message) {
  std::string text = where.to_string();
  text += ": ";
  if (!path.empty()) {
    text += path;
    text += ": ";
  }
  text += message;
  return text;
}

}  // namespace

std::string SourceLocation::to_string() const {
  std::string text = file;
  if (line > 0) {
    text += ':';
    text += std::to_string(line);
    if (column > 0) {
      text += ':';
      text += std::to_string(column);
    }
  }
  return text;
}

ConfigError::ConfigError(SourceLocation where, std::string path, std::string message)
    : std::runtime_error(format(where, path, message)),
      where_(std::move(where)),
      path_(std::move(path)),
      message_(std::move(message)) {}

}  // namespace sluice::core
