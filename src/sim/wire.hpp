#pragma once
// Azure OpenAI's bodies, byte for byte in its field order: completions, stream chunks, embeddings
// and error bodies. Built as strings (not through a DOM) because they are the simulator's hot path.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sim {

void append_json_string(std::string& out, std::string_view s);

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

struct ChoiceText {
  std::string text;
  const char* finish_reason = "stop";  // "stop" or "length"
};

struct CompletionMeta {
  std::string id;  // "chatcmpl-…" / "cmpl-…"
  std::int64_t created = 0;
  std::string model;  // versioned model name
  std::string system_fingerprint;
  bool usage_details = true;  // completion/prompt_tokens_details (api-version 2024-09-01-preview+)
};

std::string chat_completion_body(const CompletionMeta& meta, const std::vector<ChoiceText>& choices,
                                 const Usage& usage);
std::string text_completion_body(const CompletionMeta& meta, const std::vector<ChoiceText>& choices,
                                 const Usage& usage);

// Server-sent events, each a complete "data: …\n\n".
std::string sse_prompt_filter_chunk();  // choices [] + prompt_filter_results, empty id/model
std::string sse_role_chunk(const CompletionMeta& meta, int index);
std::string sse_content_chunk(const CompletionMeta& meta, int index, std::string_view content);
std::string sse_finish_chunk(const CompletionMeta& meta, int index, const char* finish_reason);
std::string sse_usage_chunk(const CompletionMeta& meta, const Usage& usage,
                            std::string_view object = "chat.completion.chunk");
std::string sse_text_chunk(const CompletionMeta& meta, int index, std::string_view text,
                           const char* finish_reason /* nullptr while streaming */);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

struct EmbeddingOut {
  std::vector<float> values;
};
std::string embeddings_body(std::string_view model, const std::vector<std::vector<float>>& vectors,
                            bool base64, std::int64_t prompt_tokens);

// {"error":{"code":"…","message":"…"}} — Azure's gateway-level errors (401, 404, 429, 403).
std::string azure_error_body(std::string_view code, std::string_view message);
// {"error":{"message":"…","type":"…","param":…,"code":…}} — the model service's errors (400, 500).
// Empty param/code are written as null.
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view param, std::string_view code);

// Random ids: "chatcmpl-" + 29 alphanumerics, UUIDs for request ids. Any thread.
std::string random_id(std::string_view prefix, std::size_t length);
std::string random_uuid();

}  // namespace sluice::sim
