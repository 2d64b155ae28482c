#include "config_tree.hpp"

#include "sluice/core/json_string.hpp"

namespace sluice::core::detail {
namespace {

constexpr std::size_t kMaxQuotedLength = 60;

bool needs_quotes(std::string_view key) {
  if (key.empty()) return true;
  for (char c : key) {
    if (c == '.' || c == '[' || c == ']' || c == '"' || c == ' ' ||
        static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string join_key_path(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (!path.empty()) path += '.';
  path += needs_quotes(key) ? quote_for_message(key) : std::string(key);
  return path;
}

std::string join_index_path(std::string_view parent, std::size_t index) {
  std::string path(parent);
  path += '[';
  path += std::to_string(index);
  path += ']';
  return path;
}

std::string quote_for_message(std::string_view text) {
  std::string out;
  if (text.size() <= kMaxQuotedLength) {
    append_json_string(out, text);
    return out;
  }
  append_json_string(out, text.substr(0, kMaxQuotedLength));
  out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace sluice::core::detail
