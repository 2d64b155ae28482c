#include "openai_response.hpp"

#include <boost/json.hpp>

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
  auto has = [&](std::string_view s) { return model.find(s) != std::string_view::npos; };
  if (has("gpt-4o") || has("gpt-4.1") || has("gpt-5") || has("o1") || has("o3") || has("o4")) {
    return tokenizer::o200k_base();
  }
  if (has("gpt-4") || has("gpt-35") || has("gpt-3.5") || has("text-embedding")) {
    return tokenizer::cl100k_base();
  }
  return tokenizer::o200k_base();
}

std::int64_t count_prompt_tokens(std::string_view body, const tokenizer::Encoding& enc) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return -1;
  const auto& o = v.as_object();
  std::int64_t total = 0;
  if (auto* msgs = o.if_contains("messages"); msgs && msgs->is_array()) {
    for (const auto& m : msgs->as_array()) {
      if (!m.is_object()) continue;
      total += 3;
      for (const auto& kv : m.as_object()) {
        if (kv.value().is_string()) {
          total += static_cast<std::int64_t>(enc.count(kv.value().as_string()));
          if (kv.key() == "name") total += 1;
        } else if (kv.value().is_array()) {  // content parts
          for (const auto& part : kv.value().as_array()) {
            if (auto* po = part.if_object()) {
              if (auto* t = po->if_contains("text"); t && t->is_string()) {
                total += static_cast<std::int64_t>(enc.count(t->as_string()));
              }
            }
          }
        }
      }
    }
    return total + 3;
  }
  if (auto* p = o.if_contains("prompt"); p && p->is_string()) {
    return static_cast<std::int64_t>(enc.count(p->as_string()));
  }
  if (auto* p = o.if_contains("input"); p && p->is_string()) {
    return static_cast<std::int64_t>(enc.count(p->as_string()));
  }
  return -1;
}

}  // namespace sluice::loadgen::detail
