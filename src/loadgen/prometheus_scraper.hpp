#pragma once
// Scrapes Prometheus text-format endpoints during a run (server-side metrics), on its own thread
// with its own event loop, so a slow endpoint never delays the load. Private to sluice_loadgen.
#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/http/client.hpp"
#include "sluice/loadgen/engine.hpp"

namespace sluice::loadgen {

// Parses one exposition-format body; calls f(series, value) for each sample line whose family
// passes `keep`. series is "name{labels}" as written (labels kept in their order).
template <class Keep, class F>
void parse_prometheus_text(std::string_view text, Keep&& keep, F&& f);

class PrometheusScraper {
 public:
  PrometheusScraper(std::vector<ScrapeTarget> targets, http::ClientSettings client);
  ~PrometheusScraper();
  void start();
  void stop();
  std::vector<ScrapedSeries> take_series();

 private:
  http::Task<void> scrape_loop(std::size_t target_index);
  std::vector<ScrapeTarget> targets_;
  http::ClientSettings client_;
  http::asio::io_context ioc_{1};
  std::unique_ptr<http::ClientPool> pool_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<ScrapedSeries> series_;
  std::vector<std::string> errors_;
};

// Whether a metric family name matches one of `patterns` (exact, or prefix when ending in '*').
bool metric_selected(std::string_view family, const std::vector<std::string>& patterns);

template <class Keep, class F>
void parse_prometheus_text(std::string_view text, Keep&& keep, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' && line[name_end] != ' ') ++name_end;
    std::string_view family = line.substr(0, name_end);
    std::size_t series_end = name_end;
    if (series_end < line.size() && line[series_end] == '{') {
      // Label values may contain '}' inside quotes.
      bool quoted = false;
      for (++series_end; series_end < line.size(); ++series_end) {
        char c = line[series_end];
        if (c == '\\') {
          ++series_end;
        } else if (c == '"') {
          quoted = !quoted;
        } else if (c == '}' && !quoted) {
          ++series_end;
          break;
        }
      }
    }
    std::string_view series = line.substr(0, series_end);
    std::string_view rest = line.substr(std::min(series_end, line.size()));
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    auto space = rest.find(' ');
    std::string value(rest.substr(0, space));
    if (value.empty() || !keep(family)) continue;
    char* parse_end = nullptr;
    double v = std::strtod(value.c_str(), &parse_end);
    if (parse_end == value.c_str()) continue;
    f(series, v);
  }
}

}  // namespace sluice::loadgen
