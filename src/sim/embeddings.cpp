#include "sim/embeddings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <optional>

#include "sim/base64.hpp"
#include "sim/random.hpp"

namespace sluice::sim {

namespace {

// Words that carry little meaning: left out, so "What is the capital of France?" and "Tell me
// the capital of France" share their meaningful words and nothing else decides. Light on
// purpose: negations and content words stay.
constexpr std::array<std::string_view, 46> kStopWords = {
    "a",     "about", "an",    "and", "are",  "as",   "at",  "be",  "by",     "can",
    "could", "do",    "does",  "for", "from", "give", "how", "i",   "in",     "is",
    "it",    "its",   "me",    "my",  "of",   "on",   "or",  "our", "please", "s",
    "show",  "tell",  "that",  "the", "this", "to",   "us",  "was", "we",     "what",
    "whats", "which", "would", "you", "your", "with"};

bool is_stop_word(std::string_view word) {
  return std::find(kStopWords.begin(), kStopWords.end(), word) != kStopWords.end();
}

// Feature weights: whole words decide most, adjacent word pairs add word order, character
// n-grams make inflections (fox/foxes, jump/jumped) and typos land close.
constexpr double kWordWeight = 1.0;
constexpr double kBigramWeight = 0.5;
constexpr double kTrigramWeight = 0.25;
constexpr double kFourgramWeight = 0.2;

// The hashing trick: each feature adds ±weight at two positions picked by its hash.
void add_feature(std::vector<double>& acc, std::string_view feature, double weight,
                 std::uint64_t seed) {
  std::uint64_t h = fnv1a(feature, 0xcbf29ce484222325ULL ^ seed);
  Rng rng(h);
  const std::uint64_t n = acc.size();
  for (int k = 0; k < 2; ++k) {
    std::uint64_t r = rng.next();
    double sign = (r >> 63) ? -1.0 : 1.0;
    acc[(r >> 1) % n] += sign * weight;
  }
}

// Lower-cased words (letters, digits, any non-ASCII byte), apostrophes dropped inside a word.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else if (c == '\'' && !word.empty()) {
      continue;  // what's -> whats, don't -> dont
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// A light stemmer: plural and tense endings go, so "locks work" and "lock works" share words.
std::string stem(const std::string& word) {
  auto strip = [&](std::string_view suffix,
                   std::size_t keep_at_least) -> std::optional<std::string> {
    if (word.size() >= suffix.size() + keep_at_least && word.ends_with(suffix)) {
      return word.substr(0, word.size() - suffix.size());
    }
    return std::nullopt;
  };
  if (auto s = strip("ing", 3)) return *s;
  if (auto s = strip("ed", 3)) return *s;
  if (auto s = strip("es", 3);
      s && (s->ends_with('x') || s->ends_with("sh") || s->ends_with("ch"))) {
    return *s;
  }
  if (!word.ends_with("ss")) {
    if (auto s = strip("s", 3)) return *s;
  }
  return word;
}

void add_character_ngrams(std::vector<double>& acc, const std::string& word, std::uint64_t seed) {
  std::string padded = " " + word + " ";
  for (std::size_t i = 0; i + 3 <= padded.size(); ++i) {
    add_feature(acc, std::string_view(padded).substr(i, 3), kTrigramWeight, seed + 2);
  }
  for (std::size_t i = 0; i + 4 <= padded.size(); ++i) {
    add_feature(acc, std::string_view(padded).substr(i, 4), kFourgramWeight, seed + 3);
  }
}

}  // namespace

std::vector<float> embed_text(std::string_view text, int dimensions, std::uint64_t seed) {
  const std::size_t n = dimensions > 0 ? static_cast<std::size_t>(dimensions) : 1;
  std::vector<double> acc(n, 0.0);
  auto words = words_of(text);
  std::vector<std::string> content;
  for (auto& w : words) {
    if (!is_stop_word(w)) content.push_back(std::move(w));
  }
  // A text of stop words only ("what is it?") still has meaning to compare: keep them all.
  if (content.empty()) content = words_of(text);
  std::vector<std::string> stems;
  for (const auto& w : content) stems.push_back(stem(w));
  for (std::size_t i = 0; i < content.size(); ++i) {
    add_feature(acc, stems[i], kWordWeight, seed);
    if (i + 1 < content.size()) {
      add_feature(acc, stems[i] + ' ' + stems[i + 1], kBigramWeight, seed + 1);
    }
    add_character_ngrams(acc, content[i], seed);
  }
  double norm = 0.0;
  for (double x : acc) norm += x * x;
  if (norm == 0.0) {
    // No words at all: a fixed direction, still a unit vector.
    add_feature(acc, "\x01empty", 1.0, seed);
    norm = 0.0;
    for (double x : acc) norm += x * x;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(acc[i] / norm);
  return out;
}

double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0.0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0.0;
  return dot / std::sqrt(na * nb);
}

std::string embedding_base64(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    bytes[i * 4 + 0] = static_cast<char>(bits & 0xff);
    bytes[i * 4 + 1] = static_cast<char>((bits >> 8) & 0xff);
    bytes[i * 4 + 2] = static_cast<char>((bits >> 16) & 0xff);
    bytes[i * 4 + 3] = static_cast<char>((bits >> 24) & 0xff);
  }
  return base64_encode(bytes);
}

}  // namespace sluice::sim
