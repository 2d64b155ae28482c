#include "sluice/core/config_node.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "config_tree.hpp"
#include "sluice/core/edit_distance.hpp"

namespace sluice::core {
namespace {

using detail::ConfigValue;
using Kind = ConfigValue::Kind;

// Keys of this prefix are never reported by finish(): they hold anchors and notes (the
// docker-compose convention).
constexpr std::string_view kExtensionPrefix = "x-";
constexpr std::size_t kMaxListedKeys = 12;

ConfigValue::Entry* find_entry(ConfigValue* map, std::string_view key) {
  for (auto& entry : map->entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& name : names) {
    if (shown == kMaxListedKeys) {
      out += ", ...";
      break;
    }
    if (shown++ > 0) out += ", ";
    out += '\'';
    out += name;
    out += '\'';
  }
  return out;
}

// The first key below `value` that no reader consumed, reported as a ConfigError.
void check_consumed(const std::string& source, ConfigValue* value, const std::string& path) {
  if (value->opaque || value->checked) return;
  if (value->kind == Kind::kMapping) {
    for (auto& entry : value->entries) {
      if (entry.used) {
        check_consumed(source, entry.value, detail::join_key_path(path, entry.key));
        continue;
      }
      if (entry.key.starts_with(kExtensionPrefix)) continue;
      std::string message = "unknown key '" + entry.key + "'";
      // Suggest only keys the reader asked for and did not find: a key that is present already is
      // not what the typo meant.
      std::vector<std::string> missing;
      for (const auto& asked : value->asked) {
        if (find_entry(value, asked) == nullptr) missing.push_back(asked);
      }
      if (auto guess = closest_match(entry.key, missing)) {
        message += " (did you mean '" + *guess + "'?)";
      } else if (!value->asked.empty()) {
        message += " (known keys: " + quoted_list(value->asked) + ")";
      }
      throw ConfigError(SourceLocation{source, entry.line, entry.column}, path, message);
    }
  } else if (value->kind == Kind::kSequence) {
    for (std::size_t i = 0; i < value->items.size(); ++i) {
      check_consumed(source, value->items[i], detail::join_index_path(path, i));
    }
  }
  value->checked = true;
}

void mark_opaque(ConfigValue* value) {
  value->opaque = true;
}

// Integer text as YAML writes it: optional sign, decimal or 0x hex, '_' allowed between digits.
// Returns false if it is not an integer; `negative` and `magnitude` hold the value otherwise, and
// `overflow` says the magnitude did not fit 64 bits.
bool parse_integer(std::string_view text, bool& negative, std::uint64_t& magnitude,
                   bool& overflow) {
  negative = false;
  overflow = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  std::string digits;
  digits.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_' && i > 0 && i + 1 < text.size() && text[i - 1] != '_') continue;
    digits += text[i];
  }
  if (digits.empty()) return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (end != digits.data() + digits.size()) return false;
  if (ec == std::errc::result_out_of_range) overflow = true;
  return ec == std::errc() || overflow;
}

}  // namespace

ConfigNode::ConfigNode(std::shared_ptr<detail::ConfigDocument> document, detail::ConfigValue* value,
                       std::string path, int line, int column)
    : document_(std::move(document)),
      value_(value),
      path_(std::move(path)),
      line_(line),
      column_(column) {}

bool ConfigNode::is_null() const noexcept {
  return value_ == nullptr || value_->kind == Kind::kNull;
}
bool ConfigNode::is_scalar() const noexcept {
  return value_ != nullptr && value_->kind == Kind::kScalar;
}
bool ConfigNode::is_sequence() const noexcept {
  return value_ != nullptr && value_->kind == Kind::kSequence;
}
bool ConfigNode::is_mapping() const noexcept {
  return value_ != nullptr && value_->kind == Kind::kMapping;
}

const std::string& ConfigNode::source_name() const noexcept {
  return document_->name;
}

