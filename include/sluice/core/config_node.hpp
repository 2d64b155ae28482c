#pragma once
// A typed, validating view of one node of a loaded config document.
//
// Each component reads its own section and nothing else:
//
//   Limits Limits::from_config(const ConfigNode& node) {
//     Limits limits;
//     limits.tokens_per_minute = node.required<std::uint64_t>("tokens_per_minute");
//     limits.window = node.optional<std::chrono::milliseconds>("window", std::chrono::minutes(1));
//     limits.body_limit = node.optional<ByteSize>("body_limit", ByteSize{16 << 20});
//     node.finish();  // any key not read above is a ConfigError, with a did-you-mean suggestion
//     return limits;
//   }
//
// and a type with a static from_config(const ConfigNode&) can itself be read with required<T>,
// optional<T>, inside std::vector<T> or std::map<std::string, T>.
//
// Every error is a ConfigError naming file, line, column and key path. Reading marks keys as
// consumed; finish() (on a section, or once on the root) reports every key nobody consumed.
//
// Threads: a ConfigNode and the nodes reached from it share mutable bookkeeping; use them from one
// thread (startup or reload), then keep only the plain settings structs read from them.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/core/byte_size.hpp"
#include "sluice/core/config_error.hpp"
#include "sluice/core/duration.hpp"

namespace sluice::core {

namespace detail {
struct ConfigValue;
struct ConfigDocument;
}  // namespace detail

class ConfigNode;

// How a T is read from a node. Specialised below for strings, bool, integers, floating point,
// std::chrono durations, ByteSize, std::vector, std::map and ConfigNode; any other T is read with
// its static `T from_config(const ConfigNode&)`.
template <class T>
struct ConfigReader {
  static T read(const ConfigNode& node) requires requires {
    { T::from_config(node) } -> std::convertible_to<T>;
  }
  { return T::from_config(node); }
};

class ConfigNode {
 public:
  // --- Reading keys of a mapping. A null or absent node reads as an empty mapping; reading a key
  // of a scalar or a list is an error ("expected a mapping"). Every lookup marks the key consumed.

  // The value of `key` as T. Throws if the key is missing or null, or does not convert.
  template <class T>
  T required(std::string_view key) const {
    return ConfigReader<T>::read(require(key));
  }
  // The value of `key` as T, or `fallback` if the key is missing or null.
  template <class T>
  T optional(std::string_view key, std::type_identity_t<T> fallback) const {
    auto value = find(key);
    if (!value || value->is_null()) return fallback;
    return ConfigReader<T>::read(*value);
  }
  // The value of `key` as T, or nullopt if the key is missing or null.
  template <class T>
  std::optional<T> get(std::string_view key) const {
    auto value = find(key);
    if (!value || value->is_null()) return std::nullopt;
    return ConfigReader<T>::read(*value);
  }
  // The value of `key` mapped through `choices` (e.g. {{"round_robin", Mode::kRoundRobin}}).
  // Anything else is an error that lists the choices and suggests the closest one.
  template <class T>
  T required_choice(std::string_view key,
                    std::initializer_list<std::pair<std::string_view, T>> choices) const {
    return pick(require(key), choices);
  }
  template <class T>
  T optional_choice(std::string_view key,
                    std::initializer_list<std::pair<std::string_view, T>> choices,
                    std::type_identity_t<T> fallback) const {
    auto value = find(key);
    if (!value || value->is_null()) return fallback;
    return pick(*value, choices);
  }

  // The sub-mapping at `key`; a missing or null key gives an absent node that reads as empty, so
  // optional sections need no special case. Throws if the value is present but not a mapping.
  ConfigNode section(std::string_view key) const;
  // The elements of the list at `key`; a missing or null key is an empty list. Throws if the value
  // is present but not a list.
  std::vector<ConfigNode> list(std::string_view key) const;
  // The node at `key` whatever its kind, or nullopt if the key is missing. Marks it consumed.
  std::optional<ConfigNode> find(std::string_view key) const;
  // Whether `key` is present with a non-null value. Does not consume it.
  bool has(std::string_view key) const;
  // Keys of this mapping in document order. Does not consume them.
  std::vector<std::string> keys() const;
  // All entries of this mapping in document order, each marked consumed. For maps whose keys are
  // names chosen by the user (deployments, headers).
  std::vector<std::pair<std::string, ConfigNode>> entries() const;
  // Elements of this list. A null or absent node is an empty list; anything else is an error.
  std::vector<ConfigNode> items() const;

  // Marks `key` (and everything below it) consumed without reading it, e.g. a deprecated key.
  void ignore(std::string_view key) const;
  // Marks everything below this node consumed: a free-form subtree handed on verbatim.
  void accept_any() const;
  // Throws a ConfigError for the first key below this node that no reader consumed, with a
  // suggestion among the keys the reader did ask for. Keys starting with "x-" are exempt: they hold
  // YAML anchors and notes. Call it at the end of from_config and once on the root.
  void finish() const;

