#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "config_substitution.hpp"
#include "config_tree.hpp"
#include "sluice/core/config.hpp"

namespace sluice::core {
namespace {

using detail::ConfigValue;
using Kind = ConfigValue::Kind;

constexpr std::string_view kMergeKey = "<<";

int line_of(const YAML::Mark& mark) {
  return mark.is_null() ? 0 : mark.line + 1;
}
int column_of(const YAML::Mark& mark) {
  return mark.is_null() ? 0 : mark.column + 1;
}

Result<std::string> read_regular_file(const std::filesystem::path& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) {
    return Error{ErrorCode::kNotFound, "cannot open '" + path.string() + "': " + ec.message()};
  }
  if (!std::filesystem::is_regular_file(status)) {
    return Error{ErrorCode::kInvalidArgument, "'" + path.string() + "' is not a regular file"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::kNotFound,
                 "cannot open '" + path.string() + "': " + std::strerror(errno)};
  }
  std::string data;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxConfigFileSize) {
      return Error{ErrorCode::kResourceExhausted, "'" + path.string() + "' is larger than " +
                                                      std::to_string(kMaxConfigFileSize) +
                                                      " bytes"};
    }
  }
  if (in.bad()) {
    return Error{ErrorCode::kDataLoss, "cannot read '" + path.string() + "'"};
  }
  return data;
}

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// Builds the ConfigValue tree from yaml-cpp's parser events. Errors are thrown as ConfigError.
class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(std::string_view text, detail::ConfigDocument& document,
              const detail::SubstitutionSources& sources)
      : text_(text), document_(document), sources_(sources) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 1) return;
    // yaml-cpp also starts a new document when content continues after a finished top-level
    // node, which is nearly always an indentation mistake rather than a second document.
    bool marker = !mark.is_null() && static_cast<std::size_t>(mark.pos) < text_.size() &&
                  text_.substr(static_cast<std::size_t>(mark.pos)).starts_with("---");
    fail(mark, "",
         marker ? "a config file holds one YAML document, found a second '---'"
                : "unexpected content after the end of the document (check the indentation)");
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (awaiting_key()) fail(mark, stack_.back().path, "a mapping key must not be empty");
    ConfigValue* value = document_.make(Kind::kNull, line_of(mark), column_of(mark));
    finish_leaf(value, anchor, mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& text) override {
    ConfigValue* value = document_.make(Kind::kScalar, line_of(mark), column_of(mark));
    // yaml-cpp tags plain scalars "?" and quoted ones "!".
    value->plain = tag == "?";
    if (awaiting_key()) {
      value->text = text;
    } else {
      auto substituted = detail::substitute(text, sources_);
      if (!substituted) fail(mark, value_path(), substituted.error().message);
      if (*substituted != text) value->written = text;
      value->text = std::move(*substituted);
    }
    finish_leaf(value, anchor, mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto found = anchors_.find(anchor);
    if (found == anchors_.end()) fail(mark, value_path(), "alias to an unknown anchor");
    if (!found->second->complete) {
      fail(mark, value_path(), "alias refers to a node that contains it");
    }
    place(found->second, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(Kind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(Kind::kMapping, mark, anchor);
  }
  void OnMapEnd() override {
    apply_merges(stack_.back());
    close();
  }

 private:
  struct PendingMerge {
    ConfigValue* value;
    YAML::Mark mark;
  };
  struct Frame {
    ConfigValue* node;
    std::string path;
    bool has_key = false;  // mappings alternate key, value
    std::string key;
    YAML::Mark key_mark;
    bool key_plain = true;
    std::unordered_map<std::string, int> seen;  // key -> line, to reject duplicates
    std::vector<PendingMerge> merges;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, std::string path, std::string message) const {
    throw ConfigError(SourceLocation{document_.name, line_of(mark), column_of(mark)},
                      std::move(path), std::move(message));
  }

  bool awaiting_key() const {
    return !stack_.empty() && stack_.back().node->kind == Kind::kMapping && !stack_.back().has_key;
  }

  // Path of the value about to be placed.
  std::string value_path() const {
    if (stack_.empty()) return "";
    const Frame& parent = stack_.back();
    if (parent.node->kind == Kind::kSequence) {
      return detail::join_index_path(parent.path, parent.node->items.size());
    }
    return detail::join_key_path(parent.path, parent.key);
  }

  void remember(YAML::anchor_t anchor, ConfigValue* value) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = value;
  }

  void finish_leaf(ConfigValue* value, YAML::anchor_t anchor, const YAML::Mark& mark) {
    value->complete = true;
    remember(anchor, value);
    place(value, mark);
  }

  void open(Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (awaiting_key()) {
      fail(mark, stack_.back().path, "only plain values can be mapping keys");
    }
    ConfigValue* value = document_.make(kind, line_of(mark), column_of(mark));
    remember(anchor, value);
    std::string path = value_path();
    place(value, mark);
    Frame& frame = stack_.emplace_back();
    frame.node = value;
    frame.path = std::move(path);
  }

  void close() {
    stack_.back().node->complete = true;
    stack_.pop_back();
  }

  void place(ConfigValue* value, const YAML::Mark& mark) {
    if (stack_.empty()) {
      document_.root = value;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.node->kind == Kind::kSequence) {
      parent.node->items.push_back(value);
      return;
    }
    if (!parent.has_key) {
      if (value->kind != Kind::kScalar) {
        fail(mark, parent.path, "only plain values can be mapping keys");
      }
      auto [it, inserted] = parent.seen.emplace(value->text, line_of(mark));
      if (!inserted) {
        fail(mark, parent.path,
             "duplicate key '" + value->text + "' (first at line " + std::to_string(it->second) +
                 ")");
      }
      parent.has_key = true;
      parent.key = value->text;
      parent.key_mark = mark;
      parent.key_plain = value->plain;
      return;
    }
    parent.has_key = false;
    if (parent.key_plain && parent.key == kMergeKey) {
      parent.merges.push_back(PendingMerge{value, parent.key_mark});
      return;
    }
    parent.node->entries.push_back(ConfigValue::Entry{parent.key, line_of(parent.key_mark),
                                                      column_of(parent.key_mark), value, false});
  }

  // YAML merge keys: entries of the merged mappings that the mapping does not set itself, earlier
  // sources first.
  void apply_merges(Frame& frame) {
    for (const PendingMerge& merge : frame.merges) {
      std::vector<ConfigValue*> sources;
      if (merge.value->kind == Kind::kMapping) {
        sources.push_back(merge.value);
      } else if (merge.value->kind == Kind::kSequence) {
        sources = merge.value->items;
      }
      if (sources.empty() && merge.value->kind != Kind::kSequence) {
        fail(merge.mark, frame.path, "'<<' needs a mapping or a list of mappings");
      }
      for (ConfigValue* source : sources) {
        if (source->kind != Kind::kMapping) {
          fail(merge.mark, frame.path, "'<<' needs a mapping or a list of mappings");
        }
        for (const auto& entry : source->entries) {
          if (frame.seen.emplace(entry.key, entry.line).second) {
            frame.node->entries.push_back(
                ConfigValue::Entry{entry.key, entry.line, entry.column, entry.value, false});
          }
        }
      }
    }
  }

  std::string_view text_;
  detail::ConfigDocument& document_;
  const detail::SubstitutionSources& sources_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, ConfigValue*> anchors_;
  int documents_ = 0;
};

}  // namespace

