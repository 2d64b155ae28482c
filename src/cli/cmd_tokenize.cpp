// `sluice tokenize`: count or list the tokens of a text, or the prompt tokens of a chat request.
//
// Exit codes: 0 success; 1 the input was rejected (not valid UTF-8, a special token that is not
// allowed, a malformed chat request, an unknown model named in the request); 2 a usage error (an
// unknown --model or --encoding, an unreadable file).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <sys/stat.h>

#include "cli/command.hpp"
#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/encoding.hpp"
#include "sluice/tokenizer/model_map.hpp"
#include "sluice/tokenizer/utf8.hpp"

namespace sluice::cli {
namespace {

constexpr int kInputError = 1;
constexpr int kUsageError = 2;

struct TokenizeOptions {
  std::string encoding;
  std::string model;
  bool ids = false;
  bool count = false;
  bool chat = false;
  bool allow_special = false;
  bool disallow_special = false;
  std::string file = "-";
};

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "sluice tokenize: %s\n", message.c_str());
  return code;
}

// Reads all of the file (or standard input for "-") into out: a regular file in one read of its
// size, anything else in large blocks. Counting a 10 MB file should cost the tokenizer's time,
// not copies of the input.
bool read_input(const std::string& file, std::string& out) {
  std::FILE* in = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (in == nullptr) return false;
  struct stat st {};
  const bool sized = ::fstat(::fileno(in), &st) == 0 && S_ISREG(st.st_mode);
  // One more byte than the size, so that the read that finds the end needs no new buffer.
  std::size_t block = sized ? static_cast<std::size_t>(st.st_size) + 1 : std::size_t{1} << 20;
  std::size_t used = 0;
  bool ok = true;
  for (;;) {
    if (out.size() == used) out.resize(used + block);
    const std::size_t n = std::fread(out.data() + used, 1, out.size() - used, in);
    used += n;
    if (n == 0) {
      ok = std::ferror(in) == 0;
      break;
    }
    block = std::max(block, used);  // grow geometrically when the size was not known
  }
  out.resize(used);
  if (in != stdin) std::fclose(in);
  return ok;
}

void print_ids(const std::vector<tokenizer::Rank>& ids) {
  std::string out;
  out.reserve(ids.size() * 7 + 3);
  out += '[';
  char buf[16];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    const auto r = std::to_chars(buf, buf + sizeof buf, ids[i]);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

int run_tokenize(const TokenizeOptions& opt) {
  const tokenizer::Encoding* encoding = nullptr;
  if (!opt.encoding.empty()) {
    auto e = tokenizer::get_encoding(opt.encoding);
    if (!e) return fail(kUsageError, e.error().message);
    encoding = *e;
  } else if (!opt.model.empty()) {
    auto e = tokenizer::encoding_for_model(opt.model);
    if (!e) return fail(kUsageError, e.error().message);
    encoding = *e;
  }

  std::string input;
  if (!read_input(opt.file, input)) {
    return fail(kUsageError, "cannot read " + (opt.file == "-" ? "standard input" : opt.file) +
                                 ": " + std::strerror(errno));
  }
  const std::string source = opt.file == "-" ? "standard input" : opt.file;

  if (opt.chat) {
    tokenizer::ChatCountOptions chat;
    chat.encoding = encoding;
    chat.model = opt.model;
    auto counted = tokenizer::count_chat_prompt_tokens(input, chat);
    if (!counted) return fail(kInputError, source + ": " + counted.error().message);
    std::printf("%zu\n", counted->prompt_tokens);
    return 0;
  }

  if (const auto bad = tokenizer::find_invalid_utf8(input)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(input[*bad]));
    return fail(kInputError,
                source + ": not valid UTF-8: byte " + byte + " at offset " + std::to_string(*bad));
  }
  if (encoding == nullptr) encoding = &tokenizer::o200k_base();

  std::vector<tokenizer::Rank> ids;
  if (opt.allow_special || opt.disallow_special) {
    const auto allowed =
        opt.allow_special ? tokenizer::SpecialTokenSet::all() : tokenizer::SpecialTokenSet::none();
    auto encoded = encoding->encode(input, allowed);
    if (!encoded) return fail(kInputError, source + ": " + encoded.error().message);
    ids = std::move(encoded).value();
  } else if (opt.ids) {
    ids = encoding->encode_ordinary(input);
  } else {
    std::printf("%zu\n", encoding->count(input));
    return 0;
  }
  if (opt.ids) {
    print_ids(ids);
  } else {
    std::printf("%zu\n", ids.size());
  }
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& root) {
  auto opt = std::make_shared<TokenizeOptions>();
  CLI::App* app = root.add_subcommand(
      "tokenize",
      "Count tokens exactly as OpenAI's tiktoken does (cl100k_base, o200k_base, o200k_harmony). "
      "Prints the token count by default. Special-token text such as <|endoftext|> is ordinary "
      "text unless --allow-special is given. Exit codes: 1 rejected input (invalid UTF-8 with its "
      "byte offset, a disallowed special token, a malformed chat request), 2 usage error.");
  auto* encoding = app->add_option("--encoding,-e", opt->encoding,
                                   "Encoding: cl100k_base, o200k_base or o200k_harmony "
                                   "(default: o200k_base, or the model's)");
  auto* model =
      app->add_option("--model,-m", opt->model,
                      "Model name (gpt-4o, gpt-4, gpt-35-turbo, ...) choosing the encoding "
                      "and, with --chat, the message rule");
  encoding->excludes(model);
  auto* ids = app->add_flag("--ids", opt->ids, "Print the token ids as a JSON array");
  auto* count = app->add_flag("--count", opt->count, "Print the number of tokens (the default)");
  auto* chat =
      app->add_flag("--chat", opt->chat,
                    "Read a chat completion request body (JSON) and print its prompt "
                    "tokens; the model comes from --model, else --encoding, else the body");
  ids->excludes(count)->excludes(chat);
  count->excludes(chat);
  auto* allow = app->add_flag("--allow-special", opt->allow_special,
                              "Encode special-token text as the special tokens");
  auto* disallow = app->add_flag("--disallow-special", opt->disallow_special,
                                 "Reject input containing special-token text (exit 1), as "
                                 "tiktoken's encode() does by default");
  allow->excludes(disallow);
  app->add_option("file", opt->file, "Input file (default: standard input)");
  return Command{app, [opt] { return run_tokenize(*opt); }};
}

}  // namespace sluice::cli