SourceLocation ConfigNode::location() const {
  return SourceLocation{document_->name, line_, column_};
}

void ConfigNode::fail(std::string_view message) const {
  throw ConfigError(location(), path_, std::string(message));
}

void ConfigNode::fail_at(std::string_view key, std::string_view message) const {
  if (auto value = find(key)) value->fail(message);
  throw ConfigError(location(), detail::join_key_path(path_, key), std::string(message));
}

std::string ConfigNode::describe() const {
  if (value_ == nullptr) return "nothing";
  switch (value_->kind) {
    case Kind::kNull:
      return "null";
    case Kind::kSequence:
      return "a list";
    case Kind::kMapping:
      return "a mapping";
    case Kind::kScalar:
      break;
  }
  std::string text = detail::quote_for_message(value_->text);
  if (!value_->written.empty()) {
    text += " (from " + detail::quote_for_message(value_->written) + ")";
  }
  return text;
}

ConfigNode ConfigNode::child(detail::ConfigValue* value, std::string path) const {
  return ConfigNode(document_, value, std::move(path), value->line, value->column);
}

void ConfigNode::expect_mapping() const {
  if (is_null() || is_mapping()) return;
  fail("expected a mapping, got " + describe());
}

std::optional<ConfigNode> ConfigNode::find(std::string_view key) const {
  expect_mapping();
  if (!is_mapping()) return std::nullopt;
  if (std::find(value_->asked.begin(), value_->asked.end(), key) == value_->asked.end()) {
    value_->asked.emplace_back(key);
  }
  ConfigValue::Entry* entry = find_entry(value_, key);
  if (entry == nullptr) return std::nullopt;
  entry->used = true;
  return child(entry->value, detail::join_key_path(path_, key));
}

ConfigNode ConfigNode::require(std::string_view key) const {
  auto value = find(key);
  if (!value) {
    std::string message = "missing required key '" + std::string(key) + "'";
    if (is_mapping()) {
      std::vector<std::string> unread;
      for (const auto& entry : value_->entries) {
        if (!entry.used) unread.push_back(entry.key);
      }
      if (auto guess = closest_match(key, unread)) {
        message += " (is '" + *guess + "' a misspelling of it?)";
      }
    }
    fail(message);
  }
  if (value->is_null()) value->fail("expected a value, got null");
  return *value;
}

ConfigNode ConfigNode::section(std::string_view key) const {
  auto value = find(key);
  if (!value)
    return ConfigNode(document_, nullptr, detail::join_key_path(path_, key), line_, column_);
  value->expect_mapping();
  return *value;
}

std::vector<ConfigNode> ConfigNode::list(std::string_view key) const {
  auto value = find(key);
  if (!value) return {};
  return value->items();
}

bool ConfigNode::has(std::string_view key) const {
  expect_mapping();
  if (!is_mapping()) return false;
  ConfigValue::Entry* entry = find_entry(value_, key);
  return entry != nullptr && entry->value->kind != Kind::kNull;
}

std::vector<std::string> ConfigNode::keys() const {
  expect_mapping();
  std::vector<std::string> out;
  if (!is_mapping()) return out;
  for (const auto& entry : value_->entries) out.push_back(entry.key);
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
  expect_mapping();
  std::vector<std::pair<std::string, ConfigNode>> out;
  if (!is_mapping()) return out;
  out.reserve(value_->entries.size());
  for (auto& entry : value_->entries) {
    entry.used = true;
    out.emplace_back(entry.key, child(entry.value, detail::join_key_path(path_, entry.key)));
  }
  return out;
}

std::vector<ConfigNode> ConfigNode::items() const {
  std::vector<ConfigNode> out;
  if (is_null()) return out;
  if (!is_sequence()) fail("expected a list, got " + describe());
  out.reserve(value_->items.size());
  for (std::size_t i = 0; i < value_->items.size(); ++i) {
    out.push_back(child(value_->items[i], detail::join_index_path(path_, i)));
  }
  return out;
}

