#include "sim/wire.hpp"

#include "sluice/core/json_string.hpp"

#include <charconv>
#include <cstring>
#include <random>

#include "sim/embeddings.hpp"
#include "sim/random.hpp"

namespace sluice::sim {

void append_json_string(std::string& out, std::string_view s) {
  core::append_json_string(out, s);
}

namespace {
constexpr std::string_view kFilterSafe =
    R"({"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}})";
constexpr std::string_view kPromptFilter =
    R"("prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}])";

// By (pointer, length): append(first, last) goes through std::string's generic _M_replace (~70
// instructions); this runs several times for every simulated response.
void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_usage(std::string& out, const Usage& u, bool details) {
  out += R"("usage":{"completion_tokens":)";
  append_int(out, u.completion_tokens);
  if (details) {
    out +=
        R"(,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0})";
  }
  out += R"(,"prompt_tokens":)";
  append_int(out, u.prompt_tokens);
  if (details) out += R"(,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0})";
  out += R"(,"total_tokens":)";
  append_int(out, u.prompt_tokens + u.completion_tokens);
  out += '}';
}

// "created":…,"id":…,"model":…,"object":…
void append_head(std::string& out, const CompletionMeta& m, std::string_view object) {
  out += R"("created":)";
  append_int(out, m.created);
  out += R"(,"id":)";
  append_json_string(out, m.id);
  out += R"(,"model":)";
  append_json_string(out, m.model);
  out += R"(,"object":")";
  out += object;
  out += '"';
}

void append_fingerprint(std::string& out, const CompletionMeta& m) {
  out += R"("system_fingerprint":)";
  append_json_string(out, m.system_fingerprint);
}
}  // namespace

namespace {
// Chat and legacy completions share everything but the choice's payload and the object name.
std::string completion_body(const CompletionMeta& meta, const std::vector<ChoiceText>& choices,
                            const Usage& usage, bool chat) {
  // The fixed parts come to ~1,100 bytes with one choice; with room for each choice's text and
  // its escapes, the string is allocated once and never grows (1,024 bytes made it grow once).
  std::size_t size = 1280;
  for (const ChoiceText& c : choices) size += 640 + c.text.size() + c.text.size() / 8;
  std::string out;
  out.reserve(size);
  out += R"({"choices":[)";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i) out += ',';
    out += R"({"content_filter_results":)";
    out += kFilterSafe;
    out += R"(,"finish_reason":")";
    out += choices[i].finish_reason;
    out += R"(","index":)";
    append_int(out, static_cast<std::int64_t>(i));
    if (chat) {
      out += R"(,"logprobs":null,"message":{"annotations":[],"content":)";
      append_json_string(out, choices[i].text);
      out += R"(,"refusal":null,"role":"assistant"}})";
    } else {
      out += R"(,"logprobs":null,"text":)";
      append_json_string(out, choices[i].text);
      out += '}';
    }
  }
  out += "],";
  append_head(out, meta, chat ? "chat.completion" : "text_completion");
  out += ',';
  out += kPromptFilter;
  out += ',';
  append_fingerprint(out, meta);
  out += ',';
  append_usage(out, usage, chat && meta.usage_details);
  out += '}';
  return out;
}
}  // namespace

std::string chat_completion_body(const CompletionMeta& meta, const std::vector<ChoiceText>& choices,
                                 const Usage& usage) {
  return completion_body(meta, choices, usage, true);
}

std::string text_completion_body(const CompletionMeta& meta, const std::vector<ChoiceText>& choices,
                                 const Usage& usage) {
  return completion_body(meta, choices, usage, false);
}

std::string sse_prompt_filter_chunk() {
  std::string out = R"(data: {"choices":[],"created":0,"id":"","model":"","object":"",)";
  out += kPromptFilter;
  out += "}\n\n";
  return out;
}

namespace {
// ,"finish_reason":…,"index":…,"logprobs":null — shared by every streamed choice.
void append_finish_index(std::string& out, const char* finish_reason, int index) {
  out += R"(,"finish_reason":)";
  if (finish_reason) {
    out += '"';
    out += finish_reason;
    out += '"';
  } else {
    out += "null";
  }
  out += R"(,"index":)";
  append_int(out, index);
  out += R"(,"logprobs":null)";
}

std::string chunk(const CompletionMeta& meta, int index, std::string_view filter,
                  std::string_view delta, const char* finish_reason) {
  std::string out;
  out.reserve(512);
  out += R"(data: {"choices":[{"content_filter_results":)";
  out += filter;
  out += R"(,"delta":)";
  out += delta;
  append_finish_index(out, finish_reason, index);
  out += "}],";
  append_head(out, meta, "chat.completion.chunk");
  out += ',';
  append_fingerprint(out, meta);
  out += "}\n\n";
  return out;
}
}  // namespace

std::string sse_role_chunk(const CompletionMeta& meta, int index) {
  return chunk(meta, index, "{}", R"({"content":"","refusal":null,"role":"assistant"})", nullptr);
}

std::string sse_content_chunk(const CompletionMeta& meta, int index, std::string_view content) {
  std::string delta = R"({"content":)";
  append_json_string(delta, content);
  delta += '}';
  return chunk(meta, index, kFilterSafe, delta, nullptr);
}

