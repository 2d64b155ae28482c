#pragma once
// The in-memory form of a loaded config document, private to sluice_core.
//
// yaml-cpp's own Node tree is not used because the reader needs what it does not keep: the place of
// every key (for errors), which keys were consumed (for finish()), and a safe handling of aliases
// (a self-referencing alias would make any walk endless). The tree is built from yaml-cpp's parser
// events instead; aliases share one ConfigValue.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::core::detail {

struct ConfigValue {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  struct Entry {
    std::string key;
    int line = 0;  // of the key, 1-based
    int column = 0;
    ConfigValue* value = nullptr;
    bool used = false;
  };

  Kind kind = Kind::kNull;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  bool plain = true;      // an unquoted, untagged scalar
  bool complete = false;  // fully parsed; an alias to an incomplete node is a cycle
  bool opaque = false;    // consumed wholesale (accept_any / ignore)
  bool checked = false;   // finish() found nothing unconsumed below; never re-walked
  std::string text;       // scalar text, after ${...} substitution
  std::string written;    // scalar text as written, kept only when substitution changed it
  std::vector<ConfigValue*> items;
  std::vector<Entry> entries;
  std::vector<std::string> asked;  // keys a reader looked up here, for did-you-mean
};

struct ConfigDocument {
  std::string name;
  std::deque<ConfigValue> values;  // owns every node; deque keeps addresses stable
  ConfigValue* root = nullptr;

  ConfigValue* make(ConfigValue::Kind kind, int line, int column) {
    ConfigValue& value = values.emplace_back();
    value.kind = kind;
    value.line = line;
    value.column = column;
    return &value;
  }
};

// Key paths for messages: "a.b", "a[3]"; keys that would make the path ambiguous are quoted:
// deployments."gpt-4.1".tokens_per_minute.
std::string join_key_path(std::string_view parent, std::string_view key);
std::string join_index_path(std::string_view parent, std::size_t index);

// A value quoted for an error message, control characters escaped, long text shortened.
std::string quote_for_message(std::string_view text);

}  // namespace sluice::core::detail
