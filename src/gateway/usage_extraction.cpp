#include "gateway/usage_extraction.hpp"

#include <array>
#include <optional>

#include "gateway/usage_scan.hpp"

namespace sluice::gateway {

namespace {

using namespace simdjson;

// The values of `keys` in `object`, found in one pass over its fields (the first of a repeated
// key, as object[key] finds it). object[key] for each would scan the object once per key: a
// response's usage took five scans of the usage object and two of the whole response.
template <std::size_t N>
std::array<std::optional<dom::element>, N> fields_of(dom::object object,
                                                     const std::array<std::string_view, N>& keys) {
  std::array<std::optional<dom::element>, N> found{};
  std::size_t missing = N;
  for (dom::key_value_pair field : object) {
    for (std::size_t i = 0; i < N; ++i) {
      if (!found[i] && field.key == keys[i]) {
        found[i] = field.value;
        --missing;
        break;
      }
    }
    if (missing == 0) break;
  }
  return found;
}

std::int64_t int_of(const std::optional<dom::element>& element) {
  std::int64_t value = 0;
  if (!element || element->get_int64().get(value) != SUCCESS) return 0;
  return value;
}

// A usage-details object's one count we keep (`cached_tokens`, `reasoning_tokens`), into `out`
// when the object is there.
void read_detail(const std::optional<dom::element>& element, std::string_view key,
                 std::int64_t& out) {
  dom::object details;
  if (!element || element->get_object().get(details) != SUCCESS) return;
  out = int_of(fields_of<1>(details, {key})[0]);
}

bool read_usage(dom::element element, TokenUsage& usage) {
  dom::object object;
  if (element.get_object().get(object) != SUCCESS) return false;
  const auto [prompt, completion, total, prompt_details, completion_details] =
      fields_of<5>(object, {"prompt_tokens", "completion_tokens", "total_tokens",
                            "prompt_tokens_details", "completion_tokens_details"});
  usage.prompt_tokens = int_of(prompt);
  usage.completion_tokens = int_of(completion);
  usage.total_tokens = int_of(total);
  read_detail(prompt_details, "cached_tokens", usage.cached_tokens);
  read_detail(completion_details, "reasoning_tokens", usage.reasoning_tokens);
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
  if (auto decided = scan_usage(body, usage, model)) return *decided;
  return extract_usage_by_dom(body, scratch, usage, model);
}

bool extract_usage_by_dom(std::string_view body, JsonScratch& scratch, TokenUsage& usage,
                          std::string& model) {
  dom::element doc;
  if (scratch.parse(body).get(doc) != SUCCESS) return false;
  dom::object object;
  if (doc.get_object().get(object) != SUCCESS) return false;
  const auto [model_field, usage_field] = fields_of<2>(object, {"model", "usage"});
  std::string_view name;
  if (model_field && model_field->get_string().get(name) == SUCCESS) model = std::string(name);
  if (!usage_field) return false;
  return read_usage(*usage_field, usage);
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
