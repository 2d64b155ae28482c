#include "gateway/usage_extraction.hpp"

namespace sluice::gateway {

namespace {

using namespace simdjson;

std::int64_t int_field(dom::object object, std::string_view key) {
  std::int64_t value = 0;
  if (object[key].get_int64().get(value) != SUCCESS) return 0;
  return value;
}

bool read_usage(dom::element element, TokenUsage& usage) {
  dom::object object;
  if (element.get_object().get(object) != SUCCESS) return false;
  usage.prompt_tokens = int_field(object, "prompt_tokens");
  usage.completion_tokens = int_field(object, "completion_tokens");
  usage.total_tokens = int_field(object, "total_tokens");
  dom::object details;
  if (object["prompt_tokens_details"].get_object().get(details) == SUCCESS) {
    usage.cached_tokens = int_field(details, "cached_tokens");
  }
  if (object["completion_tokens_details"].get_object().get(details) == SUCCESS) {
    usage.reasoning_tokens = int_field(details, "reasoning_tokens");
  }
  if (usage.total_tokens == 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.source = UsageSource::kReported;
  return true;
}

void append(std::string& text, bool& has_content, simdjson_result<dom::element> element) {
  std::string_view piece;
  if (element.get_string().get(piece) == SUCCESS && !piece.empty()) {
    text.append(piece);
    has_content = true;
  }
}

// Generated text of a chunk: chat `delta.content` / `delta.refusal` / tool-call arguments, or
// completions `text`.
void append_choice_text(dom::array choices, std::string& text, bool& has_content) {
  for (dom::element choice : choices) {
    dom::object delta;
    if (choice["delta"].get_object().get(delta) == SUCCESS) {
      append(text, has_content, delta["content"]);
      append(text, has_content, delta["refusal"]);
      dom::array calls;
      if (delta["tool_calls"].get_array().get(calls) == SUCCESS) {
        for (dom::element call : calls) {
          append(text, has_content, call.at_pointer("/function/name"));
          append(text, has_content, call.at_pointer("/function/arguments"));
        }
      }
    } else {
      append(text, has_content, choice["text"]);
    }
  }
}

}  // namespace

bool extract_usage(std::string_view body, JsonScratch& scratch, TokenUsage& usage,
                   std::string& model) {
  dom::element doc;
  if (scratch.parse(body).get(doc) != SUCCESS) return false;
  std::string_view name;
  if (doc["model"].get_string().get(name) == SUCCESS) model = std::string(name);
  dom::element element;
  if (doc["usage"].get(element) != SUCCESS) return false;
  return read_usage(element, usage);
}

StreamChunk inspect_stream_chunk(std::string_view data, JsonScratch& scratch, TokenUsage& usage,
                                 std::string& model, std::string& text) {
  StreamChunk chunk;
  dom::element doc;
  if (scratch.parse(data).get(doc) != SUCCESS || !doc.is_object()) return chunk;
  chunk.json = true;
  bool choices_empty = true;
  dom::array choices;
  if (doc["choices"].get_array().get(choices) == SUCCESS && choices.size() > 0) {
    choices_empty = false;
    append_choice_text(choices, text, chunk.has_content);
  }
  dom::element usage_element;
  if (doc["usage"].get(usage_element) == SUCCESS && !usage_element.is_null()) {
    chunk.has_usage = read_usage(usage_element, usage);
  }
  std::string_view name;
  if (model.empty() && doc["model"].get_string().get(name) == SUCCESS) model = std::string(name);
  chunk.usage_only = chunk.has_usage && choices_empty;
  return chunk;
}

}  // namespace sluice::gateway
