// Single-thread throughput of sluice's tokenizer on a corpus file, and where the time goes:
//   split     pre-tokenization only (the hand-written pat_str splitter)
//   lookup    split + one rank lookup per piece (most pieces are whole tokens)
//   count     the full encoding, counting tokens (what the gateway does)
//   encode    the full encoding into a vector of ids
// merge time = count - lookup; lookup time = lookup - split.
//
// Usage: sluice_tokenizer_bench CORPUS_FILE [google-benchmark flags]
// bench/tokenizer/run.sh builds the corpus, runs this and npm tiktoken, and prints the ratios.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <iterator>
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
    const auto* table = &enc->rank_table();
    // Wall-clock time, as the tiktoken side is measured in the comparison script.
    benchmark::RegisterBenchmark(("split/" + name).c_str(), bm_split, enc)->UseRealTime();
    benchmark::RegisterBenchmark(("lookup/" + name).c_str(), bm_lookup, enc, table)->UseRealTime();
    benchmark::RegisterBenchmark(("count/" + name).c_str(), bm_count, enc)->UseRealTime();
    benchmark::RegisterBenchmark(("encode/" + name).c_str(), bm_encode, enc)->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
