#include "sim/request.hpp"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/random.hpp"
#include "sluice/core/json_syntax_error.hpp"

namespace sluice::sim {

namespace dom = simdjson::dom;

const char* operation_name(Operation op) {
  switch (op) {
    case Operation::kChatCompletions:
      return "ChatCompletions_Create";
    case Operation::kCompletions:
      return "Completions_Create";
    case Operation::kEmbeddings:
      return "Embeddings_Create";
  }
  return "";
}

namespace {

constexpr std::size_t kMaxEmbeddingInputs = 2048;

RequestError invalid(std::string message, std::string param = {}) {
  return RequestError{std::move(message), std::move(param), {}};
}

// Short rendering of a JSON value for messages ("'abc' is not of type 'integer'").
std::string show(dom::element e) {
  std::string s;
  switch (e.type()) {
    case dom::element_type::STRING:
      s = "'" + std::string(e.get_string().value_unsafe()) + "'";
      break;
    default:
      s = simdjson::minify(e);
  }
  if (s.size() > 80) {
    s.resize(77);
    s += "...";
  }
  return s;
}

// A hash of a JSON value's meaning, whitespace and escapes aside: the walk feeds each value's
// type and content to FNV-1a. It replaces hashing simdjson::minify's text, which built a string of
// the whole value on every request (~1,600 instructions for a one-line chat message). Numbers and
// lengths go in as eight little-endian bytes, so that the hash, and the text generated from it,
// is the same on every platform.
std::uint64_t hash_value(dom::element e, std::uint64_t h) {
  auto word = [&h](std::uint64_t v) {
    char bytes[8];
    for (char& b : bytes) {
      b = static_cast<char>(v & 0xff);
      v >>= 8;
    }
    h = fnv1a(std::string_view(bytes, sizeof bytes), h);
  };
  auto tag = [&h](char t) { h = fnv1a(std::string_view(&t, 1), h); };
  auto text = [&](std::string_view s) {
    word(s.size());  // the length first, so that ["ab","c"] and ["a","bc"] differ
    h = fnv1a(s, h);
  };
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      tag('[');
      // Named: a range-for over get_array().value_unsafe() would iterate a destroyed temporary.
      const dom::array items = e.get_array().value_unsafe();
      for (dom::element x : items) h = hash_value(x, h);
      tag(']');
      break;
    }
    case dom::element_type::OBJECT: {
      tag('{');
      const dom::object fields = e.get_object().value_unsafe();
      for (dom::key_value_pair kv : fields) {
        text(kv.key);
        h = hash_value(kv.value, h);
      }
      tag('}');
      break;
    }
    case dom::element_type::STRING:
      tag('"');
      text(e.get_string().value_unsafe());
      break;
    case dom::element_type::INT64:
      tag('i');
      word(static_cast<std::uint64_t>(e.get_int64().value_unsafe()));
      break;
    case dom::element_type::UINT64:
      tag('u');
      word(e.get_uint64().value_unsafe());
      break;
    case dom::element_type::DOUBLE:
      tag('d');
      word(std::bit_cast<std::uint64_t>(e.get_double().value_unsafe()));
      break;
    case dom::element_type::BOOL:
      tag(e.get_bool().value_unsafe() ? 't' : 'f');
      break;
    case dom::element_type::NULL_VALUE:
      tag('n');
      break;
  }
  return h;
}

std::uint64_t hash_value(dom::element e) {
  return hash_value(e, fnv1a({}));
}

// The top-level fields the inspection reads, found in one pass over the body's keys: simdjson's
// at_key() scans the keys again for every name, ~90 instructions a look-up, and a chat request
// was looked up eight times. Each name's first occurrence counts, as at_key() finds it.
enum class Key {
  kModel,
  kStream,
  kStreamOptions,
  kMaxTokens,
  kMaxCompletionTokens,
  kSeed,
  kN,
  kMessages,
  kPrompt,
  kInput,
  kDimensions,
  kEncodingFormat,
};
constexpr std::array<std::string_view, 12> kKeyNames = {
    "model",    "stream", "stream_options", "max_tokens", "max_completion_tokens", "seed", "n",
    "messages", "prompt", "input",          "dimensions", "encoding_format"};
