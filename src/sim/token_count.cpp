#include "sim/token_count.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/encoding.hpp"
#include "sluice/tokenizer/model_map.hpp"
#include "sluice/tokenizer/text_count_memo.hpp"

namespace sluice::sim {

namespace {

class EncodingCount final : public TokenCount {
 public:
  explicit EncodingCount(const tokenizer::Encoding& enc) : enc_(enc), name_(enc.name()) {}

  // Through the thread's memo: a request's prompt and the completion the simulator writes for it
  // (seeded by the prompt) come again whenever a client sends the same prompt again.
  std::size_t count(std::string_view text) const override {
    return tokenizer::TextCountMemo::for_this_thread().count(enc_, text);
  }

  std::optional<std::size_t> chat_prompt(std::string_view body) const override {
    auto counted = tokenizer::count_chat_prompt_tokens(body, options());
    if (!counted) return std::nullopt;
    return counted->prompt_tokens;
  }

  std::optional<std::size_t> chat_prompt(const simdjson::dom::element& request) const override {
    auto counted = tokenizer::count_chat_prompt_tokens(request, options());
    if (!counted) return std::nullopt;
    return counted->prompt_tokens;
  }

  const std::string& encoding() const override { return name_; }

 private:
  tokenizer::ChatCountOptions options() const {
    tokenizer::ChatCountOptions options;
    options.encoding = &enc_;
    return options;
  }

  const tokenizer::Encoding& enc_;
  std::string name_;
};

}  // namespace

std::shared_ptr<const TokenCount> token_count_for_model(std::string_view model) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TokenCount>, std::less<>> cache;
  auto enc = tokenizer::encoding_for_model(model);
  if (!enc) {
    throw std::runtime_error("no tokenizer encoding for model '" + std::string(model) +
                             "': " + enc.error().message);
  }
  std::lock_guard lock(mu);
  const std::string name((*enc)->name());
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto counter = std::make_shared<EncodingCount>(**enc);
  cache.emplace(name, counter);
  return counter;
}

}  // namespace sluice::sim