ConfigNode load_config_string(std::string_view text, std::string_view name,
                              const std::filesystem::path& base_dir, const LoadOptions& options) {
  auto document = std::make_shared<detail::ConfigDocument>();
  document->name = std::string(name);

  detail::SubstitutionSources sources{options.env ? options.env : process_env,
                                      options.read_file ? options.read_file : read_regular_file,
                                      base_dir};
  if (sources.base_dir.empty()) {
    std::error_code ec;
    sources.base_dir = std::filesystem::current_path(ec);
  }

  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    TreeBuilder builder(text, *document, sources);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YAML::Exception& e) {  // ParserException and the depth guard's DeepRecursion
    throw ConfigError(SourceLocation{document->name, line_of(e.mark), column_of(e.mark)}, "",
                      "invalid YAML: " + e.msg);
  }

  if (document->root == nullptr) {
    document->root = document->make(Kind::kNull, 1, 1);
    document->root->complete = true;
  }
  ConfigValue* root = document->root;
  return ConfigNode(std::move(document), root, "", root->line, root->column);
}

ConfigNode load_config_file(const std::filesystem::path& path, const LoadOptions& options) {
  auto text = read_regular_file(path);
  if (!text) throw ConfigError(SourceLocation{path.string()}, "", text.error().message);
  std::filesystem::path base_dir = path.parent_path();
  if (base_dir.empty()) base_dir = ".";
  return load_config_string(*text, path.string(), base_dir, options);
}

}  // namespace sluice::core