  // --- This node's own value.
  template <class T>
  T as() const {
    return ConfigReader<T>::read(*this);
  }
  bool is_absent() const noexcept { return value_ == nullptr; }
  bool is_null() const noexcept;  // also true when absent
  bool is_scalar() const noexcept;
  bool is_sequence() const noexcept;
  bool is_mapping() const noexcept;
  // The scalar text after ${...} substitution. Throws unless is_scalar().
  const std::string& scalar() const;
  // How this value reads in an error message: "lots" (quoted), null, a list, a mapping.
  std::string describe() const;

  // Throws a ConfigError at this node: for checks the reader makes itself ("must be positive").
  [[noreturn]] void fail(std::string_view message) const;
  // Throws a ConfigError about `key` of this mapping: at its value if present, else at this node.
  [[noreturn]] void fail_at(std::string_view key, std::string_view message) const;

  // Dotted path from the root: "deployments.gpt-4o.tokens_per_minute", "backends[2]".
  const std::string& path() const noexcept { return path_; }
  SourceLocation location() const;
  // The name the document was loaded under (file path or pseudo name).
  const std::string& source_name() const noexcept;

  // Made by load_config_file / load_config_string; exposed for them only.
  ConfigNode(std::shared_ptr<detail::ConfigDocument> document, detail::ConfigValue* value,
             std::string path, int line, int column);

 private:
  ConfigNode require(std::string_view key) const;
  ConfigNode child(detail::ConfigValue* value, std::string path) const;
  void expect_mapping() const;
  // Index of this scalar among `names`; throws listing them otherwise.
  std::size_t choose(std::span<const std::string_view> names) const;
  template <class T>
  static T pick(const ConfigNode& value,
                std::initializer_list<std::pair<std::string_view, T>> choices);

  std::shared_ptr<detail::ConfigDocument> document_;
  detail::ConfigValue* value_ = nullptr;  // null when absent
  std::string path_;
  int line_ = 0;  // where to report errors; for an absent node, its parent's place
  int column_ = 0;
};

namespace detail {
// Scalar conversions behind the ConfigReader specialisations; each throws a ConfigError.
std::int64_t read_signed(const ConfigNode& node, std::int64_t min, std::int64_t max);
std::uint64_t read_unsigned(const ConfigNode& node, std::uint64_t max);
double read_double(const ConfigNode& node);
bool read_bool(const ConfigNode& node);
std::chrono::nanoseconds read_duration(const ConfigNode& node);
}  // namespace detail

template <class T>
T ConfigNode::pick(const ConfigNode& value,
                   std::initializer_list<std::pair<std::string_view, T>> choices) {
  std::vector<std::string_view> names;
  names.reserve(choices.size());
  for (const auto& choice : choices) names.push_back(choice.first);
  return (choices.begin() + value.choose(names))->second;
}

template <>
struct ConfigReader<std::string> {
  static std::string read(const ConfigNode& node) { return node.scalar(); }
};

template <>
struct ConfigReader<bool> {
  static bool read(const ConfigNode& node) { return detail::read_bool(node); }
};

template <class T>
requires std::integral<T> &&(!std::same_as<T, bool>)struct ConfigReader<T> {
  static T read(const ConfigNode& node) {
    if constexpr (std::is_signed_v<T>) {
      return static_cast<T>(
          detail::read_signed(node, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    } else {
      return static_cast<T>(detail::read_unsigned(node, std::numeric_limits<T>::max()));
    }
  }
};

template <class T>
requires std::floating_point<T>
struct ConfigReader<T> {
  static T read(const ConfigNode& node) { return static_cast<T>(detail::read_double(node)); }
};

// Durations: "250ms", "1.5s", "2m", "1h30m"; a bare number is seconds (see parse_duration). Reading
// into a coarser type is exact or an error: "250ms" into std::chrono::seconds is refused, not
// rounded to zero.
template <class Rep, class Period>
struct ConfigReader<std::chrono::duration<Rep, Period>> {
  using Duration = std::chrono::duration<Rep, Period>;
  static Duration read(const ConfigNode& node) {
    std::chrono::nanoseconds ns = detail::read_duration(node);
    if constexpr (std::is_floating_point_v<Rep>) {
      return std::chrono::duration_cast<Duration>(ns);
    } else {
      auto converted = std::chrono::duration_cast<Duration>(ns);
      if (std::chrono::duration_cast<std::chrono::nanoseconds>(converted) != ns) {
        node.fail(
            "duration " + format_duration(ns) + " is finer than this setting's resolution of " +
            format_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(Duration(1))));
      }
      return converted;
    }
  }
};

template <>
struct ConfigReader<ByteSize> {
  static ByteSize read(const ConfigNode& node);
};

template <>
struct ConfigReader<ConfigNode> {
  static ConfigNode read(const ConfigNode& node) { return node; }
};

template <class T>
struct ConfigReader<std::vector<T>> {
  static std::vector<T> read(const ConfigNode& node) {
    std::vector<T> out;
    for (const auto& item : node.items()) out.push_back(ConfigReader<T>::read(item));
    return out;
  }
};

template <class T>
struct ConfigReader<std::map<std::string, T>> {
  static std::map<std::string, T> read(const ConfigNode& node) {
    std::map<std::string, T> out;
    for (const auto& [key, value] : node.entries()) {
      out.emplace(key, ConfigReader<T>::read(value));
    }
    return out;
  }
};

}  // namespace sluice::core