static_assert(kKeyNames.size() == static_cast<std::size_t>(Key::kEncodingFormat) + 1,
              "a name for every Key, in its order");

class TopFields {
 public:
  explicit TopFields(dom::object body) {
    for (auto [key, value] : body) {
      for (std::size_t i = 0; i < kKeyNames.size(); ++i) {
        if (key != kKeyNames[i]) continue;
        if ((found_ >> i & 1u) == 0) {
          values_[i] = value;
          found_ |= 1u << i;
        }
        break;
      }
    }
  }
  // The field's value, or null when the body has no such key.
  const dom::element* find(Key key) const {
    const auto i = static_cast<std::size_t>(key);
    return (found_ >> i & 1u) != 0 ? &values_[i] : nullptr;
  }
  const char* name(Key key) const { return kKeyNames[static_cast<std::size_t>(key)].data(); }

 private:
  std::array<dom::element, kKeyNames.size()> values_{};
  std::uint32_t found_ = 0;
};

// `found` (null: absent) as an integer of at least `min`; null and absent leave `out` alone.
std::optional<RequestError> read_int(const dom::element* found, const char* key, std::int64_t min,
                                     std::optional<std::int64_t>& out) {
  if (found == nullptr || found->is_null()) return std::nullopt;
  const dom::element e = *found;
  std::int64_t v = 0;
  if (e.is_int64()) {
    v = e.get_int64().value_unsafe();
  } else if (e.is_uint64()) {
    v = INT64_MAX;
  } else if (e.is_double() &&
             e.get_double().value_unsafe() ==
                 static_cast<double>(static_cast<std::int64_t>(e.get_double().value_unsafe()))) {
    v = static_cast<std::int64_t>(e.get_double().value_unsafe());
  } else {
    return invalid(show(e) + " is not of type 'integer' - '" + key + "'", key);
  }
  if (v < min) {
    return invalid(std::to_string(v) + " is less than the minimum of " + std::to_string(min) +
                       " - '" + key + "'",
                   key);
  }
  out = v;
  return std::nullopt;
}

std::optional<RequestError> read_bool(const dom::element* found, const char* key, bool& out) {
  if (found == nullptr || found->is_null()) return std::nullopt;
  const dom::element e = *found;
  if (!e.is_bool()) return invalid(show(e) + " is not of type 'boolean' - '" + key + "'", key);
  out = e.get_bool().value_unsafe();
  return std::nullopt;
}

// Reads `key` of `o` by at_key(), for objects read for one key.
std::optional<RequestError> read_bool(dom::object o, const char* key, bool& out) {
  dom::element e;
  return read_bool(o.at_key(key).get(e) == simdjson::SUCCESS ? &e : nullptr, key, out);
}

std::optional<RequestError> read_int(const TopFields& o, Key key, std::int64_t min,
                                     std::optional<std::int64_t>& out) {
  return read_int(o.find(key), o.name(key), min, out);
}

