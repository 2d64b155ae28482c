#include "sim/embeddings.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

#include "sim/base64.hpp"
#include "sim/random.hpp"

namespace sluice::sim {

namespace {
void add_feature(std::vector<double>& acc, std::string_view feature, double weight,
                 std::uint64_t seed) {
  std::uint64_t h = fnv1a(feature, 0xcbf29ce484222325ULL ^ seed);
  Rng rng(h);
  const std::uint64_t n = acc.size();
  for (int k = 0; k < 3; ++k) {
    std::uint64_t r = rng.next();
    double sign = (r >> 63) ? -1.0 : 1.0;
    acc[(r >> 1) % n] += sign * weight;
  }
}
}  // namespace

std::vector<float> embed_text(std::string_view text, int dimensions, std::uint64_t seed) {
  const std::size_t n = dimensions > 0 ? static_cast<std::size_t>(dimensions) : 1;
  std::vector<double> acc(n, 0.0);
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    add_feature(acc, word, 1.0, seed);
    std::string padded = " " + word + " ";
    for (std::size_t i = 0; i + 3 <= padded.size(); ++i) {
      add_feature(acc, std::string_view(padded).substr(i, 3), 0.5, seed + 1);
    }
    word.clear();
  };
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
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
