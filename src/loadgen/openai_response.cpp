#include "openai_response.hpp"

#include <boost/json.hpp>

#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/model_map.hpp"

namespace sluice::loadgen::detail {
namespace json = boost::json;
namespace {

void read_usage(const json::object& o, OpenAiTally& tally) {
  auto* usage = o.if_contains("usage");
  if (!usage || !usage->is_object()) return;
  const auto& u = usage->as_object();
  if (auto* p = u.if_contains("prompt_tokens"); p && p->is_number()) {
    tally.prompt_tokens = p->to_number<std::int64_t>();
  }
  if (auto* c = u.if_contains("completion_tokens"); c && c->is_number()) {
    tally.completion_tokens = c->to_number<std::int64_t>();
  }
}

void read_error(const json::object& o, OpenAiTally& tally) {
  auto* err = o.if_contains("error");
  if (!err || !err->is_object()) return;
  tally.saw_error = true;
  if (auto* m = err->as_object().if_contains("message"); m && m->is_string()) {
    tally.error_message = std::string(m->as_string());
  }
}

}  // namespace

bool read_stream_event(std::string_view data, OpenAiTally& tally) {
  if (data == "[DONE]" || data.empty()) return false;
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  read_usage(o, tally);
  read_error(o, tally);
  auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array()) return false;
  bool content = false;
  for (const auto& choice : choices->as_array()) {
    const auto* c = choice.if_object();
    if (!c) continue;
    const json::value* piece = nullptr;
    if (auto* delta = c->if_contains("delta"); delta && delta->is_object()) {
      piece = delta->as_object().if_contains("content");
    } else {
      piece = c->if_contains("text");
    }
    if (piece && piece->is_string() && !piece->as_string().empty()) {
      tally.text.append(piece->as_string().data(), piece->as_string().size());
      content = true;
    }
  }
  return content;
}

void read_whole_response(std::string_view body, OpenAiTally& tally) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return;
  const auto& o = v.as_object();
  read_usage(o, tally);
  read_error(o, tally);
  auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array()) return;
  for (const auto& choice : choices->as_array()) {
    const auto* c = choice.if_object();
    if (!c) continue;
    if (auto* m = c->if_contains("message"); m && m->is_object()) {
      if (auto* t = m->as_object().if_contains("content"); t && t->is_string()) {
        tally.text.append(t->as_string().data(), t->as_string().size());
      }
    } else if (auto* t = c->if_contains("text"); t && t->is_string()) {
      tally.text.append(t->as_string().data(), t->as_string().size());
    }
  }
}

const tokenizer::Encoding& encoding_for_model(std::string_view model) {
  return tokenizer::encoding_for_model_or(model, tokenizer::o200k_base());
}

std::int64_t count_prompt_tokens(std::string_view body, const tokenizer::Encoding& enc) {
  tokenizer::ChatCountOptions options;
  options.encoding = &enc;
  if (auto chat = tokenizer::count_chat_prompt_tokens(body, options)) {
    return static_cast<std::int64_t>(chat->prompt_tokens);
  }
  // Not a chat request: a completions prompt or an embeddings input.
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return -1;
  for (const char* key : {"prompt", "input"}) {
    if (auto* p = v.as_object().if_contains(key); p && p->is_string()) {
      return static_cast<std::int64_t>(enc.count(p->as_string()));
    }
  }
  return -1;
}

}  // namespace sluice::loadgen::detail