std::optional<RequestError> common_fields(const TopFields& o, InspectedRequest& r) {
  if (const auto* model = o.find(Key::kModel); model && !model->is_null()) {
    const dom::element e = *model;
    if (!e.is_string()) return invalid(show(e) + " is not of type 'string' - 'model'", "model");
    r.model = std::string(e.get_string().value_unsafe());
  }
  if (auto err = read_bool(o.find(Key::kStream), "stream", r.stream)) return err;
  if (const auto* options = o.find(Key::kStreamOptions); options && !options->is_null()) {
    const dom::element e = *options;
    r.has_stream_options = true;
    if (!e.is_object()) {
      return invalid(show(e) + " is not of type 'object' - 'stream_options'", "stream_options");
    }
    dom::object so = e.get_object().value_unsafe();
    if (auto err = read_bool(so, "include_usage", r.include_usage)) return err;
    if (!r.stream) {
      RequestError err =
          invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                  "stream_options");
      err.code = "invalid_value";
      return err;
    }
  }
  std::optional<std::int64_t> max_tokens;
  if (auto err = read_int(o, Key::kMaxTokens, 1, max_tokens)) return err;
  std::optional<std::int64_t> max_completion_tokens;
  if (auto err = read_int(o, Key::kMaxCompletionTokens, 1, max_completion_tokens)) return err;
  if (max_tokens && max_completion_tokens) {
    RequestError err = invalid(
        "max_tokens and max_completion_tokens cannot both be set. Please use "
        "max_completion_tokens.",
        "max_tokens");
    err.code = "invalid_request_body";
    return err;
  }
  r.max_tokens = max_tokens ? max_tokens : max_completion_tokens;
  if (auto err = read_int(o, Key::kSeed, INT64_MIN, r.seed)) return err;
  std::optional<std::int64_t> n;
  if (auto err = read_int(o, Key::kN, 1, n)) return err;
  if (n) {
    if (*n > 128)
      return invalid(std::to_string(*n) + " is greater than the maximum of 128 - 'n'", "n");
    r.n = static_cast<int>(*n);
  }
  return std::nullopt;
}

std::optional<RequestError> chat_fields(const TopFields& o, InspectedRequest& r) {
  const dom::element* found = o.find(Key::kMessages);
  if (found == nullptr) return invalid("'messages' is a required property", "messages");
  const dom::element messages = *found;
  if (!messages.is_array()) {
    return invalid(show(messages) + " is not of type 'array' - 'messages'", "messages");
  }
  dom::array arr = messages.get_array().value_unsafe();
  if (arr.size() == 0) return invalid("[] is too short - 'messages'", "messages");
  std::size_t i = 0;
  for (dom::element m : arr) {
    // Where in the body, for an error's message only: "messages.<i>".
    auto where = [i] { return "messages." + std::to_string(i); };
    if (!m.is_object()) {
      return invalid(show(m) + " is not of type 'object' - '" + where() + "'", where());
    }
    // Its role and content in one pass over its keys, each the first occurrence, as at_key().
    std::optional<dom::element> role;
    std::optional<dom::element> content;
    // Named: a range-for over get_object().value_unsafe() would iterate a destroyed temporary.
    const dom::object fields = m.get_object().value_unsafe();
    for (auto [key, value] : fields) {
      if (!role && key == "role") {
        role = value;
      } else if (!content && key == "content") {
        content = value;
      }
    }
    if (!role) {
      return invalid("'role' is a required property - '" + where() + "'", where() + ".role");
    }
    std::string_view rv;
    if (!role->is_string() || (rv = role->get_string().value_unsafe(),
                               rv != "system" && rv != "user" && rv != "assistant" &&
                                   rv != "tool" && rv != "function" && rv != "developer")) {
      return invalid(show(*role) +
                         " is not one of ['system', 'assistant', 'user', 'function', 'tool', "
                         "'developer'] - '" +
                         where() + ".role'",
                     where() + ".role");
    }
    if (content && !content->is_null() && !content->is_string() && !content->is_array()) {
      return invalid(
          show(*content) + " is not of type 'string', 'array' - '" + where() + ".content'",
          where() + ".content");
    }
    ++i;
  }
  r.content_hash = hash_value(messages);
  return std::nullopt;
}

