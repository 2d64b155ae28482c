// Single-thread throughput of sluice's tokenizer on a corpus file, and where the time goes:
//   split     pre-tokenization only (the hand-written pat_str splitter)
//   lookup    split + one rank lookup per piece (most pieces are whole tokens)
//   count     the full encoding, counting tokens (what the gateway does)
//   encode    the full encoding into a vector of ids
//   linear    the full count of 1 MiB and 4 MiB of one adversarial kind of text (a run of one
//             letter, of spaces, of digits, of one CJK character, random bytes); the 4 MiB / 1 MiB
//             time ratio shows whether the cost is linear (4.0) or worse
// merge time = count - lookup; lookup time = lookup - split.
//
// Usage: sluice_tokenizer_bench CORPUS_FILE [google-benchmark flags]
// bench/tokenizer/run.sh builds the corpus, runs this and npm tiktoken, and prints the ratios.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/rank_table.hpp"

namespace {

using sluice::tokenizer::Encoding;
using sluice::tokenizer::Pattern;
using Ptr = const std::uint8_t*;

std::string g_corpus;

template <class F>
void for_each_piece(const Encoding& enc, F&& f) {
  namespace pt = sluice::tokenizer::pretokenizer;
  const auto* p = reinterpret_cast<Ptr>(g_corpus.data());
  if (enc.pattern() == Pattern::kCl100k) {
    pt::for_each_piece<Pattern::kCl100k>(p, p + g_corpus.size(), f);
  } else {
    pt::for_each_piece<Pattern::kO200k>(p, p + g_corpus.size(), f);
  }
}

void bm_split(benchmark::State& state, const Encoding* enc) {
  for (auto _ : state) {
    std::size_t pieces = 0;
    for_each_piece(*enc, [&](Ptr, Ptr) { ++pieces; });
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_corpus.size()));
}

void bm_lookup(benchmark::State& state, const Encoding* enc,
               const sluice::tokenizer::RankTable* t) {
  for (auto _ : state) {
    std::size_t found = 0;
    for_each_piece(*enc, [&](Ptr b, Ptr e) {
      found += t->find(b, static_cast<std::size_t>(e - b)) != sluice::tokenizer::kNoRank;
    });
    benchmark::DoNotOptimize(found);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_corpus.size()));
}

void bm_count(benchmark::State& state, const Encoding* enc) {
  for (auto _ : state) benchmark::DoNotOptimize(enc->count(g_corpus));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_corpus.size()));
}

void bm_encode(benchmark::State& state, const Encoding* enc) {
  std::vector<sluice::tokenizer::Rank> ids;
  for (auto _ : state) {
    ids.clear();
    enc->encode_ordinary(g_corpus, ids);
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_corpus.size()));
}

std::string adversarial_text(std::string_view kind, std::size_t bytes) {
  std::string unit;
  if (kind == "letter") unit = "a";
  if (kind == "spaces") unit = " ";
  if (kind == "digits") unit = "7";
  if (kind == "cjk") unit = "\xe6\x97\xa5";  // U+65E5
  std::string s;
  s.reserve(bytes + 4);
  if (kind == "random") {
    std::mt19937 rng(42);
    s.resize(bytes);
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  }
  while (s.size() < bytes) s += unit;
  return s;
}

void bm_linear(benchmark::State& state, const Encoding* enc, std::string kind) {
  const std::string text = adversarial_text(kind, static_cast<std::size_t>(state.range(0)) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(enc->count(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_FILE [--benchmark_* flags]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  g_corpus.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());

  for (const Encoding* enc :
       {&sluice::tokenizer::cl100k_base(), &sluice::tokenizer::o200k_base()}) {
    const std::string name(enc->name());
    // Warm up: the long-piece encoder's tables are built on first use, not in a timed run.
    benchmark::DoNotOptimize(enc->count(g_corpus));
    const auto* table = &enc->rank_table();
    // Wall-clock time, as the tiktoken side is measured in the comparison script.
    benchmark::RegisterBenchmark(("split/" + name).c_str(), bm_split, enc)->UseRealTime();
    benchmark::RegisterBenchmark(("lookup/" + name).c_str(), bm_lookup, enc, table)->UseRealTime();
    benchmark::RegisterBenchmark(("count/" + name).c_str(), bm_count, enc)->UseRealTime();
    benchmark::RegisterBenchmark(("encode/" + name).c_str(), bm_encode, enc)->UseRealTime();
    for (const char* kind : {"letter", "spaces", "digits", "cjk", "random"}) {
      benchmark::RegisterBenchmark(("linear/" + name + "/" + kind).c_str(), bm_linear, enc,
                                   std::string(kind))
          ->Arg(1)
          ->Arg(4)
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.3)
          ->UseRealTime();
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
