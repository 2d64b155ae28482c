#include "gateway/policies/cache/semantic_question.hpp"

#include <boost/json.hpp>

namespace sluice::gateway::cache {

namespace {

// The text of a user message's content: a string, or an array of text parts.
std::optional<std::string> text_of(const boost::json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (const auto& part : content.get_array()) {
    const auto* object = part.if_object();
    if (!object) return std::nullopt;
    const auto* type = object->if_contains("type");
    const auto* value = object->if_contains("text");
    if (!type || !type->is_string() || type->get_string() != "text" || !value ||
        !value->is_string()) {
      return std::nullopt;
    }
    if (!text.empty()) text += '\n';
    text += value->get_string();
  }
  return text;
}

}  // namespace

std::optional<SemanticQuestion> semantic_question(const boost::json::object& body,
                                                  const KeyFields& fields) {
  const auto* messages = body.if_contains("messages");
  if (!messages || !messages->is_array() || messages->get_array().empty()) return std::nullopt;
  const auto& turns = messages->get_array();
  const auto* last = turns.back().if_object();
  if (!last) return std::nullopt;
  const auto* role = last->if_contains("role");
  const auto* content = last->if_contains("content");
  if (!role || !role->is_string() || role->get_string() != "user" || !content) return std::nullopt;
  auto text = text_of(*content);
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  // The last message may differ only in its content (e.g. a `name` field must match too).
  boost::json::object last_rest = *last;
  last_rest.erase("content");
  boost::json::object history;
  boost::json::array earlier(turns.begin(), std::prev(turns.end()));
  earlier.emplace_back(std::move(last_rest));
  history["messages"] = std::move(earlier);
  boost::json::object rest = body;
  rest.erase("messages");
  // Length-prefixed so no two different (history, rest) pairs give the same text.
  auto history_text = normalised_body(history, {});
  auto rest_text = normalised_body(rest, fields);
  SemanticQuestion q;
  q.text = std::move(*text);
  q.context = std::to_string(history_text.size()) + ':' + history_text + rest_text;
  return q;
}

}  // namespace sluice::gateway::cache
