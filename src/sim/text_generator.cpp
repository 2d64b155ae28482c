#include "sim/text_generator.hpp"

#include <stdexcept>

#include "sim/random.hpp"

namespace sluice::sim {

namespace {
// Common English words; the constructor keeps those that are one token in every position.
constexpr const char* kWords[] = {
    "the",     "of",      "and",     "to",       "in",        "is",      "that",    "for",
    "it",      "as",      "was",     "with",     "be",        "by",      "on",      "not",
    "he",      "this",    "are",     "or",       "his",       "from",    "at",      "which",
    "but",     "have",    "an",      "had",      "they",      "you",     "were",    "their",
    "one",     "all",     "we",      "can",      "her",       "has",     "there",   "been",
    "if",      "more",    "when",    "will",     "would",     "who",     "so",      "no",
    "time",    "people",  "water",   "river",    "city",      "light",   "system",  "data",
    "model",   "report",  "market",  "team",     "plan",      "service", "value",   "world",
    "small",   "large",   "early",   "late",     "quick",     "simple",  "clear",   "strong",
    "open",    "local",   "public",  "common",   "general",   "special", "recent",  "final",
    "morning", "evening", "road",    "house",    "garden",    "window",  "table",   "paper",
    "music",   "story",   "history", "science",  "energy",    "power",   "network", "signal",
    "result",  "process", "method",  "question", "answer",    "problem", "reason",  "example",
    "number",  "group",   "level",   "order",    "change",    "point",   "line",    "place",
    "build",   "write",   "read",    "move",     "start",     "keep",    "show",    "bring",
    "follow",  "create",  "carry",   "learn",    "measure",   "send",    "receive", "share",
    "across",  "before",  "after",   "under",    "between",   "during",  "without", "within",
    "always",  "often",   "never",   "again",    "still",     "also",    "only",    "very",
    "good",    "new",     "first",   "last",     "long",      "great",   "little",  "own",
    "other",   "old",     "right",   "high",     "different", "next",    "young",   "important",
    "few",     "same",    "able",    "free",     "full",      "real",    "sure",    "human",
    "country", "family",  "company", "program",  "school",    "state",   "office",  "area",
    "door",    "field",   "voice",   "forest",   "mountain",  "island",  "ocean",   "stone",
};
constexpr const char* kPunctuation[] = {".", ","};

std::string capitalise(std::string w) {
  if (!w.empty() && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
  return w;
}
}  // namespace

TextGenerator::TextGenerator(std::shared_ptr<const TokenCount> counter) {
  for (const char* p : kPunctuation) {
    if (counter->count(p) != 1) throw std::runtime_error("tokenizer splits punctuation");
  }
  for (const char* raw : kWords) {
    Word w{std::string(" ") + raw, capitalise(raw), " " + capitalise(raw)};
    if (counter->count(w.spaced) == 1 && counter->count(w.capital) == 1 &&
        counter->count(w.spaced_capital) == 1 && counter->count(w.capital + w.spaced) == 2 &&
        counter->count(w.spaced + ".") == 2 && counter->count(w.spaced + ",") == 2) {
      words_.push_back(std::move(w));
    }
  }
  if (words_.size() < 32) {
    throw std::runtime_error("text generator: only " + std::to_string(words_.size()) +
                             " single-token words for encoding " + counter->encoding());
  }
}

std::vector<std::string_view> TextGenerator::generate(std::size_t tokens, std::uint64_t seed,
                                                      bool end_sentence) const {
  static constexpr std::string_view kStop = ".";
  static constexpr std::string_view kComma = ",";
  std::vector<std::string_view> out;
  out.reserve(tokens);
  Rng rng(seed);
  bool sentence_start = true;
  std::size_t words_in_sentence = 0;
  std::size_t sentence_length = 6 + rng.below(12);
  // Two punctuation marks in a row would merge into one pre-token (",." is one token), so a
  // mark always follows a word.
  for (std::size_t i = 0; i < tokens; ++i) {
    const std::size_t remaining = tokens - i;
    const bool after_mark = !out.empty() && (out.back() == "." || out.back() == ",");
    if (end_sentence && remaining == 1 && !out.empty()) {
      out.push_back(kStop);
      break;
    }
    bool word = sentence_start || after_mark || (end_sentence && remaining == 2);
    if (!word && words_in_sentence >= sentence_length) {
      out.push_back(kStop);
      sentence_start = true;
      words_in_sentence = 0;
      sentence_length = 6 + rng.below(12);
      continue;
    }
    if (!word && words_in_sentence >= 3 && rng.below(9) == 0) {
      out.push_back(kComma);
      continue;
    }
    const Word& w = words_[rng.below(words_.size())];
    if (sentence_start) {
      out.push_back(out.empty() ? w.capital : w.spaced_capital);
    } else {
      out.push_back(w.spaced);
    }
    sentence_start = false;
    ++words_in_sentence;
  }
  return out;
}

std::string TextGenerator::join(const std::vector<std::string_view>& pieces) {
  std::size_t n = 0;
  for (const auto& p : pieces) n += p.size();
  std::string s;
  s.reserve(n);
  for (const auto& p : pieces) s += p;
  return s;
}

}  // namespace sluice::sim