std::string sse_finish_chunk(const CompletionMeta& meta, int index, const char* finish_reason) {
  return chunk(meta, index, "{}", "{}", finish_reason);
}

std::string sse_usage_chunk(const CompletionMeta& meta, const Usage& usage,
                            std::string_view object) {
  std::string out = R"(data: {"choices":[],)";
  append_head(out, meta, object);
  out += ',';
  append_fingerprint(out, meta);
  out += ',';
  append_usage(out, usage, meta.usage_details);
  out += "}\n\n";
  return out;
}

std::string sse_text_chunk(const CompletionMeta& meta, int index, std::string_view text,
                           const char* finish_reason) {
  std::string out = R"(data: {"choices":[{"content_filter_results":)";
  out += finish_reason ? std::string_view("{}") : kFilterSafe;
  append_finish_index(out, finish_reason, index);
  out += R"(,"text":)";
  append_json_string(out, text);
  out += "}],";
  append_head(out, meta, "text_completion");
  out += ',';
  append_fingerprint(out, meta);
  out += "}\n\n";
  return out;
}

std::string embeddings_body(std::string_view model, const std::vector<std::vector<float>>& vectors,
                            bool base64, std::int64_t prompt_tokens) {
  std::string out;
  std::size_t dims = vectors.empty() ? 0 : vectors[0].size();
  out.reserve(64 + vectors.size() * (dims * (base64 ? 6 : 12) + 64));
  out += R"({"object":"list","data":[)";
  char buf[32];
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (i) out += ',';
    out += R"({"object":"embedding","index":)";
    append_int(out, static_cast<std::int64_t>(i));
    out += R"(,"embedding":)";
    if (base64) {
      out += '"';
      out += embedding_base64(vectors[i]);
      out += '"';
    } else {
      out += '[';
      for (std::size_t k = 0; k < vectors[i].size(); ++k) {
        if (k) out += ',';
        auto r = std::to_chars(buf, buf + sizeof buf, vectors[i][k]);
        out.append(buf, static_cast<std::size_t>(r.ptr - buf));
      }
      out += ']';
    }
    out += '}';
  }
  out += R"(],"model":)";
  append_json_string(out, model);
  out += R"(,"usage":{"prompt_tokens":)";
  append_int(out, prompt_tokens);
  out += R"(,"total_tokens":)";
  append_int(out, prompt_tokens);
  out += "}}";
  return out;
}

std::string azure_error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":)";
  append_json_string(out, code);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}}";
  return out;
}

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view param, std::string_view code) {
  std::string out = R"({"error":{"message":)";
  append_json_string(out, message);
  out += R"(,"type":)";
  append_json_string(out, type);
  out += R"(,"param":)";
  if (param.empty()) {
    out += "null";
  } else {
    append_json_string(out, param);
  }
  out += R"(,"code":)";
  if (code.empty()) {
    out += "null";
  } else {
    append_json_string(out, code);
  }
  out += "}}";
  return out;
}

namespace {
Rng& thread_rng() {
  thread_local Rng rng([] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }());
  return rng;
}
}  // namespace

// Sized once and filled in place: appending a character at a time, with a 64-bit division per
// character for the alphabet, was ~1,350 instructions of a ~39,000-instruction simulated answer.
// Each draw gives ten 6-bit indexes; the two of 64 that fall outside the alphabet are skipped,
// so every character stays equally likely.
std::string random_id(std::string_view prefix, std::size_t length) {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(prefix.size() + length, '\0');
  std::memcpy(out.data(), prefix.data(), prefix.size());
  char* at = out.data() + prefix.size();
  char* const end = at + length;
  Rng& rng = thread_rng();
  while (at != end) {
    std::uint64_t bits = rng.next();
    for (int chunk = 0; chunk < 10 && at != end; ++chunk, bits >>= 6) {
      const auto index = static_cast<unsigned>(bits & 63);
      if (index < 62) *at++ = kAlnum[index];
    }
  }
  return out;
}

// Version 4, variant 10xx, lower-case, written in place: the hex digits of two random words, most
// significant first, with the version digit (12) and the variant's two bits (of digit 16) set.
// One is made for every simulated request; digit by digit, with the position tests in the loop,
// it was ~740 instructions.
std::string random_uuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  Rng& rng = thread_rng();
  const std::uint64_t high = (rng.next() & ~(0xFull << 12)) | (0x4ull << 12);
  const std::uint64_t low = (rng.next() & ~(0x3ull << 62)) | (0x2ull << 62);
  std::string out(36, '-');
  char* at = out.data();
  auto digits = [&at](std::uint64_t word, int first, int count) {
    for (int k = first; k < first + count; ++k) *at++ = kHex[(word >> (60 - 4 * k)) & 15];
  };
  digits(high, 0, 8);
  ++at;  // the dashes are there already
  digits(high, 8, 4);
  ++at;
  digits(high, 12, 4);
  ++at;
  digits(low, 0, 4);
  ++at;
  digits(low, 4, 12);
  return out;
}

}  // namespace sluice::sim