void ConfigNode::ignore(std::string_view key) const {
  if (auto value = find(key); value && value->value_ != nullptr) mark_opaque(value->value_);
}

void ConfigNode::accept_any() const {
  if (value_ != nullptr) mark_opaque(value_);
}

void ConfigNode::finish() const {
  if (value_ != nullptr) check_consumed(document_->name, value_, path_);
}

const std::string& ConfigNode::scalar() const {
  if (!is_scalar()) fail("expected a string, got " + describe());
  return value_->text;
}

std::size_t ConfigNode::choose(std::span<const std::string_view> names) const {
  if (is_scalar()) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == value_->text) return i;
    }
  }
  std::vector<std::string> owned(names.begin(), names.end());
  std::string message = "expected one of " + quoted_list(owned) + ", got " + describe();
  if (is_scalar()) {
    if (auto guess = closest_match(value_->text, owned)) {
      message += " (did you mean '" + *guess + "'?)";
    }
  }
  fail(message);
}

namespace detail {

std::int64_t read_signed(const ConfigNode& node, std::int64_t min, std::int64_t max) {
  if (!node.is_scalar()) node.fail("expected an integer, got " + node.describe());
  bool negative = false;
  bool overflow = false;
  std::uint64_t magnitude = 0;
  if (!parse_integer(node.scalar(), negative, magnitude, overflow)) {
    node.fail("expected an integer, got " + node.describe());
  }
  // Compare magnitudes in unsigned space so INT64_MIN needs no special case.
  std::uint64_t limit =
      negative ? static_cast<std::uint64_t>(-(min + 1)) + 1 : static_cast<std::uint64_t>(max);
  if (overflow || magnitude > limit) {
    node.fail("expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
              ", got " + node.describe());
  }
  if (!negative) return static_cast<std::int64_t>(magnitude);
  return magnitude == 0 ? 0 : -static_cast<std::int64_t>(magnitude - 1) - 1;
}

std::uint64_t read_unsigned(const ConfigNode& node, std::uint64_t max) {
  if (!node.is_scalar()) node.fail("expected a non-negative integer, got " + node.describe());
  bool negative = false;
  bool overflow = false;
  std::uint64_t magnitude = 0;
  if (!parse_integer(node.scalar(), negative, magnitude, overflow)) {
    node.fail("expected a non-negative integer, got " + node.describe());
  }
  if (negative && magnitude == 0) return 0;
  if (negative || overflow || magnitude > max) {
    node.fail("expected an integer from 0 to " + std::to_string(max) + ", got " + node.describe());
  }
  return magnitude;
}

double read_double(const ConfigNode& node) {
  if (!node.is_scalar()) node.fail("expected a number, got " + node.describe());
  std::string_view text = node.scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    node.fail("expected a number, got " + node.describe());
  }
  return value;
}

bool read_bool(const ConfigNode& node) {
  if (node.is_scalar()) {
    std::string lower = node.scalar();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true") return true;
    if (lower == "false") return false;
  }
  node.fail("expected true or false, got " + node.describe());
}

std::chrono::nanoseconds read_duration(const ConfigNode& node) {
  if (!node.is_scalar()) {
    node.fail("expected a duration (e.g. 250ms, 1.5s, 2m), got " + node.describe());
  }
  auto parsed = parse_duration(node.scalar());
  if (!parsed) node.fail("invalid duration " + node.describe() + ": " + parsed.error().message);
  return *parsed;
}

}  // namespace detail

ByteSize ConfigReader<ByteSize>::read(const ConfigNode& node) {
  if (!node.is_scalar()) {
    node.fail("expected a byte size (e.g. 64KiB, 16MiB), got " + node.describe());
  }
  auto parsed = parse_byte_size(node.scalar());
  if (!parsed) node.fail("invalid byte size " + node.describe() + ": " + parsed.error().message);
  return *parsed;
}

}  // namespace sluice::core