std::optional<RequestError> string_or_list(const TopFields& o, Key field, InspectedRequest& r,
                                           bool allow_tokens) {
  const char* key = o.name(field);
  const dom::element* found = o.find(field);
  if (found == nullptr || found->is_null()) {
    return invalid(std::string("'") + key + "' is a required property", key);
  }
  const dom::element e = *found;
  auto bad = [&] {
    return invalid(show(e) + " is not valid under any of the given schemas - '" + key + "'", key);
  };
  if (e.is_string()) {
    r.texts.emplace_back(e.get_string().value_unsafe());
  } else if (e.is_array()) {
    dom::array a = e.get_array().value_unsafe();
    if (a.size() == 0) return invalid(std::string("[] is too short - '") + key + "'", key);
    if (a.size() > kMaxEmbeddingInputs && allow_tokens) {
      return invalid(
          "Too many inputs. The max number of inputs is 2048. We hope to increase the "
          "number of inputs per request soon. Please contact us through an Azure "
          "support request at: https://go.microsoft.com/fwlink/?linkid=2213926 for "
          "further questions.",
          key);
    }
    bool all_ints = true;
    for (dom::element x : a) all_ints = all_ints && (x.is_int64() || x.is_uint64());
    if (all_ints && allow_tokens) {
      r.token_inputs.push_back(a.size());  // one input given as token ids
    } else {
      for (dom::element x : a) {
        if (x.is_string()) {
          r.texts.emplace_back(x.get_string().value_unsafe());
        } else if (x.is_array() && allow_tokens) {
          std::size_t count = 0;
          dom::array tokens = x.get_array().value_unsafe();
          for (dom::element t : tokens) {
            if (!t.is_int64() && !t.is_uint64()) return bad();
            ++count;
          }
          r.token_inputs.push_back(count);
        } else {
          return bad();
        }
      }
    }
  } else {
    return bad();
  }
  r.content_hash = hash_value(e);
  return std::nullopt;
}

std::optional<RequestError> embedding_fields(const TopFields& o, InspectedRequest& r) {
  if (auto err = string_or_list(o, Key::kInput, r, true)) return err;
  for (const auto& t : r.texts) {
    if (t.empty()) {
      return invalid(
          "'$.input' is invalid. Please check the API reference: "
          "https://platform.openai.com/docs/api-reference.",
          "input");
    }
  }
  std::optional<std::int64_t> dims;
  if (auto err = read_int(o, Key::kDimensions, 1, dims)) return err;
  if (dims) r.dimensions = static_cast<int>(std::min<std::int64_t>(*dims, 1'000'000));
  if (const auto* format = o.find(Key::kEncodingFormat); format && !format->is_null()) {
    const dom::element e = *format;
    std::string_view f;
    if (!e.is_string() || (f = e.get_string().value_unsafe(), f != "float" && f != "base64")) {
      return invalid(show(e) + " is not one of ['float', 'base64'] - 'encoding_format'",
                     "encoding_format");
    }
    r.base64 = f == "base64";
  }
  return std::nullopt;
}

}  // namespace

std::variant<InspectedRequest, RequestError> inspect_request(Operation op, std::string_view body) {
  thread_local dom::parser parser;
  if (body.empty()) {
    return invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you "
        "aren't using your HTTP library correctly. The API expects a JSON payload, but "
        "what was sent was not valid JSON: the body is empty.)");
  }
  dom::element root;
  simdjson::padded_string padded(body);
  if (auto ec = parser.parse(padded).get(root); ec != simdjson::SUCCESS) {
    return invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you "
        "aren't using your HTTP library correctly. The API expects a JSON payload, but "
        "what was sent was not valid JSON: " +
        core::locate_json_syntax_error(body).value_or("invalid JSON") + ".)");
  }
  if (!root.is_object()) {
    return invalid(show(root) + " is not of type 'object'");
  }
  const TopFields o(root.get_object().value_unsafe());
  InspectedRequest r;
  if (auto err = common_fields(o, r)) return *err;
  std::optional<RequestError> err;
  switch (op) {
    case Operation::kChatCompletions:
      err = chat_fields(o, r);
      break;
    case Operation::kCompletions:
      err = string_or_list(o, Key::kPrompt, r, false);
      break;
    case Operation::kEmbeddings:
      err = embedding_fields(o, r);
      break;
  }
  if (err) return *err;
  if (r.seed) r.content_hash = mix_seed(r.content_hash, static_cast<std::uint64_t>(*r.seed));
  r.document = root;
  return r;
}

}  // namespace sluice::sim
