#pragma once
// Span attributes that repeat from one request to the next (the backend that served, the
// deployment, the path and route), encoded once per thread and copied into each span: on the
// request path they are a quarter of a span's attributes, and each costs ~40 instructions to
// encode against a few to copy.
//
// An entry is found by every value it was encoded from, compared by value: settings replaced by a
// reload (even at the same address) give a different key or the same bytes, never stale ones.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/telemetry/span_encoder.hpp"

namespace sluice::gateway {

// `Parts` strings and one number (small values packed by the caller) make a key.
template <std::size_t Parts>
class EncodedAttributeCache {
 public:
  using Texts = std::array<std::string_view, Parts>;

  // The attributes `encode(SpanEncoder&)` writes for this key, outside any span (what
  // SpanEncoder::put_encoded_attributes takes); `encode` runs on the key's first use only.
  template <class Encode>
  std::string_view get(std::uint64_t number, const Texts& texts, Encode&& encode) {
    if (last_ < entries_.size() && matches(entries_[last_], number, texts)) {
      return entries_[last_].bytes;
    }
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (matches(entries_[i], number, texts)) {
        last_ = i;
        return entries_[i].bytes;
      }
    }
    // Bounded: a key space that keeps growing (a path with ids in it, say) starts over.
    if (entries_.size() >= kMaxEntries) entries_.clear();
    telemetry::SpanEncoder encoder(256);
    encode(encoder);
    Entry entry{number, {}, std::move(encoder.take().bytes)};
    for (std::size_t i = 0; i < Parts; ++i) entry.texts[i] = std::string(texts[i]);
    last_ = entries_.size();
    entries_.push_back(std::move(entry));
    return entries_.back().bytes;
  }

 private:
  static constexpr std::size_t kMaxEntries = 64;
  struct Entry {
    std::uint64_t number;
    std::array<std::string, Parts> texts;
    std::string bytes;
  };

  static bool matches(const Entry& entry, std::uint64_t number, const Texts& texts) {
    if (entry.number != number) return false;
    for (std::size_t i = 0; i < Parts; ++i) {
      if (entry.texts[i].size() != texts[i].size()) return false;
    }
    for (std::size_t i = 0; i < Parts; ++i) {
      if (!same_bytes(entry.texts[i].data(), texts[i].data(), texts[i].size())) return false;
    }
    return true;
  }

  // Whole words at a time, inline: the texts are names and paths of 3-60 bytes, for which a call
  // to memcmp each (four a look-up) cost more than encoding the attributes did. A text that is
  // not a multiple of the word is covered by two overlapping words.
  template <class Word>
  static Word word(const char* p) {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }
  template <class Word>
  static bool same_ends(const char* a, const char* b, std::size_t size) {
    return word<Word>(a) == word<Word>(b) &&
           word<Word>(a + size - sizeof(Word)) == word<Word>(b + size - sizeof(Word));
  }
  static bool same_bytes(const char* a, const char* b, std::size_t size) {
    if (size >= 8) {
      for (std::size_t i = 0; i + 8 <= size; i += 8) {
        if (word<std::uint64_t>(a + i) != word<std::uint64_t>(b + i)) return false;
      }
      return word<std::uint64_t>(a + size - 8) == word<std::uint64_t>(b + size - 8);
    }
    if (size >= 4) return same_ends<std::uint32_t>(a, b, size);
    if (size >= 2) return same_ends<std::uint16_t>(a, b, size);
    return size == 0 || a[0] == b[0];
  }

  std::vector<Entry> entries_;
  std::size_t last_ = 0;  // the entry found last: most requests repeat the one before
};

}  // namespace sluice::gateway
