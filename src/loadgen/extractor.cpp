#include "sluice/loadgen/extractor.hpp"

#include <regex>
#include <variant>
#include <vector>

#include <boost/json.hpp>

namespace sluice::loadgen {
namespace json = boost::json;
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

// A path step: a member name, an index, or a wildcard (-1).
using PathStep = std::variant<std::string, long>;

core::Result<std::vector<PathStep>> parse_path(std::string_view path) {
  std::vector<PathStep> steps;
  if (path.empty() || path[0] != '$')
    return invalid("JSON path \"" + std::string(path) + "\" must start with '$'");
  std::size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      if (i < path.size() && path[i] == '.')
        return invalid("JSON path \"" + std::string(path) +
                       "\": recursive descent '..' is not supported");
      std::size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      if (i == start) return invalid("JSON path \"" + std::string(path) + "\": empty member name");
      std::string name(path.substr(start, i - start));
      if (name == "*") {
        steps.emplace_back(-1L);
      } else {
        steps.emplace_back(std::move(name));
      }
    } else if (path[i] == '[') {
      auto close = path.find(']', i);
      if (close == std::string_view::npos)
        return invalid("JSON path \"" + std::string(path) + "\": missing ']'");
      std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') &&
          inner.back() == inner.front()) {
        steps.emplace_back(std::string(inner.substr(1, inner.size() - 2)));
      } else if (inner == "*") {
        steps.emplace_back(-1L);
      } else {
        char* end = nullptr;
        std::string s(inner);
        long idx = std::strtol(s.c_str(), &end, 10);
        if (s.empty() || *end || idx < 0)
          return invalid("JSON path \"" + std::string(path) + "\": bad index [" + s + "]");
        steps.emplace_back(idx);
      }
      i = close + 1;
    } else {
      return invalid("JSON path \"" + std::string(path) + "\": unexpected '" +
                     std::string(1, path[i]) + "'");
    }
  }
  return steps;
}

void walk(const json::value& v, const std::vector<PathStep>& steps, std::size_t at,
          std::vector<const json::value*>& out) {
  if (at == steps.size()) {
    out.push_back(&v);
    return;
  }
  const auto& step = steps[at];
  if (auto* name = std::get_if<std::string>(&step)) {
    if (auto* o = v.if_object()) {
      if (auto* child = o->if_contains(*name)) walk(*child, steps, at + 1, out);
    }
    return;
  }
  long idx = std::get<long>(step);
  if (auto* a = v.if_array()) {
    if (idx < 0) {
      for (const auto& child : *a) walk(child, steps, at + 1, out);
    } else if (static_cast<std::size_t>(idx) < a->size()) {
      walk((*a)[static_cast<std::size_t>(idx)], steps, at + 1, out);
    }
  } else if (auto* o = v.if_object(); o && idx < 0) {
    for (const auto& kv : *o) walk(kv.value(), steps, at + 1, out);
  }
}

std::string as_text(const json::value& v) {
  if (auto* s = v.if_string()) return std::string(*s);
  return json::serialize(v);
}

}  // namespace

core::Result<void> validate_extractor(const Extractor& e) {
  if (e.variable.empty()) return invalid("extractor has no variable name");
  if (e.kind == Extractor::kJsonPath) {
    auto p = parse_path(e.expression);
    if (!p) return p.error();
    return {};
  }
  try {
    std::regex re(e.expression, std::regex::ECMAScript);
    if (e.group < 0 || static_cast<std::size_t>(e.group) > re.mark_count()) {
      return invalid("regex \"" + e.expression + "\" has no group " + std::to_string(e.group));
    }
  } catch (const std::regex_error& err) {
    return invalid("regex \"" + e.expression + "\" does not compile: " + err.what());
  }
  return {};
}

std::optional<std::string> extract(const Extractor& e, std::string_view body,
                                   std::uint64_t random) {
  std::vector<std::string> matches;
  if (e.kind == Extractor::kJsonPath) {
    auto steps = parse_path(e.expression);
    if (!steps) return std::nullopt;
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec) return std::nullopt;
    std::vector<const json::value*> found;
    walk(doc, *steps, 0, found);
    for (auto* v : found) matches.push_back(as_text(*v));
  } else {
    std::regex re(e.expression, std::regex::ECMAScript);
    std::string text(body);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it) {
      matches.push_back((*it)[e.group].str());
    }
  }
  if (matches.empty()) return std::nullopt;
  if (e.match_number <= 0) return matches[random % matches.size()];
  if (static_cast<std::size_t>(e.match_number) > matches.size()) return std::nullopt;
  return matches[static_cast<std::size_t>(e.match_number) - 1];
}

}  // namespace sluice::loadgen
