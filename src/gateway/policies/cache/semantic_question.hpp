#pragma once
// What the semantic cache compares: the question (the last user message's text) and everything
// else that must be the same for an answer to fit (the conversation before it, the other body
// fields). The second goes into the partition, so a question asked in another conversation, or
// with another system prompt or temperature, never matches.
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "gateway/policies/cache/request_key.hpp"

namespace sluice::gateway::cache {

struct SemanticQuestion {
  std::string text;     // the last user message's text (text parts joined by newlines)
  std::string context;  // earlier turns and the other fields, normalised (request_key.hpp)
};

// Nullopt when there is no question to compare: no `messages`, a last message that is not the
// user's, or one with no text or with non-text parts (an image changes what is asked). `fields`
// apply to the fields other than `messages` as they do for the exact key. Never throws.
std::optional<SemanticQuestion> semantic_question(const boost::json::object& body,
                                                  const KeyFields& fields);

}  // namespace sluice::gateway::cache
