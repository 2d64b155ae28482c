#include "config_substitution.hpp"

namespace sluice::core::detail {
namespace {

// A default may hold a substitution that holds a default...; bound it so hostile input cannot
// exhaust the stack.
constexpr int kMaxNesting = 8;

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

std::string shown(std::string_view body) {
  constexpr std::size_t kMax = 80;
  std::string text = "${";
  text += body.size() > kMax ? std::string(body.substr(0, kMax)) + "..." : std::string(body);
  text += "}";
  return text;
}

Result<std::string> expand(std::string_view text, const SubstitutionSources& sources, int depth);

Result<std::string> resolve_env(std::string_view body, const SubstitutionSources& sources,
                                int depth) {
  std::string_view rest = body.substr(4);  // after "env:"
  std::size_t dash = rest.find(":-");
  std::string name(rest.substr(0, dash));
  if (!valid_env_name(name)) {
    return invalid("invalid environment variable name in " + shown(body));
  }
  std::optional<std::string> value = sources.env(name);
  if (dash == std::string_view::npos) {
    if (!value) {
      return invalid("environment variable " + name + " is not set (from " + shown(body) +
                     "; write ${env:" + name + ":-default} to give a default)");
    }
    return std::move(*value);
  }
  if (value && !value->empty()) return std::move(*value);
  return expand(rest.substr(dash + 2), sources, depth + 1);
}

Result<std::string> resolve_file(std::string_view body, const SubstitutionSources& sources,
                                 int depth) {
  auto path_text = expand(body.substr(5), sources, depth + 1);  // after "file:"
  if (!path_text) return path_text;
  if (path_text->empty()) return invalid("empty path in " + shown(body));
  std::filesystem::path path(*path_text);
  if (path.is_relative()) path = (sources.base_dir / path).lexically_normal();
  auto contents = sources.read_file(path);
  if (!contents) {
    return invalid("cannot substitute " + shown(body) + ": " + contents.error().message);
  }
  std::string text = std::move(*contents);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<std::string> resolve(std::string_view body, const SubstitutionSources& sources, int depth) {
  if (body.starts_with("env:")) return resolve_env(body, sources, depth);
  if (body.starts_with("file:")) return resolve_file(body, sources, depth);
  return invalid("unknown substitution " + shown(body) +
                 " (use ${env:NAME} or ${file:PATH}; write '$${' for a literal '${')");
}

Result<std::string> expand(std::string_view text, const SubstitutionSources& sources, int depth) {
  if (depth > kMaxNesting) return invalid("substitutions nested too deeply");
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    if (text.compare(dollar, 3, "$${") == 0) {
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (text.compare(dollar, 2, "${") != 0) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    // Find the matching '}', counting nested "${" so a default may contain substitutions.
    std::size_t end = dollar + 2;
    int open = 1;
    while (end < text.size()) {
      if (text.compare(end, 3, "$${") == 0) {
        end += 3;
      } else if (text.compare(end, 2, "${") == 0) {
        ++open;
        end += 2;
      } else if (text[end] == '}' && --open == 0) {
        break;
      } else {
        ++end;
      }
    }
    if (end >= text.size()) {
      return invalid("unterminated '${' (write '$${' for a literal '${')");
    }
    std::string_view body = text.substr(dollar + 2, end - dollar - 2);
    Result<std::string> value = resolve(body, sources, depth);
    if (!value) return value;
    out += *value;
    i = end + 1;
  }
  return out;
}

}  // namespace

Result<std::string> substitute(std::string_view text, const SubstitutionSources& sources) {
  return expand(text, sources, 0);
}

}  // namespace sluice::core::detail
