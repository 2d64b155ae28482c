#include "gateway/usage_estimation.hpp"

#include <simdjson.h>

#include "gateway/json_scan.hpp"
#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/encoding.hpp"
#include "sluice/tokenizer/model_map.hpp"

namespace sluice::gateway {

std::int64_t estimate_prompt_tokens(std::string_view body, Operation operation,
                                    std::string_view model, const simdjson::dom::element* parsed) {
  const auto& encoding = tokenizer::encoding_for_model_or(model, tokenizer::o200k_base());
  if (operation == Operation::kChatCompletions) {
    tokenizer::ChatCountOptions options;
    options.encoding = &encoding;
    options.model = model;
    auto count = parsed != nullptr ? tokenizer::count_chat_prompt_tokens(*parsed, options)
                                   : tokenizer::count_chat_prompt_tokens(body, options);
    if (count.ok()) return static_cast<std::int64_t>(count.value().prompt_tokens);
  }
  // Completions and embeddings: the whole body's text is an upper bound good enough to reserve.
  return static_cast<std::int64_t>(encoding.count(body));
}

namespace {
constexpr std::size_t kKeptUnescapedBytes = 256 << 10;
}  // namespace

std::int64_t estimate_scanned_chat_prompt_tokens(const ScannedChatPrompt& prompt,
                                                 std::string_view model) {
  const auto& encoding = tokenizer::encoding_for_model_or(model, tokenizer::o200k_base());
  // Escaped texts are unescaped into one buffer sized for all of them first (a text never grows
  // unescaped), so that no view of it moves.
  thread_local std::string unescaped;
  std::size_t escaped_bytes = 0;
  for (const auto& text : prompt.texts) escaped_bytes += text.escaped ? text.raw.size() : 0;
  unescaped.clear();
  unescaped.reserve(escaped_bytes);
  boost::container::small_vector<std::string_view, 8> texts;
  texts.reserve(prompt.texts.size());
  for (const auto& text : prompt.texts) {
    if (!text.escaped) {
      texts.push_back(text.raw);
      continue;
    }
    const std::size_t start = unescaped.size();
    append_unescaped(unescaped, text.raw);
    texts.push_back(std::string_view(unescaped).substr(start));
  }
  tokenizer::PlainChatPrompt plain;
  plain.texts = texts;
  plain.messages = prompt.messages;
  plain.names = prompt.names;
  plain.function_messages = prompt.function_messages;
  const auto count = tokenizer::count_plain_chat_prompt(plain, encoding, model).prompt_tokens;
  // A worker keeps the buffer for the next prompt, but not the room of one huge prompt for good.
  if (unescaped.capacity() > kKeptUnescapedBytes) std::string().swap(unescaped);
  return static_cast<std::int64_t>(count);
}

std::int64_t estimate_completion_tokens(std::string_view text, std::string_view model) {
  const auto& encoding = tokenizer::encoding_for_model_or(model, tokenizer::o200k_base());
  return static_cast<std::int64_t>(encoding.count(text));
}

void estimate_missing_usage(RequestContext& context, std::string_view request_body) {
  if (context.usage.source == UsageSource::kReported) return;
  std::string_view model = context.response_model.empty()
                               ? std::string_view(context.deployment)
                               : std::string_view(context.response_model);
  auto& usage = context.usage;
  usage.prompt_tokens = context.estimated_prompt_tokens >= 0
                            ? context.estimated_prompt_tokens
                            : estimate_prompt_tokens(request_body, context.target.operation, model);
  usage.completion_tokens = estimate_completion_tokens(context.completion_text, model);
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  usage.source = UsageSource::kEstimated;
}

}  // namespace sluice::gateway
