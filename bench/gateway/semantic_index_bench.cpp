// What a semantic cache look-up costs at 100,000 entries, in process: the HNSW search of one
// partition holding N answers (default 100,000) whose questions were embedded by the simulator's
// embeddings at its model's dimension (1536, text-embedding-3-small), and the memory those
// entries take (resident set before and after, 600-byte answers). The embedding call is not part
// of it (bench/gateway/cache.sh measures that through the gateway).
//   build-*/bench_semantic_index [entries] [dimensions] [lookups]
// Prints: semantic-index: entries=N dims=D build_s=.. lookup_us p50=.. p90=.. p99=.. cpu_p50=..
//         hit_ratio=.. rss_mib=.. per_100k_mib=.. charged_per_100k_mib=..
// lookup_us is wall time; cpu_p50 the look-up thread's CPU time, which a busy machine moves less.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/policies/cache/semantic_index.hpp"
#include "sim/embeddings.hpp"

namespace {

using namespace sluice::gateway::cache;
using Clock = std::chrono::steady_clock;

// This thread's CPU time: what a look-up costs, whatever else the machine is doing.
double thread_cpu_micros() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// Many different questions from a few word lists, as users would ask them.
std::string question(std::size_t i) {
  static const char* asks[] = {"What is", "Explain",       "How does",  "Describe",
                               "Why is",  "Tell me about", "Summarise", "Compare"};
  static const char* subjects[] = {"the capital", "the history",    "the climate",
                                   "the economy", "the population", "the language",
                                   "the cuisine", "the music",      "the railway",
                                   "the river",   "the government", "the coastline"};
  static const char* places[] = {"France",  "Spain",  "Kenya",   "Peru",  "Japan", "Norway",
                                 "Chile",   "Egypt",  "Canada",  "India", "Ghana", "Poland",
                                 "Vietnam", "Mexico", "Iceland", "Nepal"};
  const std::size_t a = i % 8, s = (i / 8) % 12, p = (i / 96) % 16;
  return std::string(asks[a]) + " " + subjects[s] + " of " + places[p] + " in year " +
         std::to_string(1000 + i / 1536) + "?";
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t entries = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  const int dims = argc > 2 ? std::atoi(argv[2]) : 1536;
  const std::size_t lookups = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2'000;
  CacheStats stats;
  const auto now = Clock::now();
  auto answer = std::make_shared<CachedAnswer>();
  answer->body.assign(600, 'x');
  answer->model = "gpt-4o-2024-08-06";
  answer->stored_at = now;

  const long rss_before = rss_kib();
  auto index = std::make_unique<SemanticIndex>(entries, std::uint64_t{1} << 40, stats);
  const auto build_started = Clock::now();
  for (std::size_t i = 0; i < entries; ++i) {
    auto vector = sluice::sim::embed_text(question(i), dims, 1);
    // Each entry gets its own answer, as in the cache.
    index->insert("partition", vector, std::make_shared<CachedAnswer>(*answer),
                  now + std::chrono::hours(1));
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - build_started).count();
  const long rss_after = rss_kib();

  // Look-ups: paraphrases of stored questions (a word changed), so most are hits.
  std::vector<std::vector<float>> queries;
  for (std::size_t i = 0; i < lookups; ++i) {
    auto text = question((i * 7919) % entries);
    text.replace(0, text.find(' '), "Please");
    queries.push_back(sluice::sim::embed_text(text, dims, 1));
  }
  std::vector<double> micros, cpu_micros;
  std::size_t hits = 0;
  for (const auto& q : queries) {
    auto started = Clock::now();
    auto cpu_started = thread_cpu_micros();
    auto match = index->find("partition", q, 0.9, now);
    cpu_micros.push_back(thread_cpu_micros() - cpu_started);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
    hits += match.has_value();
  }
  std::sort(micros.begin(), micros.end());
  std::sort(cpu_micros.begin(), cpu_micros.end());
  auto at = [&](double q) { return micros[static_cast<std::size_t>(q * (micros.size() - 1))]; };
  auto cpu_p50 = cpu_micros[cpu_micros.size() / 2];
  const double rss_mib = (rss_after - rss_before) / 1024.0;
  std::printf(
      "semantic-index: entries=%zu dims=%d build_s=%.1f lookup_us p50=%.0f p90=%.0f p99=%.0f "
      "cpu_p50=%.0f hit_ratio=%.2f rss_mib=%.1f per_100k_mib=%.1f charged_per_100k_mib=%.1f\n",
      entries, dims, build_s, at(0.5), at(0.9), at(0.99), cpu_p50,
      static_cast<double>(hits) / static_cast<double>(queries.size()), rss_mib,
      rss_mib * 100'000.0 / static_cast<double>(entries),
      static_cast<double>(index->bytes()) / 1048576.0 * 100'000.0 / static_cast<double>(entries));
  return 0;
}
