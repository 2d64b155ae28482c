#pragma once
// Span attributes that repeat from one request to the next (the backend that served, the
// deployment, path and route, the model that answered, the status), encoded once per thread and
// copied into each span: on the request path they are most of a span's attributes, and each costs
// ~40 instructions to encode against a few to copy.
//
// An entry is found by every value it was encoded from, compared by value: settings replaced by a
// reload (even at the same address) give a different key or the same bytes, never stale ones.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/telemetry/span_encoder.hpp"

namespace sluice::gateway {

// `Parts` strings and one number (small values packed by the caller) make a key.
template <std::size_t Parts>
class EncodedAttributeCache {
 public:
  using Texts = std::array<std::string_view, Parts>;

  // Writes into `span` the attributes `encode(SpanEncoder&)` writes for this key: copied from the
  // cache, or encoded straight into the span when the key's numbers did not fit one (nullopt).
  template <class Encode>
  void put(telemetry::SpanEncoder& span, std::optional<std::uint64_t> number, const Texts& texts,
           Encode&& encode) {
    if (!number) {
      encode(span);
      return;
    }
    span.put_encoded_attributes(get(*number, texts, encode));
  }

  // The attributes `encode(SpanEncoder&)` writes for this key, outside any span (what
  // SpanEncoder::put_encoded_attributes takes); `encode` runs on the key's first use only.
  template <class Encode>
  std::string_view get(std::uint64_t number, const Texts& texts, Encode&& encode) {
    const std::uint64_t sizes = sizes_of(texts);
    if (last_ && matches(*last_, number, sizes, texts)) return last_->bytes;
    auto& bucket = buckets_[bucket_of(number, sizes)];
    for (const std::uint32_t index : bucket) {
      const Entry& entry = entries_[index];
      if (matches(entry, number, sizes, texts)) {
        last_ = &entry;
        return entry.bytes;
      }
    }
    // Bounded: a key space that keeps growing (a path with ids in it, say) starts over.
    if (entries_.size() >= kMaxEntries) {
      entries_.clear();
      for (auto& each : buckets_) each.clear();
    }
    last_ = nullptr;  // the vector may move its entries
    telemetry::SpanEncoder encoder(256);
    encode(encoder);
    Entry entry{number, sizes, {}, std::move(encoder.take().bytes)};
    for (std::size_t i = 0; i < Parts; ++i) entry.texts[i] = std::string(texts[i]);
    bucket.push_back(static_cast<std::uint32_t>(entries_.size()));
    entries_.push_back(std::move(entry));
    last_ = &entries_.back();
    return last_->bytes;
  }

 private:
  static_assert(Parts <= 8, "the texts' sizes are packed a byte each into one word");
  // Room for the keys a large gateway has per thread (routes x deployments x operations x the
  // few statuses), found through buckets chosen by the numbers alone, so that neither a look-up
  // nor a miss scans them all.
  static constexpr std::size_t kMaxEntries = 512;
  static constexpr std::size_t kBuckets = 128;
  struct Entry {
    std::uint64_t number;
    std::uint64_t sizes;  // sizes_of(texts)
    std::array<std::string, Parts> texts;
    std::string bytes;
  };

  static_assert(kBuckets == 128, "bucket_of takes seven bits");
  static std::size_t bucket_of(std::uint64_t number, std::uint64_t sizes) {
    const std::uint64_t mixed = (number ^ (sizes * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::size_t>(mixed >> 57);  // the top seven bits: one of kBuckets
  }

  // The texts' sizes a byte each (255 for 255 or more), so that one comparison rules out nearly
  // every other key; texts of 255 bytes or more are also compared by size.
  static std::uint64_t sizes_of(const Texts& texts) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return ((std::uint64_t{texts[I].size() < 255 ? texts[I].size() : 255} << (8 * I)) | ...);
    }
    (std::make_index_sequence<Parts>());
  }

  static bool matches(const Entry& entry, std::uint64_t number, std::uint64_t sizes,
                      const Texts& texts) {
    if (entry.number != number || entry.sizes != sizes) return false;
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (same_text(entry.texts[I], texts[I]) && ...);  // unrolled: no loop per text
    }
    (std::make_index_sequence<Parts>());
  }

  static bool same_text(const std::string& stored, std::string_view text) {
    if (text.size() >= 255 && stored.size() != text.size()) [[unlikely]]
      return false;
    return same_bytes(stored.data(), text.data(), text.size());
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
  std::array<std::vector<std::uint32_t>, kBuckets> buckets_;  // indexes into entries_
  const Entry* last_ = nullptr;  // the entry found last: most requests repeat the one before
};

}  // namespace sluice::gateway
